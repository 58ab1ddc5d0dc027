#!/usr/bin/env bash
# Serve the demo's public site on 127.0.0.1 (static files only: every recommendation is computed
# in the browser). Builds the site directory first with scripts/site.sh (the pages, the engine,
# the item packs and a manifest.json: nothing about any member) and serves that directory,
# never the repository root (SECURITY.md, "Members' data: threat model").
#   PREFREC_PORT=8080 (default)      PREFREC_MODELS=models (prefrec export --out, with --records)
#   PREFREC_SITE=demo/site           the site directory (rebuilt)
#   PREFREC_REPORT=demo/report       the report page's figures (a staff page; '' leaves it out)
# scripts/demo.sh runs this at its end. Ctrl-C stops it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
port=${PREFREC_PORT:-8080}
models=${PREFREC_MODELS:-models}
site=${PREFREC_SITE:-demo/site}
report=${PREFREC_REPORT-demo/report}
if ! ls "$models"/*.item.pack >/dev/null 2>&1; then
  echo "serve: no packs in $models/ (run bash scripts/demo.sh, or prefrec export --out $models --records ...)" >&2
  exit 1
fi
[[ -f web/dist/prefrec-engine.wasm ]] || bash scripts/web-dist.sh
[[ -f web/vendor/chart.umd.min.js ]] || (cd web && node scripts/vendor.mjs)
args=()
[[ -n "$report" && -f "$report/eval.json" ]] && args=(--report "$report")
bash scripts/site.sh "${args[@]}" "$models" "$site"
url="http://127.0.0.1:$port"
cat <<MSG

prefrec demo (Ctrl-C to stop), serving $site/ only:
  shop    $url/shop/
  kiosk   $url/kiosk/
  report  $url/report/
MSG
exec node web/testkit/server.mjs "$site" "$port"
