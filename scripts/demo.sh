#!/usr/bin/env bash
# The main job on the built-in demo data: install what is missing, build, generate the demo data
# set and run the pipeline on it. Outputs go to demo/ (git-ignored).
#   PREFREC_SCALE=1 (default) ... demo data scale; PREFREC_SEED=1 ... generator seed
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scale=${PREFREC_SCALE:-1}
seed=${PREFREC_SEED:-1}
out=demo
bash scripts/setup.sh
echo "== build (native)"
cmake --preset native >/dev/null
cmake --build --preset native -j "$(nproc)" >/dev/null
bin=build/native/prefrec
mkdir -p "$out"

echo "== generate demo data: scale $scale, seed $seed -> $out/data"
"$bin" gen --out "$out/data" --scale "$scale" --seed "$seed"
echo "== summary"
"$bin" info --data "$out/data"
"$bin" info --data "$out/data" --json > "$out/info.json"
echo "demo: done (outputs in $out/)"
