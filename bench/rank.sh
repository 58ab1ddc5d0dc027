#!/usr/bin/env bash
# bench/rank.sh - prefrec's rankers (EASE, ItemKNN, ALS) against numpy/scipy references with the
# same hyper-parameters, on the same training matrix, with the same recall@20.
#   bash bench/rank.sh [--data PATH] [--affiliate CODE] [--scale 1] [--runs 3] [--ignore-load]
# PATH: an L.POINT directory or a mapping .json (e.g. bench/completejourney.json); without it,
# demo data at --scale. bench_rank fits each ranker --runs times (fresh fits, median) on all
# CPUs and writes the matrix it used; bench/rank_numpy.py does the same with numpy + OpenBLAS
# (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for its command alone). The two alternate
# --runs times; the table shows the medians of each run's median. Prints the peer's
# configuration (bench/peer_config.py), both recalls, and the ratios - or none when the peer is
# misconfigured or the machine was busy at the start (load average above 0.7).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data="" aff="" scale=1 runs=3 ignore_load=0
while (($#)); do
  case "$1" in
    --data) data=$2; shift 2 ;;
    --affiliate) aff=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --ignore-load) ignore_load=1; shift ;;
    *) echo "usage: bash bench/rank.sh [--data PATH] [--affiliate CODE] [--scale 1] [--runs 3] [--ignore-load]" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
"$py" -c "import numpy, scipy" 2>/dev/null || { echo "bench/rank.sh: needs python3-numpy and python3-scipy: run scripts/setup.sh --bench" >&2; exit 1; }
cd "$here"
load0=$(cut -d' ' -f1 /proc/loadavg)
cmake --preset native >/dev/null
cmake --build --preset native -j2 >/dev/null
work=$(mktemp -d /tmp/prefrec-bench-rank.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [[ -z "$data" ]]; then
  data=$work/data
  build/native/prefrec gen --out "$data" --scale "$scale" --seed 1 --quiet
fi
args=(--data "$data" --runs 1)
[[ -n "$aff" ]] && args+=(--affiliate "$aff")
echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, load average at start $load0"
build/native/bench_rank "${args[@]}" --out "$work" 2>&1 >/dev/null | sed 's/^bench_rank: /== /'
for i in $(seq 1 "$runs"); do
  build/native/bench_rank "${args[@]}" 2>/dev/null >>"$work/c.jsonl"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" bench/rank_numpy.py "$work" --runs 1 2>"$work/peer.txt" >>"$work/n.jsonl"
done
echo "== numpy/scipy peer configuration (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE unset for its command):"
grep '^peer:' "$work/peer.txt" | sed 's/^/   /'
load1=$(cut -d' ' -f1 /proc/loadavg)
"$py" - "$work/c.jsonl" "$work/n.jsonl" "$load0" "$load1" "$ignore_load" "$runs" <<'EOF'
import json, statistics as st, sys
c = [json.loads(l) for l in open(sys.argv[1])]
n = [json.loads(l) for l in open(sys.argv[2])]
load0, load1, ignore, runs = float(sys.argv[3]), float(sys.argv[4]), sys.argv[5] == "1", int(sys.argv[6])
problems = sorted({p for r in n for p in r["problems"]})
targets = {"ease": 2.0, "mf": 1.0, "itemknn": 1.0}
print(f"== fit seconds, medians of {runs} alternating runs ({c[0]['threads']} threads each); recall@{c[0]['k']} of new "
      f"products over {c[0]['users']} customers")
print(f"{'ranker':8s} {'prefrec s':>10s} {'numpy s':>10s} {'ratio':>7s} {'target':>7s} {'recall prefrec':>15s} {'recall numpy':>13s}")
why = []
if problems:
    why.append("peer misconfigured (" + "; ".join(problems) + ")")
if load0 > 0.7:
    why.append(f"machine busy (load average {load0} at the start, {load1} at the end)")
for name in ("ease", "itemknn", "mf"):
    ct = st.median(r["fit_seconds"] for r in c if r["ranker"] == name)
    nt = st.median(r["fit_seconds"] for r in n if r["ranker"] == name)
    cr = [r["recall"] for r in c if r["ranker"] == name][0]
    nr = [r["recall"] for r in n if r["ranker"] == name][0]
    ratio = f"{nt / ct:6.1f}x" if (not why or ignore) else "   n/a"
    print(f"{name:8s} {ct:10.3f} {nt:10.3f} {ratio:>7s} {'>= %.0fx' % targets[name]:>7s} {cr:15.4f} {nr:13.4f}")
if why:
    print("ratios: " + ("shown but NOT valid: " if ignore else "not printed: ") + "; ".join(why))
EOF
