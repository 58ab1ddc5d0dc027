#!/usr/bin/env bash
# Do two prefrec binaries give the same outputs? Runs the demo pipeline (gen at scale 0.05,
# info, score, validate, train, eval, export) with each binary and compares every output byte
# for byte (JSON files with their timing fields removed; HTML pages are not compared, they
# print times). Used to show that a refactoring changed nothing (issue 15).
#   bash scripts/same-outputs.sh OLD_BINARY NEW_BINARY [WORK_DIR]
# Exit 0 and "same: N files" when everything matches, else a DIFF line per file and exit 1.
# PREFREC_KERNEL=portable in the environment makes training use the portable kernel (the bits
# of binaries older than the AVX2/AVX-512 kernels).
set -uo pipefail
[[ $# -ge 2 ]] || { sed -n 2,9p "$0" >&2; exit 2; }
old=$(realpath "$1"); new=$(realpath "$2")
work=${3:-$(mktemp -d /tmp/prefrec-same.XXXXXX)}
mkdir -p "$work"

run() { # BIN OUT
  local bin=$1 out=$2
  rm -rf "$out"; mkdir -p "$out/report" "$out/models"
  "$bin" gen --out "$out/data" --scale 0.05 --seed 1 --quiet >/dev/null || return 1
  "$bin" info --data "$out/data" --json >"$out/report/info.json" 2>/dev/null || return 1
  "$bin" score --data "$out/data" --out "$out/scores.csv" >/dev/null 2>&1 || return 1
  "$bin" validate --data "$out/data" --cutoff 2021-10-01 --end 2022-01-01 \
    --json "$out/report/validate.json" --svg "$out/report/validate.svg" >/dev/null 2>&1 || return 1
  "$bin" train --data "$out/data" --affiliate all --threads 2 --seed 1 --out "$out/packs" \
    --json "$out/report/train.json" --quiet >/dev/null 2>&1 || return 1
  "$bin" eval --data "$out/data" --cutoff 2021-10-01 --threads 2 --seed 1 \
    --json "$out/report/eval.json" >/dev/null 2>&1 || return 1
  for p in "$out"/packs/*.pack; do
    "$bin" export --pack "$p" --out "$out/models" --shards 4 >/dev/null || return 1
  done
}
for side in old new; do
  bin=$old; [[ $side == new ]] && bin=$new
  echo "same-outputs: $side: $bin"
  run "$bin" "$work/$side" || { echo "same-outputs: the $side binary failed (outputs in $work/$side)" >&2; exit 1; }
done

rc=0; n=0
while IFS= read -r f; do
  n=$((n + 1))
  case $f in
    *.json)
      python3 - "$work/old/$f" "$work/new/$f" <<'PY' || { echo "DIFF $f"; rc=1; }
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items()
                if k not in ('seconds', 'seconds_per_epoch', 'source', 'timing') and not k.endswith('_seconds')}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if strip(a) == strip(b) else 1)
PY
      ;;
    *) cmp -s "$work/old/$f" "$work/new/$f" || { echo "DIFF $f"; rc=1; } ;;
  esac
done < <(cd "$work/old" && find . -path ./data -prune -o -type f -print | sort)
for f in $(cd "$work/new" && find . -path ./data -prune -o -type f -print | sort); do
  [[ -e "$work/old/$f" ]] || { echo "ONLY NEW $f"; rc=1; }
done
((rc == 0)) && echo "same: $n files (packs, shards, scores.csv, validate, train, eval, info)"
exit $rc
