#!/usr/bin/env bash
# bench/score.sh - the preference score and its validation table, native vs pandas, one run.
#
#   bash bench/score.sh [DATA_DIR] [PREFREC_BINARY]
#     DATA_DIR defaults to /tmp/demo1 (build/native/prefrec gen --out /tmp/demo1 --scale 1 --seed 1)
#
# Runs `prefrec score` (as of 2022-01-01) and `prefrec validate` (cut-off 2021-10-01) and then
# bench/score_pandas.py on the same L.POINT files; prints both times and their ratio, and has the
# pandas program check that every score (and every count of the validation table) agrees.
# Needs python3-pandas (scripts/setup.sh --bench). The machine may be shared: times are wall
# clock of one run each.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-/tmp/demo1}
bin=${2:-$here/build/native/prefrec}
[[ -x $bin ]] || { echo "score.sh: no binary at $bin (cmake --build --preset native)" >&2; exit 1; }
[[ -f $data/LPOINT_BIG_COMP_02_PDDE.csv ]] || { echo "score.sh: no L.POINT data in $data" >&2; exit 1; }
"${PYTHON:-/usr/bin/python3}" -c 'import pandas' 2>/dev/null || { echo "score.sh: python3-pandas missing (scripts/setup.sh --bench)" >&2; exit 1; }
py=${PYTHON:-/usr/bin/python3}   # Debian's python3 with python3-pandas
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

echo "data: $data ($(($(wc -l < "$data/LPOINT_BIG_COMP_02_PDDE.csv") - 1)) purchase rows); $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
t0=$(now)
"$bin" score --data "$data" --out "$tmp/native.csv" 2> "$tmp/score.err"
t1=$(now)
"$bin" validate --data "$data" --cutoff 2021-10-01 --end 2022-01-01 --json "$tmp/native.json" > "$tmp/validate.out" 2> "$tmp/validate.err"
t2=$(now)
cat "$tmp/score.err" "$tmp/validate.err"
cat "$tmp/validate.out"
t3=$(now)
"$py" "$here/bench/score_pandas.py" "$data" --asof 2022-01-01 --cutoff 2021-10-01 --end 2022-01-01 \
  --check-scores "$tmp/native.csv" --check-validate "$tmp/native.json" > "$tmp/pandas.out" && agree=yes || agree=NO
t4=$(now)
cat "$tmp/pandas.out"

# compute-only seconds: native from its stderr lines, pandas from its phase times
nat_score=$(sed -n 's/.*pairs scored as of [0-9-]* in \([0-9.]*\) s.*/\1/p' "$tmp/score.err")
nat_val=$(sed -n 's/.*scored and checked in \([0-9.]*\) s.*/\1/p' "$tmp/validate.err")
nat_load=$(sed -n 's/.* rows loaded in \([0-9.]*\) s.*/\1/p' "$tmp/score.err")
read -r pd_load pd_score pd_val < <(sed -n 's/^pandas-times load=\([0-9.]*\) score=\([0-9.]*\) validate=\([0-9.]*\)/\1 \2 \3/p' "$tmp/pandas.out")
"$py" - "$t0" "$t1" "$t2" "$t3" "$t4" "$nat_load" "$nat_score" "$nat_val" "$pd_load" "$pd_score" "$pd_val" "$agree" <<'PY'
import sys
t0, t1, t2, t3, t4, nl, ns, nv, pl, ps, pv = map(float, sys.argv[1:12])
agree = sys.argv[12]
nat, pdt = t2 - t0, t4 - t3
print()
print(f"{'':34s} {'native':>9s} {'pandas':>9s} {'ratio':>7s}")
print(f"{'load the CSV files (s)':34s} {nl:9.3f} {pl:9.3f} {pl / nl:6.1f}x   (native loads twice: score, validate)")
print(f"{'score as of 2022-01-01 (s)':34s} {ns:9.3f} {ps:9.3f} {ps / ns:6.1f}x")
print(f"{'validate, cut-off 2021-10-01 (s)':34s} {nv:9.3f} {pv:9.3f} {pv / nv:6.1f}x")
print(f"{'score + validate, compute (s)':34s} {ns + nv:9.3f} {ps + pv:9.3f} {(ps + pv) / (ns + nv):6.1f}x")
print(f"{'end to end, wall clock (s)':34s} {nat:9.3f} {pdt:9.3f} {pdt / nat:6.1f}x   (incl. process start, CSV out)")
print(f"scores agree on every pair and every table count: {agree}")
PY
[[ $agree == yes ]]
