#!/usr/bin/env bash
# Build the public site: exactly the files an anonymous visitor may fetch, in one directory that
# scripts/serve.sh (or any web host or CDN) serves as its root (SECURITY.md, "Members' data:
# threat model"). Nothing else goes in: no CSV, no customer shard, no member record, no
# export.json, no key, no full pack.
#   bash scripts/site.sh [--report DIR] MODELS SITE
#     MODELS  the --out directory of one `prefrec export` with --records or --site (item packs
#             with an export id and no member counts); only <AFF>.item.pack and
#             <AFF>.item.pack.sig are taken from it (its customer shards stay where they are)
#     SITE    written whole (built beside it, then swapped in); an existing SITE must be a site
#             this script built (it has models/manifest.json), never another directory
#     --report DIR   also the report page's figures: DIR/validate.json, train.json, eval.json
#             (aggregates, but they count customers and purchase lines: a staff page; leave
#             it out of a shop's public site)
#   PREFREC_SITE_PARTIAL=1   build without the engine (web/dist) or Chart.js (web/vendor) when
#             they are missing, with a warning (tests that have no Emscripten build)
# Layout (the pages' relative paths as under web/, so no page needs to know):
#   SITE/index.html                      links to the pages
#   SITE/shop/ kiosk/ widget/ report/    the pages (html, css, js; no node tools, no README)
#   SITE/prefrec.js, shard.js, ...       the JS shim (web/*.js but eslint.config.js)
#   SITE/dist/                           the wasm engine (web/dist, scripts/web-dist.sh)
#   SITE/vendor/                         Chart.js for the report page (web/vendor)
#   SITE/models/                         item packs, their .sig, manifest.json (public mode)
#   SITE/report/data/                    with --report: validate.json, train.json, eval.json
# Pages default to ../../models/, which from SITE/shop/ is SITE/models/ when SITE is the root of
# its origin (as serve.sh serves it); under a sub-path give ?models=../models/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
report=""
if [[ "${1:-}" == --report ]]; then
  report=${2:?"site: --report needs a directory"}
  shift 2
fi
[[ $# == 2 ]] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
models=$1 site=${2%/}
die() { echo "site: $*" >&2; exit 1; }
[[ -d "$models" ]] || die "$models: no such directory (prefrec export --out $models ...)"
ls "$models"/*.item.pack >/dev/null 2>&1 || die "$models: no <AFF>.item.pack (run prefrec export)"
[[ -z "$report" || -d "$report" ]] || die "--report $report: no such directory"
if [[ -e "$site" ]]; then
  [[ -d "$site" ]] || die "$site exists and is not a directory"
  if [[ -n "$(ls -A "$site")" && ! -f "$site/models/manifest.json" ]]; then
    die "$site is not empty and is not a site built by this script (no models/manifest.json): not replacing it"
  fi
fi
partial=${PREFREC_SITE_PARTIAL:-0}
tmp="$site.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/models"

# the pages: only what a browser loads
for page in shop kiosk widget report; do
  mkdir -p "$tmp/$page"
  for f in "$here/web/$page"/*; do
    case "$f" in
      *.html | *.css | *.js | *.svg | *.png | *.ico | *.webmanifest) cp "$f" "$tmp/$page/" ;;
    esac
  done
done
for f in "$here"/web/*.js; do
  [[ "$(basename "$f")" == eslint.config.js ]] || cp "$f" "$tmp/"
done
# the message catalogues (web/i18n: i18n.js and one JSON per language)
mkdir -p "$tmp/i18n"
cp "$here"/web/i18n/*.js "$here"/web/i18n/*.json "$tmp/i18n/"
for dep in dist vendor; do
  if [[ -d "$here/web/$dep" ]] && ls "$here/web/$dep"/* >/dev/null 2>&1; then
    mkdir -p "$tmp/$dep"
    for f in "$here/web/$dep"/*; do
      case "$f" in
        *.js | *.wasm | *.map) cp "$f" "$tmp/$dep/" ;;
      esac
    done
  elif [[ "$partial" == 1 ]]; then
    echo "site: warning: web/$dep is missing: the site has no $dep/ (PREFREC_SITE_PARTIAL=1)" >&2
  else
    case $dep in
      dist) die "web/dist is missing: build the engine first (bash scripts/web-dist.sh)" ;;
      vendor) die "web/vendor is missing: run npm ci in web/ (or node web/scripts/vendor.mjs)" ;;
    esac
  fi
done

# the models: item packs and their signatures, then the public manifest (which checks each pack:
# no customer tensor, no member count, one export)
n=0
for f in "$models"/*.item.pack; do
  cp "$f" "$tmp/models/"
  if [[ -f "$f.sig" ]]; then cp "$f.sig" "$tmp/models/"; fi
  n=$((n + 1))
done
node "$here/web/kiosk/models-manifest.mjs" --public "$tmp/models" >/dev/null 2>"$tmp/manifest.err" \
  || die "$(sed "s/^models-manifest: //; s#$tmp/models#$models#g" "$tmp/manifest.err")"
rm -f "$tmp/manifest.err"

if [[ -n "$report" ]]; then
  mkdir -p "$tmp/report/data"
  for f in validate.json train.json eval.json; do
    if [[ -f "$report/$f" ]]; then cp "$report/$f" "$tmp/report/data/"; fi
  done
fi

cat > "$tmp/index.html" <<'HTML'
<!doctype html>
<html lang="ko">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" href="data:,">
  <title>prefrec</title>
</head>
<body>
  <h1>prefrec</h1>
  <ul>
    <li><a href="shop/">shop</a> (storefront with the recommendation widget)</li>
    <li><a href="kiosk/">kiosk</a></li>
    <li><a href="report/">report</a></li>
  </ul>
</body>
</html>
HTML

# last check: every file is of a public kind (a page, the engine, an item pack, a manifest)
bad=$(cd "$tmp" && find . -type f ! \( -name '*.html' -o -name '*.css' -o -name '*.js' \
  -o -name '*.wasm' -o -name '*.map' -o -name '*.svg' -o -name '*.png' -o -name '*.ico' \
  -o -name '*.webmanifest' -o -name '*.item.pack' -o -name '*.item.pack.sig' \
  -o -path './models/manifest.json' -o -path './report/data/*.json' -o -path './i18n/*.json' \) | sort)
[[ -z "$bad" ]] || die "not public files, refusing to build the site: $bad"

if [[ -e "$site" ]]; then
  old="$site.old.$$"
  mv "$site" "$old"
  mv "$tmp" "$site"
  rm -rf "$old"
else
  mv "$tmp" "$site"
fi
trap - EXIT
echo "site: $site: $n item packs, $(find "$site" -type f | wc -l) files, $(du -sk "$site" | cut -f1) KiB${report:+ (with the report figures)}"
