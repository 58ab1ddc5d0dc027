#!/usr/bin/python3
"""bench/rank_numpy.py - the references for prefrec's rankers in numpy/scipy, on the exact matrix
and hyper-parameters bench_rank wrote (bench/rank.sh runs both):

  ease     Steck's EASE as users write it: G = X'X (scipy.sparse, binary X over the same
           products), G += lambda I, P = np.linalg.inv(G) (float64, OpenBLAS/LAPACK), B = -P / diag(P),
           diag(B) = 0.
  itemknn  cosine over co-purchase: C = X'X (scipy.sparse), sim = C / (sqrt(n_i n_j) + shrink),
           diagonal dropped, each product's `neighbours` best kept (argpartition per row).
  mf       implicit ALS (Hu, Koren, Volinsky) with the conjugate-gradient solve of the implicit
           library (3 CG steps per half-iteration, warm start), vectorised over all rows with
           scipy.sparse: the same dim, iterations, reg, alpha and confidence 1 + alpha log(1 + count).

Prints one JSON line per ranker: fit seconds (median of --runs), recall@k of the products each
evaluated customer bought in the test window and never before, history excluded (bench_rank's
definition). The peer's configuration goes to stderr first (bench/peer_config.py).
Usage: bench/rank_numpy.py DIR [--runs 3] [--threads T]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_config  # noqa: E402


def load(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    tr = np.loadtxt(os.path.join(d, "train.csv"), delimiter=",", skiprows=1, ndmin=2)
    te = np.loadtxt(os.path.join(d, "test.csv"), delimiter=",", skiprows=1, ndmin=2, dtype=np.int64)
    shape = (meta["n_customers"], meta["n_products"])
    cnt = sp.csr_matrix((tr[:, 2].astype(np.float32), (tr[:, 0].astype(np.int64), tr[:, 1].astype(np.int64))),
                        shape=shape)
    return meta, cnt, te


def fit_ease(meta, cnt):
    items = np.asarray(meta["ease"]["items"], dtype=np.int64)
    x = cnt[:, items]
    x.data[:] = 1.0
    g = (x.T @ x).toarray().astype(np.float64)
    g[np.diag_indices_from(g)] += meta["ease"]["lambda"]
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))
    b[np.diag_indices_from(b)] = 0.0
    return items, b


def fit_knn(meta, cnt):
    k, shrink = meta["itemknn"]["neighbours"], meta["itemknn"]["shrink"]
    x = cnt.copy()
    x.data[:] = 1.0
    x = x.astype(np.float32)
    c = (x.T @ x).tocsr()
    nb = np.asarray(x.sum(axis=0)).ravel()
    c = (c - sp.diags(c.diagonal())).tocsr()
    c.eliminate_zeros()
    coo = c.tocoo()
    sim = coo.data / (np.sqrt(nb[coo.row].astype(np.float64) * nb[coo.col]) + shrink)
    s = sp.csr_matrix((sim.astype(np.float32), (coo.row, coo.col)), shape=c.shape)
    rows, cols, vals = [], [], []
    for i in range(s.shape[0]):
        lo, hi = s.indptr[i], s.indptr[i + 1]
        if hi - lo > k:
            top = np.argpartition(-s.data[lo:hi], k - 1)[:k] + lo
        else:
            top = np.arange(lo, hi)
        rows.append(np.full(len(top), i))
        cols.append(s.indices[top])
        vals.append(s.data[top])
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=s.shape)


def als_half(cm1, conf, fixed, out, reg, cg_steps=3):
    """CG on (F'F + F' diag(c-1) F + reg I) x = F' c for every row at once (warm start out)."""
    rows = np.repeat(np.arange(cm1.shape[0]), np.diff(cm1.indptr))
    cols = cm1.indices
    ftf = fixed.T @ fixed

    def matvec(v):
        s = cm1.data * np.einsum("ij,ij->i", v[rows], fixed[cols])
        w = sp.csr_matrix((s, cols, cm1.indptr), shape=cm1.shape)
        return v @ ftf + reg * v + w @ fixed

    b = conf @ fixed
    x = out
    r = b - matvec(x)
    p = r.copy()
    rs = np.einsum("ij,ij->i", r, r)
    for _ in range(cg_steps):
        ap = matvec(p)
        den = np.einsum("ij,ij->i", p, ap)
        a = np.where(den > 0, rs / np.where(den > 0, den, 1), 0).astype(np.float32)
        x += a[:, None] * p
        r -= a[:, None] * ap
        rn = np.einsum("ij,ij->i", r, r)
        beta = np.where(rs > 0, rn / np.where(rs > 0, rs, 1), 0).astype(np.float32)
        p = r + beta[:, None] * p
        rs = rn
    return x


