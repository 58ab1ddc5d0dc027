#!/usr/bin/env bash
# Serve the repository root on 127.0.0.1 for the demo pages (static files only: every
# recommendation is computed in the browser). Writes models/manifest.json first (the list of
# exported packs and their version, which the shop and the kiosk read).
#   PREFREC_PORT=8080 (default)   PREFREC_MODELS=models (the exported packs)
# scripts/demo.sh runs this at its end. Ctrl-C stops it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
port=${PREFREC_PORT:-8080}
models=${PREFREC_MODELS:-models}
if ! ls "$models"/*.item.pack >/dev/null 2>&1; then
  echo "serve: no packs in $models/ (run bash scripts/demo.sh, or prefrec export --out $models)" >&2
  exit 1
fi
node web/kiosk/models-manifest.mjs "$models"
[[ -f web/dist/prefrec-engine.wasm ]] || bash scripts/web-dist.sh
[[ -f web/vendor/chart.umd.min.js ]] || (cd web && node scripts/vendor.mjs)
url="http://127.0.0.1:$port"
rel=$(realpath -m --relative-to=. "$models")
if [[ "$rel" == ../* || "$rel" == /* ]]; then
  echo "serve: $models is outside the repository root, which is what gets served" >&2
  exit 1
fi
q=""
[[ "$rel" == models ]] || q="?models=../../$rel/"
cat <<MSG

prefrec demo (Ctrl-C to stop):
  shop    $url/web/shop/$q
  kiosk   $url/web/kiosk/$q
  report  $url/web/report/?data=../../demo/report/
MSG
exec node web/testkit/server.mjs "$here" "$port"
