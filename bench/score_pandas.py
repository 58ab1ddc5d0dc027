#!/usr/bin/env python3
"""The preference score and its validation table, as a straightforward pandas groupby program.

The same definition as src/score/score.c (docs/score.md), written the way an analyst would with
pandas, as the peer for bench/score.sh. Reads the L.POINT layout (02_PDDE + 04_PD_CLAC).

  python3 bench/score_pandas.py DIR [--asof 2022-01-01] [--cutoff 2021-10-01] [--end 2022-01-01]
          [--out scores.csv] [--check-scores native.csv] [--check-validate native.json]

Prints the time of each phase (load, score, validate) and the validation table; with --check-*
compares every score with the native CSV and every count with the native JSON, and exits 1 on a
difference.
"""
import argparse
import json
import sys
import time

import numpy as np
import pandas as pd

BUY_CUTS = [2, 3, 5, 8, 12]
CLAC_CUTS = [0.02, 0.05, 0.10, 0.20, 0.40]
RANGE_CUTS = [0.25, 0.5, 1.0, 2.0, 4.0]
W_BUY, W_CLAC, W_RANGE = 2.0, 1.0, 1.0
EPOCH = pd.Timestamp("1970-01-01")


def day(s):
    return (pd.Timestamp(s) - EPOCH).days


def level(v, cuts):
    """Number of cuts c with v >= c; NaN -> 0."""
    v = np.asarray(v, dtype=np.float64)
    out = np.searchsorted(np.asarray(cuts, dtype=np.float64), v, side="right")
    out[np.isnan(v)] = 0
    return out.astype(np.int64)


def load(d):
    tx = pd.read_csv(f"{d}/LPOINT_BIG_COMP_02_PDDE.csv", usecols=["cust", "cop_c", "pd_c", "de_dt"],
                     dtype={"cust": str, "cop_c": str, "pd_c": str, "de_dt": str})
    tx["day"] = (pd.to_datetime(tx["de_dt"], format="%Y%m%d") - EPOCH).dt.days
    tx = tx.drop(columns="de_dt")
    cat = pd.read_csv(f"{d}/LPOINT_BIG_COMP_04_PD_CLAC.csv", usecols=["pd_c", "clac_hlv_nm"],
                      dtype=str)
    return tx, cat


def score(tx, cat, asof):
    # a purchase = a distinct (affiliate, customer, product, day) before as-of
    occ = tx[tx["day"] < asof].drop_duplicates(["cop_c", "cust", "pd_c", "day"])
    g = (occ.groupby(["cop_c", "cust", "pd_c"], sort=True)["day"]
         .agg(count="size", first="min", last="max").reset_index())
    g = g.merge(cat, on="pd_c", how="left")
    has_cat = g["clac_hlv_nm"].notna()
    catkey = g["clac_hlv_nm"].fillna("\0none")
    # low_clac: the customer's occasions in the product's top category / all their occasions
    total = g.groupby(["cop_c", "cust"])["count"].transform("sum")
    in_cat = g.groupby([g["cop_c"], g["cust"], catkey])["count"].transform("sum")
    g["clac_share"] = np.where(has_cat, in_cat / total, np.nan)
    # range: mean interval, else the largest mean interval of the category, else of the affiliate
    g["range_mean"] = np.where(g["count"] >= 2,
                               (g["last"] - g["first"]) / (g["count"] - 1).clip(lower=1), np.nan)
    cat_max = g.groupby([g["cop_c"], catkey])["range_mean"].transform("max")
    aff_max = g.groupby("cop_c")["range_mean"].transform("max")
    g["interval"] = g["range_mean"].fillna(cat_max).fillna(aff_max)
    g["range_ratio"] = (asof - g["last"]) / g["interval"]
    g["buy_level"] = level(g["count"], BUY_CUTS)
    g["low_clac"] = level(g["clac_share"], CLAC_CUTS)
    g["range_score"] = level(g["range_ratio"], RANGE_CUTS)
    num = W_BUY * g["buy_level"] + W_RANGE * g["range_score"] + np.where(has_cat, W_CLAC * g["low_clac"], 0)
    den = W_BUY + W_RANGE + np.where(has_cat, W_CLAC, 0)
    g["score"] = num / den
    return g


