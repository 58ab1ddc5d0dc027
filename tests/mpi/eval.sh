#!/usr/bin/env bash
# eval.sh - `mpirun -n N prefrec eval` (the native-mpi build, docs/mpi.md) gives the one-process
# figures for N = 1, 2, 3: the JSON, the HTML page and the terminal table are the one-process
# bytes but for the seconds each ranker took (timings: they differ from one run to the next in
# one process too, and are blanked before comparing), with the default rankers, tuning on the
# validation window and the bootstrap interval; the other sharded rankers (ease tuned on its grid)
# and --affiliate too.
# mf (ALS) and rp3beta, whose item-side sums over customers are exact (the 2^-64 grid,
# src/rank/rank_exact.h), give the one-process bytes too (untuned, small, so quick).
# tifu_knn and upcf (the customer records passed round the ranks) give the one-process bytes,
# tuned; neumf and neumf_blend300 (train's data-parallel NeuMF) the one-process figures within a
# tolerance, the other rankers' beside them exactly.
# A ranker that is not sharded is refused by name before any work; a bad purchase line owned by
# a rank other than 0 ends the job with the one-process file:line error and writes nothing.
# The one-process outputs come from the same binary with PREFREC_ONE_PROCESS=1.
# Run as: bash eval.sh <prefrec-binary> <repo-root> <mpiexec>
set -uo pipefail
bin=$(realpath "$1")
mpiexec=${3:-mpirun}
# shellcheck source=common.bash
source "$(dirname "$0")/common.bash" # $work, bad, ok, run, one

"$bin" gen --out "$work/d" --scale 0.01 --seed 3 --quiet || exit 1
f=LPOINT_BIG_COMP_02_PDDE.csv

# the outputs without their timings: the JSON's fit/rank/tune_seconds objects, the HTML's time
# table rows, the table's last column (a ranker's fit seconds)
blank() {
  sed -E 's/"(fit|rank|tune)_seconds": \{[^}]*\}/"seconds"/' "$1.json" >"$1.json.b"
  sed -E 's#^(<tr><td>[a-z0-9_]+</td>)(<td>[0-9.]+</td>){3}</tr>$#\1#' "$1.html" >"$1.html.b"
  sed -E 's/ +[0-9]+\.[0-9]{2}$//' "$1.txt" >"$1.txt.b"
}
same() { cmp -s "$work/$1.json.b" "$work/$2.json.b" && cmp -s "$work/$1.html.b" "$work/$2.html.b" &&
  cmp -s "$work/$1.txt.b" "$work/$2.txt.b"; }

# the default rankers, tuned on the validation window, with the bootstrap interval
opts=(--data "$work/d" --windows 1 --step 45 --bootstrap 50 --seed 9)
one "$bin" eval "${opts[@]}" --json "$work/one.json" --html "$work/one.html" >"$work/one.txt" \
  2>"$work/one.err" || bad "one-process eval failed: $(tail -3 "$work/one.err")"
blank "$work/one"
# what is compared is real: every default ranker measured, grids tuned, intervals drawn
python3 - "$work/one.json" <<'EOF' && ok "one process: 9 rankers, intervals" || bad "one-process JSON (above)"
import json, sys
d = json.load(open(sys.argv[1]))
names = set(d["fit_seconds"])
assert names == {"pop", "pop_seg", "gp_topfreq", "itemknn", "rep_freq", "seed_score",
                 "blend_served", "due", "mixed"}, names
assert d["bootstrap"] == 50
assert d["new_items"]["overall"]["blend_served"]["users"] > 100, d["new_items"]["overall"]
iv = d["intervals"]["new_items"]["overall"]
assert iv is not None and iv["lo"] <= iv["diff"] <= iv["hi"], iv
EOF
# the served rankers tune themselves on the validation quarter (sums in the customer order)
grep -q "blend: tuned on" "$work/one.err" && grep -q "mixed: tuned on" "$work/one.err" ||
  bad "one process: the blend and mixed were not tuned"