def fit_mf(meta, cnt):
    m = meta["mf"]
    d, reg, alpha = m["dim"], np.float32(m["reg"]), m["alpha"]
    cm1 = cnt.copy().astype(np.float32)
    cm1.data = (alpha * np.log1p(cm1.data)).astype(np.float32)
    conf = cm1.copy()
    conf.data = conf.data + np.float32(1)
    cm1t, conft = cm1.T.tocsr(), conf.T.tocsr()
    rng = np.random.default_rng(42)
    it = (0.1 * (rng.random((cnt.shape[1], d)) - 0.5)).astype(np.float32)
    cu = np.zeros((cnt.shape[0], d), dtype=np.float32)
    for _ in range(m["iterations"]):
        cu = als_half(cm1, conf, it, cu, reg)
        it = als_half(cm1t, conft, cu, it, reg)
    return cu, it


def recall(meta, cnt, te, score_fn):
    k = meta["k"]
    users = np.unique(te[:, 0])
    rel = {}
    for c, p in te:
        rel.setdefault(int(c), set()).add(int(p))
    nb = np.asarray((cnt > 0).sum(axis=0)).ravel().astype(np.float32)
    tie = np.float32(1e-6) * nb / max(nb.max(), 1)
    total = 0.0
    for lo in range(0, len(users), 512):
        us = users[lo:lo + 512]
        s = score_fn(us) + tie
        hist = cnt[us]
        s[np.repeat(np.arange(len(us)), np.diff(hist.indptr)), hist.indices] = -np.inf
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        for row, c in enumerate(us):
            r = rel[int(c)]
            total += len(r.intersection(top[row].tolist())) / min(k, len(r))
    return total / len(users) if len(users) else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=peer_config.cpus())
    a = ap.parse_args()
    problems = peer_config.report(a.threads)
    meta, cnt, te = load(a.dir)
    n_p = cnt.shape[1]

    def timed(fn):
        ts, res = [], None
        for _ in range(a.runs):
            t0 = time.perf_counter()
            res = fn(meta, cnt)
            ts.append(time.perf_counter() - t0)
        ts.sort()
        return ts[(len(ts) - 1) // 2], ts, res

    out = []
    t, ts, (items, b) = timed(fit_ease)
    xb = cnt[:, items]
    xb.data[:] = 1.0

    def ease_scores(us):
        s = np.full((len(us), n_p), -1000.0, dtype=np.float32)
        s[:, items] = (xb[us] @ b).astype(np.float32)
        return s
    out.append(("ease", t, ts, recall(meta, cnt, te, ease_scores)))
    t, ts, sim = timed(fit_knn)
    xk = cnt.copy()
    xk.data[:] = 1.0
    out.append(("itemknn", t, ts, recall(meta, cnt, te, lambda us: (xk[us] @ sim).toarray().astype(np.float32))))
    t, ts, (cu, it) = timed(fit_mf)
    out.append(("mf", t, ts, recall(meta, cnt, te, lambda us: cu[us] @ it.T)))
    for name, t, ts, rc in out:
        print(json.dumps({"impl": "numpy", "ranker": name, "fit_seconds": round(t, 4),
                          "fit_runs": [round(x, 4) for x in ts], "recall": round(rc, 5),
                          "users": int(len(np.unique(te[:, 0]))), "k": meta["k"], "threads": a.threads,
                          "problems": problems}), flush=True)


if __name__ == "__main__":
    main()
