#!/bin/bash
# bench/ingest.sh - rows per second reading the generated LPOINT_BIG_COMP_02_PDDE.csv: the native
# loader (bench_ingest, built by the native preset) and pandas read_csv (Debian's python3-pandas),
# on the same file in the same run, and their ratio.
#   bash bench/ingest.sh [DIR] [--repeat N]
# DIR defaults to /tmp/demo1, generated with `prefrec gen --scale 1 --seed 1` when missing.
# The native figure is a full load (ids interned, dates and numbers parsed, rows checked against
# the catalog, columns built) of a directory holding 01, 02 and 04 (06 left out, so the time is
# the purchase file's); pandas gets the 02 file alone. The native load runs as prefrec loads by
# default (threads automatic: two when a CPU is idle, else one) and with one thread; both figures
# and ratios are printed. Wall time depends on what else runs on the machine; CPU seconds (all
# threads) are printed too. --repeat N: best of N runs for every side.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=/tmp/demo1
REPEAT=1
while [ $# -gt 0 ]; do
    case $1 in
    --repeat) REPEAT=$2; shift 2 ;;
    *) DIR=$1; shift ;;
    esac
done
BIN=${PREFREC_BIN:-$ROOT/build/native/prefrec}
BENCH=${PREFREC_BENCH_INGEST:-$ROOT/build/native/bench_ingest}
[ -x "$BENCH" ] || { echo "build first: cmake --preset native && cmake --build --preset native -j2" >&2; exit 2; }
if [ ! -f "$DIR/LPOINT_BIG_COMP_02_PDDE.csv" ]; then
    echo "generating $DIR (scale 1, seed 1)" >&2
    "$BIN" gen --out "$DIR" --scale 1 --seed 1 --quiet
fi
LINK=$(mktemp -d /tmp/prefrec_bench_ingest.XXXXXX)
trap 'rm -rf "$LINK"' EXIT
for f in 01_DEMO 02_PDDE 04_PD_CLAC; do
    ln -s "$(cd "$DIR" && pwd)/LPOINT_BIG_COMP_$f.csv" "$LINK/"
done
FILE=$DIR/LPOINT_BIG_COMP_02_PDDE.csv
echo "file: $FILE ($(du -h "$FILE" | cut -f1)), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
NATIVE=$("$BENCH" "$LINK" --repeat "$REPEAT")
ONE=$("$BENCH" "$LINK" --repeat "$REPEAT" --load-only --threads 1)
PANDAS=$(/usr/bin/python3 "$ROOT/bench/ingest_pandas.py" "$FILE" --repeat "$REPEAT")
echo "$NATIVE"
echo "$ONE"
echo "$PANDAS"
field() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" <<<"$1"; }
LOAD=$(grep '^load' <<<"$NATIVE")
nr=$(field "$LOAD" rows) pr=$(field "$PANDAS" rows)
[ "$nr" = "$pr" ] || echo "warning: row counts differ (native $nr, pandas $pr)"
awk -v nw="$(field "$LOAD" wall)" -v nc="$(field "$LOAD" cpu)" -v ow="$(field "$ONE" wall)" \
    -v oc="$(field "$ONE" cpu)" -v pw="$(field "$PANDAS" wall)" -v pc="$(field "$PANDAS" cpu)" \
    -v rows="$nr" 'BEGIN {
    printf "native load (default): %12.0f rows/s (wall)  %12.0f rows/s (cpu)\n", rows / nw, rows / nc
    printf "native load (1 thread):%12.0f rows/s (wall)  %12.0f rows/s (cpu)\n", rows / ow, rows / oc
    printf "pandas read_csv:       %12.0f rows/s (wall)  %12.0f rows/s (cpu)\n", rows / pw, rows / pc
    printf "ratio native/pandas: %.1fx (wall), %.1fx (cpu); 1 thread: %.1fx (wall), %.1fx (cpu)\n",
           pw / nw, pc / nc, pw / ow, pc / oc }'