[[ $(grep -c '"seconds"' "$work/one.json.b") -eq 3 && $(wc -l <"$work/one.txt.b") -ge 20 ]] ||
  bad "the timings were not found to blank: $(head -3 "$work/one.txt")"
for n in 1 2 3; do
  rm -f "$work/n.json" "$work/n.html"
  if run "$n" "$bin" eval "${opts[@]}" --json "$work/n.json" --html "$work/n.html" >"$work/n.txt" \
    2>"$work/err"; then
    blank "$work/n"
    same one n && ok "default rankers, tuned, bootstrap 50, $n ranks: the one-process JSON, HTML and table" ||
      bad "default rankers, $n ranks: differs from one process: $(diff "$work/one.json.b" "$work/n.json.b" | head -5)"
    grep -q "prefrec eval: $n ranks: largest peak memory .* MB sent between ranks" "$work/err" ||
      bad "$n ranks: no summary line"
  else
    bad "default rankers, $n ranks failed: $(tail -c 300 "$work/err")"
  fi
done

# the other sharded rankers but blend (its fits take minutes on 3 ranks here; checked by hand,
# docs/mpi.md), one affiliate; ease has a grid: eval tunes it on the validation window (rank 0
# chooses from every rank's users and sends the choice)
opts=(--data "$work/d" --windows 2 --step 45 --bootstrap 50 --rankers g_topfreq,p_topfreq,rep_recency,ease,pop
  --default ease --affiliate A06)
one "$bin" eval "${opts[@]}" --json "$work/one.json" --html "$work/one.html" >"$work/one.txt" 2>/dev/null ||
  bad "one-process eval (other rankers) failed"
blank "$work/one"
python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['tuning']; assert len(t) >= 4 and all(x['ranker'] == 'ease' for x in t), t" \
  "$work/one.json" || bad "one process: ease was not tuned"
for n in 2 3; do
  run "$n" "$bin" eval "${opts[@]}" --json "$work/n.json" --html "$work/n.html" >"$work/n.txt" 2>"$work/err" &&
    blank "$work/n" && same one n && ok "g_topfreq, p_topfreq, rep_recency, ease tuned, --affiliate A06, $n ranks: the one-process outputs" ||
    bad "other rankers, $n ranks: $(tail -c 300 "$work/err")"
done

# mf (ALS: the item half-step from exact sums, the item factors gathered) and rp3beta (its
# weighted co-purchases exchanged as exact sums), untuned (mf's defaults: dim 32, 10 iterations,
# about a second a fit here), two windows, the bootstrap interval against mf
opts=(--data "$work/d" --windows 2 --step 45 --bootstrap 20 --no-tune --rankers mf,rp3beta,pop
  --default mf)
one "$bin" eval "${opts[@]}" --json "$work/one.json" --html "$work/one.html" >"$work/one.txt" 2>/dev/null ||
  bad "one-process eval (mf, rp3beta) failed"
blank "$work/one"
python3 - "$work/one.json" <<'EOF2' && ok "one process: mf and rp3beta measured" || bad "one-process JSON (mf, rp3beta, above)"
import json, sys
d = json.load(open(sys.argv[1]))
o = d["new_items"]["overall"]
assert set(o) == {"mf", "rp3beta", "pop"}, o.keys()
assert o["mf"]["users"] > 100 and o["mf"]["recall"] > 0 and o["rp3beta"]["recall"] > 0, o
assert o["mf"]["recall"] != o["pop"]["recall"] and o["rp3beta"]["recall"] != o["pop"]["recall"], o
EOF2
for n in 1 2 3; do
  rm -f "$work/n.json" "$work/n.html"
  run "$n" "$bin" eval "${opts[@]}" --json "$work/n.json" --html "$work/n.html" >"$work/n.txt" 2>"$work/err" &&
    blank "$work/n" && same one n && ok "mf, rp3beta, 2 windows, $n ranks: the one-process JSON, HTML and table" ||
    bad "mf, rp3beta, $n ranks: $(diff "$work/one.json.b" "$work/n.json.b" | head -5) $(tail -c 300 "$work/err")"
