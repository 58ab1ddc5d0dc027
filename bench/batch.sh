#!/usr/bin/env bash
# bench/batch.sh - campaign batches: members per second of `prefrec recommend` and each
# `prefrec plan` over every member (--all), at 1 and 2 threads.
#
#   bash bench/batch.sh [PACK_DIR] [PREFREC_BINARY]
#     PACK_DIR defaults to models/sample (exported item packs + customer shards; scale 0.02);
#     models/ after scripts/demo.sh holds the scale-1 set. Full packs (prefrec train) work too.
#   AFF=A02 (the affiliate recommend, subscribe and stamp serve)  REPEAT=3 (runs per figure)
#   FORMAT=csv|jsonl (csv)
#
# Members per second are the batch's own figure (its --verbose summary: members / seconds from
# the first request to the last line written; the packs' loading is not counted), best of REPEAT
# runs; the CPU seconds (user + system) and wall time of that whole command (loading included)
# are printed beside it. The outputs of 1 and 2 threads are compared (they must be the same
# bytes). The machine may be shared: the load average is printed with the figures, and the CPU
# seconds do not depend on it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
packs=${1:-$here/models/sample}
bin=${2:-$here/build/native/prefrec}
aff=${AFF:-A02}
repeat=${REPEAT:-3}
format=${FORMAT:-csv}
[[ -x $bin ]] || { echo "batch.sh: no binary at $bin (cmake --build --preset native)" >&2; exit 1; }
[[ -d $packs ]] || { echo "batch.sh: no pack directory $packs" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "packs: $packs ($(ls "$packs"/*.pack | wc -l) files); $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg); format $format"
printf '%-34s %8s %8s %10s %8s %8s\n' "batch" "members" "threads" "members/s" "cpu s" "wall s"
runs=("recommend --affiliate $aff" "plan ratio" "plan subscribe --affiliate $aff" "plan stamp --affiliate $aff")
for r in "${runs[@]}"; do
  for t in 1 2; do
    best=0 wall=0 cpu=0 n=0
    for ((k = 0; k < repeat; k++)); do
      # shellcheck disable=SC2086
      { TIMEFORMAT='%U %S %R'; time "$bin" $r --pack "$packs" --all --threads $t --format "$format" \
          --out "$tmp/t$t.out" --verbose 2> "$tmp/err"; } 2> "$tmp/time" || { cat "$tmp/err" >&2; exit 1; }
      line=$(tail -1 "$tmp/err")
      n=$(sed -n 's|.*: \([0-9]*\)/[0-9]* members, .*|\1|p' <<< "$line")
      rate=$(sed -n 's|.* members, \([0-9]*\) members/s.*|\1|p' <<< "$line")
      if ((rate > best)); then
        best=$rate
        read -r u sy wall < "$tmp/time"
        cpu=$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')
      fi
    done
    printf '%-34s %8s %8s %10s %8.2f %8.2f\n' "$r" "$n" "$t" "$best" "$cpu" "$wall"
  done
  cmp -s "$tmp/t1.out" "$tmp/t2.out" || { echo "batch.sh: $r: 1 and 2 threads differ" >&2; exit 1; }
done
