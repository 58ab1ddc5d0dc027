#!/usr/bin/env bash
# bench/web/run.sh - the prefrec shim vs ONNX Runtime Web and TensorFlow.js (wasm backend), same
# trained NeuMF model, same 200 requests, in node and in headless Chromium; plus the bytes of
# each engine (wasm + JS, raw and gzip).
#   bash bench/web/run.sh [--scale 0.2] [--affiliate A02] [--epochs 3] [--data DIR]
# Builds the native CLI and the wasm engine (web/dist), generates demo data (unless --data),
# trains one affiliate (A02, the hypermarket: about 1,700-1,900 products), writes its NeuMF as
# ONNX (bench/web/export_onnx.py, Debian's python3-onnx), installs the peers from npm into
# bench/web/node_modules (onnxruntime-web, @tensorflow/tfjs-core, @tensorflow/tfjs-backend-wasm;
# kept out of web/package.json so the test install stays small), then runs node.mjs and
# browser.mjs. Results: bench/out/web/{node,chromium}.json. Figures vary with machine load.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
scale=0.2 aff=A02 epochs=3 data=""
while (($#)); do
  case "$1" in
    --scale) scale=$2; shift 2 ;;
    --affiliate) aff=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "usage: bash bench/web/run.sh [--scale 0.2] [--affiliate A02] [--epochs 3] [--data DIR]" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3   # Debian's python3-onnx lives in the system interpreter
"$py" -c "import onnx, numpy" 2>/dev/null || { echo "bench/web: needs python3-onnx: run scripts/setup.sh --bench" >&2; exit 1; }
cd "$here"
export NODE_PATH=/usr/share/nodejs
cmake --preset native >/dev/null && cmake --build --preset native -j2 --target prefrec >/dev/null
bash scripts/web-dist.sh
[[ -d web/node_modules/playwright-core ]] || (cd web && npm ci --no-audit --no-fund --loglevel=error)
(cd bench/web && npm install --no-audit --no-fund --loglevel=error)
out=bench/out/web
mkdir -p "$out"
work=$(mktemp -d /tmp/prefrec-bench-web.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [[ -z "$data" ]]; then
  data=$work/data
  build/native/prefrec gen --out "$data" --scale "$scale" --seed 1 --quiet
fi
echo "== training $aff ($epochs epochs) on $data"
build/native/prefrec train --data "$data" --affiliate "$aff" --epochs "$epochs" --quiet --out "$out"
"$py" bench/web/export_onnx.py "$out/$aff.pack" "$out"
ls -l "$out/$aff.pack" "$out"/neumf_*.onnx | awk '{print $5, $9}'
echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
node bench/web/node.mjs "$out/$aff.pack" "$out" "$out/node.json" 2>&1 | grep -v 'W:onnxruntime'
echo "== headless Chromium"
node bench/web/browser.mjs "$out/$aff.pack" "$out" "$out/chromium.json" 2>&1 | grep -v 'W:onnxruntime\|Failed to load resource'
