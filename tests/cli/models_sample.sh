#!/usr/bin/env bash
# models_sample.sh - the sample packs committed in models/sample/ are exactly what
# scripts/build-models.sh makes from the current code (same inputs and seed, same bytes), and each
# serves a recommendation. Run as: bash models_sample.sh <prefrec-binary> <repo-root>
set -euo pipefail
bin=$1 root=$2
work=$(mktemp -d /tmp/prefrec-models-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ls "$root"/models/sample/*.item.pack >/dev/null 2>&1 || fail "no packs in models/sample"
bash "$root/scripts/build-models.sh" "$work/rebuilt" "$bin" >/dev/null 2>&1 || fail "build-models.sh"
# The committed packs come from the trainer's FMA kernels (AVX2 and AVX-512 give the same bits);
# a CPU without them trains with the portable kernel, whose packs differ by rounding
# (docs/model.md, "Kernels"): compare bytes only where the FMA kernels run.
if [[ $(uname -m) == x86_64 ]] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  for f in "$root"/models/sample/*.pack; do
    cmp -s "$f" "$work/rebuilt/$(basename "$f")" ||
      fail "models/sample/$(basename "$f") differs from a rebuild: run scripts/build-models.sh"
  done
else
  echo "models_sample.sh: no AVX2+FMA on this CPU: rebuilt packs not compared byte for byte" >&2
fi
[[ $(ls "$work"/rebuilt/*.pack | wc -l) == $(ls "$root"/models/sample/*.pack | wc -l) ]] || fail "pack count differs"
for item in "$root"/models/sample/*.item.pack; do
  "$bin" recommend --pack "$item" --gender F --age 35 --k 5 --json >"$work/r.json" || fail "serve $item"
  grep -q '"ok":true' "$work/r.json" || fail "serve $item"
done
echo "models_sample.sh: $(ls "$root"/models/sample/*.pack | wc -l) packs rebuilt byte for byte"