done

# tifu_knn and upcf (their customers' lists made in the fit, the customer records passed round
# the ranks: rank_dist_ring; neighbours by (distance, global key), sums exact), tuned on their
# grids (tifu_knn's k 100 keeps fewer neighbours than A02's customers), the bootstrap against upcf
opts=(--data "$work/d" --windows 1 --step 45 --bootstrap 20 --seed 9 --rankers tifu_knn,upcf,pop
  --default upcf)
one "$bin" eval "${opts[@]}" --json "$work/one.json" --html "$work/one.html" >"$work/one.txt" 2>/dev/null ||
  bad "one-process eval (tifu_knn, upcf) failed"
blank "$work/one"
python3 - "$work/one.json" <<'EOF4' && ok "one process: tifu_knn and upcf measured and tuned" || bad "one-process JSON (tifu_knn, upcf, above)"
import json, sys
d = json.load(open(sys.argv[1]))
o = d["new_items"]["overall"]
assert set(o) == {"tifu_knn", "upcf", "pop"}, o.keys()
assert o["tifu_knn"]["recall"] > 0 and o["upcf"]["recall"] > 0 and o["upcf"]["users"] > 100, o
t = {(x["ranker"], x["params"]) for x in d["tuning"]}
assert ("tifu_knn", "k=100 m=7 r_b=0.9 r_g=0.7 alpha=0.5") in t and any(r == "upcf" for r, _ in t), t
EOF4
for n in 1 2 3; do
  rm -f "$work/n.json" "$work/n.html"
  run "$n" "$bin" eval "${opts[@]}" --json "$work/n.json" --html "$work/n.html" >"$work/n.txt" 2>"$work/err" &&
    blank "$work/n" && same one n && ok "tifu_knn, upcf, tuned, $n ranks: the one-process JSON, HTML and table" ||
    bad "tifu_knn, upcf, $n ranks: $(diff "$work/one.json.b" "$work/n.json.b" | head -5) $(tail -c 300 "$work/err")"
done

# neumf and neumf_blend300: the NeuMF fitted as train fits it on several ranks (the sharded
# score, the hashed split, the data-parallel trainer: src/eval/rank_neumf.c), whose weights are
# not the one-process bits (docs/mpi.md, "train"). So: every figure of the other rankers (pop) is
# the one-process figure, each NeuMF ranker's overall recall and NDCG per task within 0.03 of one
# process (measured: at most 0.0145 at -n 1, 2, 3 here), the same users counted, and -n 2 twice
# gives the same bytes. The best baseline and the interval may be the NeuMF's: not compared.
opts=(--data "$work/d" --windows 1 --step 45 --bootstrap 20 --no-tune --seed 9
  --rankers neumf,neumf_blend300,pop --default pop)
one "$bin" eval "${opts[@]}" --json "$work/one.json" >/dev/null 2>&1 || bad "one-process eval (neumf) failed"
k=0
for n in 2 3 2; do
  k=$((k + 1))
  if run "$n" "$bin" eval "${opts[@]}" --json "$work/nm$k.json" >/dev/null 2>"$work/err"; then
    python3 - "$work/one.json" "$work/nm$k.json" <<'EOF3' && ok "neumf, neumf_blend300, $n ranks: pop's figures the one-process ones, the NeuMF's within 0.03" ||
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
def strip(d):
    if isinstance(d, dict):
        return {k: strip(v) for k, v in d.items() if "neumf" not in k and not k.endswith("_seconds")
                and k not in ("best", "intervals")}
    return d
assert strip(a) == strip(b), "the figures without the NeuMF differ"
worst = 0
for t in ("new_items", "repurchase", "mixed"):
    for r, v in a[t]["overall"].items():
        if "neumf" not in r:
            continue
        w = b[t]["overall"][r]
        assert v["users"] == w["users"] and v["users"] > 100, (t, r, v, w)
        for f in ("recall", "ndcg"):
            assert v[f] > 0 and abs(v[f] - w[f]) <= 0.03, (t, r, f, v[f], w[f])
            worst = max(worst, abs(v[f] - w[f]))
