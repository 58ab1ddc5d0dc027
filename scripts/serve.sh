#!/usr/bin/env bash
# Serve the demo's public site on 127.0.0.1 (static files only: every recommendation is computed
# in the browser). Builds the site directory first with scripts/site.sh (the pages, the engine,
# the item packs and a manifest.json: nothing about any member) and serves that directory,
# never the repository root (SECURITY.md, "Members' data: threat model").
#   PREFREC_PORT=8080 (default)      PREFREC_MODELS=models (prefrec export --out, with --records)
#   PREFREC_SITE=demo/site           the site directory (rebuilt)
#   PREFREC_REPORT=demo/report       the report page's figures (a staff page; '' leaves it out)
#   PREFREC_RECORDS=demo/records PREFREC_TOKEN_KEY=demo/token.key   when both exist, the demo
#     shop's backend (web/server/demo.mjs: card sign-in, each member's own sealed record) runs in
#     front of the site, and the kiosk reads the records as from its own disk; a few members' card
#     payloads are printed here (the operator's console, never a served file)
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
records=${PREFREC_RECORDS:-demo/records} key=${PREFREC_TOKEN_KEY:-demo/token.key}
if [[ -f "$records/export.json" && -f "$key" ]]; then
  node web/kiosk/records-manifest.mjs "$records" >/dev/null
  codes=()
  purchases=$(ls demo/data/*PDDE*.csv 2>/dev/null | head -1 || true)
  if [[ -n "$purchases" ]]; then
    for c in $(awk -F, 'NR > 1 {print $1}' "$purchases" | awk '!s[$0]++' | head -3); do codes+=(--code "$c"); done
  fi
  cat <<MSG

prefrec demo (Ctrl-C to stop), serving $site/ only, with the demo shop's backend:
  shop    $url/shop/     (sign in with a member's card payload, below)
  kiosk   $url/kiosk/?records=/kiosk-records/
  report  $url/report/
MSG
  exec node web/server/demo.mjs --site "$site" --records "$records" --token-key "$key" \
    --port "$port" --kiosk "${codes[@]}"
fi
cat <<MSG

prefrec demo (Ctrl-C to stop), serving $site/ only (no member records: guests only):
  shop    $url/shop/
  kiosk   $url/kiosk/
  report  $url/report/
MSG
exec node web/testkit/server.mjs "$site" "$port"