def validate(tx, cat, cutoff, end):
    g = score(tx, cat, cutoff)
    later = tx[(tx["day"] >= cutoff) & (tx["day"] < end)][["cop_c", "cust", "pd_c"]].drop_duplicates()
    later["bought"] = 1
    g = g.merge(later, on=["cop_c", "cust", "pd_c"], how="left")
    g["bought"] = g["bought"].fillna(0).astype(np.int64)
    table = {}
    for aff, part in g.groupby("cop_c"):
        pairs, bought = [], []
        for t in np.arange(10) * 0.5:
            sel = part["score"] >= t - 1e-6
            pairs.append(int(sel.sum()))
            bought.append(int(part.loc[sel, "bought"].sum()))
        table[aff] = {"pairs": pairs, "bought": bought}
    return table


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--asof", default="2022-01-01")
    ap.add_argument("--cutoff", default="2021-10-01")
    ap.add_argument("--end", default="2022-01-01")
    ap.add_argument("--out")
    ap.add_argument("--check-scores")
    ap.add_argument("--check-validate")
    a = ap.parse_args()

    t0 = time.perf_counter()
    tx, cat = load(a.dir)
    t1 = time.perf_counter()
    g = score(tx, cat, day(a.asof))
    t2 = time.perf_counter()
    table = validate(tx, cat, day(a.cutoff), day(a.end))
    t3 = time.perf_counter()
    if a.out:
        g[["cop_c", "cust", "pd_c", "count", "buy_level", "low_clac", "range_score", "score"]].to_csv(a.out, index=False)
    print(f"pandas: {len(tx)} rows loaded in {t1 - t0:.3f} s; {len(g)} pairs scored in {t2 - t1:.3f} s; "
          f"validated in {t3 - t2:.3f} s")
    print(f"pandas-times load={t1 - t0:.3f} score={t2 - t1:.3f} validate={t3 - t2:.3f}")
    for aff in sorted(table):
        r = table[aff]
        rates = " ".join(f"{b / p:.3f}" if p else "  -  " for b, p in zip(r["bought"], r["pairs"]))
        print(f"  {aff} {rates}")

    ok = True
    if a.check_scores:
        nat = pd.read_csv(a.check_scores, dtype={"affiliate": str, "customer": str, "product": str},
                          keep_default_na=False, na_values=[""])
        m = g.merge(nat, left_on=["cop_c", "cust", "pd_c"], right_on=["affiliate", "customer", "product"],
                    how="outer", indicator=True, suffixes=("", "_native"))
        only = (m["_merge"] != "both").sum()
        both = m[m["_merge"] == "both"]
        diff = ((both["count"] != both["count_native"]) | (both["buy_level"] != both["buy_level_native"])
                | (both["low_clac"] != both["low_clac_native"])
                | (both["range_score"] != both["range_score_native"])
                | ((both["score"] - both["score_native"]).abs() > 1e-5))
        print(f"check scores: {len(g)} pandas pairs, {len(nat)} native pairs, {only} in one only, "
              f"{int(diff.sum())} differ")
        if only or diff.any():
            ok = False
            print(both[diff].head(10).to_string(), file=sys.stderr)
    if a.check_validate:
        with open(a.check_validate) as f:
            nat = json.load(f)
        bad = []
        for aff in sorted(set(table) | set(nat["affiliates"])):
            p, n = table.get(aff), nat["affiliates"].get(aff)
            if not p or not n or p["pairs"] != n["pairs"] or p["bought"] != n["bought"]:
                bad.append(aff)
        print(f"check validate: {len(table)} affiliates, differing: {bad if bad else 'none'}")
        ok = ok and not bad
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