print("   largest difference", round(worst, 6))
EOF3
      bad "neumf, $n ranks: (above)"
  else
    bad "neumf, $n ranks failed: $(tail -c 300 "$work/err")"
  fi
done
secs='s/"(fit|rank|tune)_seconds": \{[^}]*\}/"seconds"/'
cmp -s <(sed -E "$secs" "$work/nm1.json") <(sed -E "$secs" "$work/nm3.json") &&
  ok "neumf, 2 ranks twice: the same JSON (but the seconds)" ||
  bad "neumf, 2 ranks twice: differs: $(diff "$work/nm1.json" "$work/nm3.json" | head -4)"

# a ranker that is not sharded: refused by name before any work (the data path does not exist)
rm -f "$work/n.json"
if run 2 "$bin" eval --data "$work/nothing" --rankers pop,bpr --json "$work/n.json" >/dev/null 2>"$work/err"; then
  bad "bpr on 2 ranks: exit 0"
else
  grep -q "ranker 'bpr' is not sharded (its SGD is one stream of steps.*): on several ranks eval runs pop,pop_seg,.*; run it in one process" "$work/err" &&
    ! grep -q "nothing" "$work/err" && [[ ! -e "$work/n.json" && $(grep -c "error:" "$work/err") -eq 1 ]] &&
    ok "bpr on 2 ranks: refused by name before loading: $(head -c 120 "$work/err")..." ||
    bad "bpr on 2 ranks: $(head -c 400 "$work/err")"
fi

# a bad date on a line of a customer owned by rank 1 of 2 and rank 2 of 3 (fnv1a32(code) % N,
# the sharded load's rule), in the second half of the file: the one-process message, no output
at=$(python3 - "$work/d/$f" <<'EOF'
import sys
def fnv(s):
    h = 2166136261
    for b in s.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h
lines = open(sys.argv[1]).read().splitlines()
for i in range(len(lines) // 2, len(lines)):
    h = fnv(lines[i].split(",")[0])
    if h % 2 == 1 and h % 3 == 2:
        print(i + 1)
        break
EOF
)
mkdir -p "$work/bad" && cp "$work/d"/*.csv "$work/bad/"
awk -F, -v OFS=, -v at="$at" 'NR == at { $7 = "2021-13-45" } { print }' "$work/d/$f" >"$work/bad/$f"
one "$bin" eval --data "$work/bad" --windows 1 --step 45 --json "$work/one.json" >/dev/null 2>"$work/one.err" &&
  bad "one process took the bad date"
grep -q "$f:$at:.*bad date" "$work/one.err" || bad "one-process error does not name line $at: $(cat "$work/one.err")"
for n in 2 3; do
  rm -f "$work/n.json" "$work/n.html"
  if run "$n" "$bin" eval --data "$work/bad" --windows 1 --step 45 --json "$work/n.json" --html "$work/n.html" \
    >"$work/n.txt" 2>"$work/err"; then
    bad "bad date, $n ranks: exit 0"
  else
    grep -Fq "$(grep error: "$work/one.err")" "$work/err" && [[ $(grep -c "error:" "$work/err") -eq 1 ]] &&
      ok "bad date (rank $((n - 1))'s customer), $n ranks: $(grep error: "$work/one.err")" ||
      bad "bad date, $n ranks: not the one-process error: $(head -c 400 "$work/err")"
    if [[ -e "$work/n.json" || -e "$work/n.html" || -s "$work/n.txt" ]] || ls -a "$work" | grep -q 'tmp'; then
      bad "bad date, $n ranks: an output or temp file was written"
    else
      ok "bad date, $n ranks: no output written"
    fi
  fi
done
[[ $fails -eq 0 ]] && echo "eval: all ok" || echo "eval: $fails failure(s)"
exit $((fails > 0))
