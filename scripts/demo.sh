#!/usr/bin/env bash
# The main job on the built-in demo data: install what is missing, build, generate the demo
# data set, then score, validate, train, evaluate and export the model packs the web demo serves.
#   PREFREC_SCALE=1 (default)  demo data scale (0.05 runs in well under a minute)
#   PREFREC_SEED=1             generator and training seed
#   PREFREC_SERVE=1            end by serving the public site on 127.0.0.1 (0: stop after the
#                              pipeline)
# Outputs: demo/ (data, scores, packs, report JSON and plots, records/, token.key and sign.key:
# private),
# models/ (the exported packs: item packs, customer shards: private) and demo/site/ (the public
# site scripts/serve.sh serves: pages, engine, item packs; scripts/site.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scale=${PREFREC_SCALE:-1}
seed=${PREFREC_SEED:-1}
threads=$(nproc)
out=demo
step() { printf '\n== %s\n' "$*"; }

bash scripts/setup.sh
step "build (native)"
cmake --preset native >/dev/null
cmake --build --preset native -j "$threads" >/dev/null
bin=build/native/prefrec
mkdir -p "$out/report" models

step "generate demo data: scale $scale, seed $seed -> $out/data"
"$bin" gen --out "$out/data" --scale "$scale" --seed "$seed"
step "summary"
"$bin" info --data "$out/data"
"$bin" info --data "$out/data" --json > "$out/report/info.json"

step "preference scores as of 2022-01-01 -> $out/scores.csv"
"$bin" score --data "$out/data" --out "$out/scores.csv"

step "does the score predict repurchase? (scores from Jan-Sep, repurchase in Oct-Dec)"
"$bin" validate --data "$out/data" --cutoff 2021-10-01 --end 2022-01-01 \
  --json "$out/report/validate.json" --svg "$out/report/validate.svg"

step "train per affiliate: the deck's score model (NeuMF) + the default ranker -> $out/packs"
"$bin" train --data "$out/data" --affiliate all --threads "$threads" --seed "$seed" \
  --out "$out/packs" --json "$out/report/train.json"

step "evaluate every ranker on what customers bought next (train before 2021-10-01)"
"$bin" eval --data "$out/data" --cutoff 2021-10-01 --threads "$threads" --seed "$seed" \
  --json "$out/report/eval.json" --html "$out/report/eval.html"

step "export packs for the browser and kiosk -> models/, sealed member records -> $out/records/"
rm -f models/*.pack models/*.pack.sig
packs=()
for p in "$out"/packs/*.pack; do packs+=(--pack "$p"); done
"$bin" export "${packs[@]}" --out models --shards 16 --records "$out/records" --data "$out/data" \
  --token-key "$out/token.key" --sign-key "$out/sign.key"
ls -l models/*.item.pack

step "build the WebAssembly engine (browser) and the kiosk module (WASI)"
bash scripts/web-dist.sh
cmake --preset wasi >/dev/null
cmake --build --preset wasi -j "$threads" --target prefrec-kiosk >/dev/null
ls -l build/wasi/prefrec-kiosk.wasm

step "the public site (pages, engine, item packs; no member data) -> $out/site"
[[ -f web/vendor/chart.umd.min.js ]] || (cd web && node scripts/vendor.mjs)
bash scripts/site.sh --report "$out/report" models "$out/site"

echo
echo "demo: pipeline done. Outputs: $out/report/ (validate.json/.svg, train.json, eval.json/.html), models/, $out/records/"
echo "      and the public site $out/site/ (scripts/serve.sh rebuilds and serves it)"
if [[ "${PREFREC_SERVE:-1}" == 1 && -f scripts/serve.sh ]]; then
  exec bash scripts/serve.sh
fi
