#!/usr/bin/env bash
# lists.sh - issue 14's figures for the served defaults at one scale: the fit time of the pack's
# extras (blend for discover, due for buy again, the mixed share; `prefrec train` prints it per
# affiliate) and the engine's request time per list kind for members served from their sealed
# records (bench_lists). Machine load is printed beside the figures.
#   bash bench/lists.sh [--scale 1] [--affiliate A01] [--threads 2]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scale=1 aff=A01 threads=2
while (($#)); do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --affiliate) aff=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "usage: bash bench/lists.sh [--scale S] [--affiliate A0x] [--threads T]" >&2; exit 2 ;;
  esac
done
bin=$here/build/native/prefrec
[[ -x $bin && -x $here/build/native/bench_lists ]] || { echo "lists.sh: build the native preset first" >&2; exit 1; }
work=$(mktemp -d /tmp/prefrec-lists.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "lists.sh: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), demo scale $scale, $aff, $threads threads"
"$bin" gen --out "$work/data" --scale "$scale" --seed 1 --quiet
"$bin" train --data "$work/data" --affiliate "$aff" --epochs 1 --threads "$threads" --seed 1 \
  --out "$work/full" 2>&1 | grep -E "served rankers|due: tuned|mixed: tuned" | sed 's/^/  /'
"$bin" export --pack "$work/full/$aff.pack" --out "$work/web" --shards 2 --records "$work/rec" \
  --data "$work/data" --token-key "$work/tok.key" 2>/dev/null | grep -E "member records" | sed 's/^/  /'
ls -l "$work/web/$aff.item.pack" | awk '{print "  item pack " $5 " bytes"}'
"$here/build/native/bench_lists" "$work/web/$aff.item.pack" "$work/rec" "$work/tok.key" "$work/data"
