#!/usr/bin/env bash
# Rebuild the small sample model packs committed in models/sample/ (used by the docs and checked
# by tests/cli/models_sample.sh, which rebuilds them and compares bytes): demo data at scale 0.02,
# seed 1, every affiliate trained for 3 epochs, exported as item packs + 4 customer shards.
#   bash scripts/build-models.sh [OUT_DIR (models/sample)] [PREFREC_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/models/sample}
bin=${2:-$here/build/native/prefrec}
[[ -x "$bin" ]] || { echo "build-models: no $bin (cmake --build --preset native)" >&2; exit 1; }
work=$(mktemp -d /tmp/prefrec-models.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin" gen --out "$work/data" --scale 0.02 --seed 1 --quiet
"$bin" train --data "$work/data" --affiliate all --epochs 3 --threads 2 --seed 1 --quiet \
  --out "$work/packs" >/dev/null
mkdir -p "$out"
rm -f "$out"/*.pack
for p in "$work"/packs/*.pack; do
  # version 1 (all f32) until the sample packs are rebuilt as version 2 (docs/model.md,
  # "Smaller packs"): the committed bytes stay what the web tests were written against
  "$bin" export --pack "$p" --out "$out" --shards 4 --pack-version 1 >/dev/null
done
ls "$out"/*.pack | wc -l | xargs echo "build-models: packs written to $out:"
