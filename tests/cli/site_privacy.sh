#!/usr/bin/env bash
# site_privacy.sh - the demo site serves no member data (issue 16, SECURITY.md "Members' data"):
# demo data is generated, trained, exported (records, item packs, shards) and the site built by
# scripts/site.sh; web/testkit/server.mjs serves it; tests/cli/site_check.py fetches every file it
# serves and finds no member code (UTF-8, UTF-16), no receipt, no CSV, no customer tensor or
# member count in any decoded pack, no directory listing, and none of the private paths
# (the CSVs, shards, records, export.json, keys, ../ traversal) answered.
# First the checker's own sensitivity: the same data in the layout served before issue 16 (the
# repository root: web/, models/ with customer shards and example members in manifest.json,
# demo/data/*.csv, demo/scores.csv) must fail it, naming those files.
# Run as: bash site_privacy.sh <prefrec-binary> <repo-root>
set -euo pipefail
bin=$1
repo=$2
work=$(mktemp -d /tmp/prefrec-cli-site.XXXXXX)
srv_pid=""
stop_server() { if [[ -n "$srv_pid" ]]; then kill "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true; srv_pid=""; fi; }
trap 'stop_server; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"

# serve DIR: starts web/testkit/server.mjs on a free port, sets $url
serve() {
  node "$repo/web/testkit/server.mjs" "$1" 0 >server.out 2>&1 &
  srv_pid=$!
  url=""
  for _ in $(seq 100); do
    url=$(sed -n 's/^serving .* at \(http:[^ ]*\)$/\1/p' server.out)
    [[ -n "$url" ]] && return 0
    sleep 0.1
  done
  fail "server did not start: $(cat server.out)"
}

mkdir -p demo/report
"$bin" gen --out demo/data --scale 0.02 --seed 5 --quiet
"$bin" score --data demo/data --out demo/scores.csv >/dev/null 2>&1
"$bin" validate --data demo/data --cutoff 2021-10-01 --end 2022-01-01 \
  --json demo/report/validate.json >/dev/null 2>&1 || fail "validate"
"$bin" train --data demo/data --epochs 2 --seed 5 --threads 2 --quiet --out demo/packs \
  --json demo/report/train.json >/dev/null 2>&1 || fail "train"
"$bin" eval --data demo/data --cutoff 2021-10-01 --rankers pop,blend_served --bootstrap 0 \
  --threads 2 --json demo/report/eval.json >/dev/null 2>&1 || fail "eval"
packs=()
for f in demo/packs/*.pack; do packs+=(--pack "$f"); done
"$bin" export "${packs[@]}" --out models --shards 4 --records demo/records --data demo/data \
  --token-key demo/token.key --sign-key demo/sign.key >/dev/null 2>&1 || fail "export"

# the paths that must not be served, wherever the server's root is
private=(/demo/data/LPOINT_BIG_COMP_01_DEMO.csv /demo/data/LPOINT_BIG_COMP_02_PDDE.csv
  /demo/scores.csv /demo/records/export.json /demo/token.key /models/A01.cust.000.pack
  /A01.cust.000.pack /models/A01.pack /demo/packs/A01.pack /export.json /records/export.json
  /models/export.json /../models/A01.cust.000.pack /../../demo/data/LPOINT_BIG_COMP_01_DEMO.csv
  /demo/sign.key /models/sign.pub /%2e%2e/models/A01.cust.000.pack /..%2fmodels%2fA01.cust.000.pack
  /..%2f..%2fdemo%2ftoken.key /web/shop/../../models/A01.cust.000.pack)

# 1. the layout before issue 16 (the repository root) fails the check
mkdir -p old/web old/demo old/models
for d in shop kiosk widget report; do cp -r "$repo/web/$d" old/web/; done
cp "$repo"/web/*.js old/web/
cp -r demo/data demo/scores.csv demo/report old/demo/
for f in demo/packs/*.pack; do
  "$bin" export --pack "$f" --out old/models --shards 4 >/dev/null || fail "old export"
done
node "$repo/web/kiosk/models-manifest.mjs" old/models 2>/dev/null || fail "old manifest"
serve old
python3 "$repo/tests/cli/site_check.py" old "$url" demo/data "${private[@]}" >old.out 2>&1 \
  && fail "the check passed on the old layout: $(tail -1 old.out)"
cp old.out "${PREFREC_SITE_OLD_LOG:-/dev/null}" 2>/dev/null || true
stop_server
for want in 'models/A01.cust.000.pack: member code' 'models/A01.cust.000.pack: customer tensors' \
  'models/manifest.json: lists example members' 'models/A01.item.pack: member counts' \
  'demo/data/LPOINT_BIG_COMP_01_DEMO.csv: a private kind of file' \
  'GET /demo/data/LPOINT_BIG_COMP_02_PDDE.csv: 200' 'GET /demo/scores.csv: 200' \
  'GET /models/A01.cust.000.pack: 200'; do
  grep -qF "FAIL $want" old.out || { cat old.out; fail "the old layout's check does not report '$want'"; }
done
echo "ok   the old layout fails: $(tail -1 old.out)"

# 2. the site directory passes it. Known, to be fixed in the files the engine change owns: the
# doc comments of web/prefrec.js and web/widget/prefrec-widget.js name M000034966, the first
# member of every generated demo data set, as an example customer.
known=(--known-comment prefrec.js:M000034966 --known-comment widget/prefrec-widget.js:M000034966)
partial=0
[[ -f "$repo/web/dist/prefrec-engine.wasm" && -f "$repo/web/vendor/chart.umd.min.js" ]] || partial=1
PREFREC_SITE_PARTIAL=$partial bash "$repo/scripts/site.sh" --report demo/report models demo/site \
  >site.out 2>site.err || fail "site.sh: $(cat site.err)"
serve demo/site
python3 "$repo/tests/cli/site_check.py" "${known[@]}" demo/site "$url" demo/data "${private[@]}" >new.out 2>&1 \
  || { cat new.out; fail "the site serves member data (above)"; }
stop_server
# what the site holds: the pages, the shim, the item packs, their manifest, the report's figures
(cd demo/site && find . -type f | sort) > files.txt
for f in ./index.html ./shop/index.html ./kiosk/index.html ./kiosk/sw.js ./widget/engine.js \
  ./report/index.html ./report/data/eval.json ./prefrec.js ./shard.js ./models/manifest.json \
  ./models/A01.item.pack ./models/A06.item.pack ./models/A06.item.pack.sig; do
  grep -qxF "$f" files.txt || fail "the site has no $f"
done
if grep -vE '^\./((shop|kiosk|widget|report)/[^/]+\.(html|css|js)|index\.html|[a-z]+\.js|dist/prefrec-engine\.(js|wasm)|vendor/[^/]+\.js|models/A0[1-6]\.item\.pack(\.sig)?|models/manifest\.json|report/data/(validate|train|eval)\.json|i18n/(i18n\.js|[a-z]+\.json))$' files.txt; then
  fail "unexpected files in the site (above)"
fi
# the pages' relative references (HTML src/href, JS imports, new URL(..., import.meta.url)) all
# resolve inside the site, as they do under web/ (a missing dist/ or vendor/ aside, when not built)
python3 - demo/site $partial <<'PY' || fail "the pages' links do not resolve in the site layout (above)"
import os, re, sys, posixpath
root, partial = sys.argv[1], sys.argv[2] == '1'
pats = [r'(?:src|href)="([^"#:]+)"', r"(?:from|import)\s*\(?\s*'(\.{1,2}/[^']+)'",
        r"new URL\('(\.{1,2}/[^']+)', import\.meta\.url\)"]
bad, n = [], 0
for d, _, names in os.walk(root):
    for f in names:
        if not f.endswith(('.html', '.js')):
            continue
        rel = posixpath.relpath(os.path.join(d, f), root)
        text = open(os.path.join(d, f), encoding='utf-8').read()
        for pat in pats[0:1] if f.endswith('.html') else pats[1:]:
            for ref in re.findall(pat, text):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), ref.split('?')[0])).lstrip('/')
                path = os.path.join(root, target)
                n += 1
                if os.path.isfile(path) or os.path.isfile(os.path.join(path, 'index.html')):
                    continue
                if partial and target.split('/')[0] in ('dist', 'vendor'):
                    continue
                bad.append(f'{rel}: {ref} -> {target}')
for b in bad:
    print('unresolved:', b)
print(f'{n} references checked')
sys.exit(1 if bad else 0)
PY
# every item pack of the export, as exported, and the engine validates each
for f in models/*.item.pack; do
  cmp -s "$f" "demo/site/models/$(basename "$f")" || fail "demo/site/models/$(basename "$f") differs from the export's"
  "$bin" inspect "demo/site/models/$(basename "$f")" >/dev/null || fail "inspect $(basename "$f")"
done
# the public manifest refuses what is not public: a customer shard, packs with member counts,
# item packs of two exports; site.sh refuses to replace a directory it did not build
node "$repo/web/kiosk/models-manifest.mjs" --public old/models 2>m1.err && fail "public manifest of old/models"
grep -q "A01.cust.000.pack is not an item pack or its signature" m1.err || fail "$(cat m1.err)"
mkdir counts && cp old/models/*.item.pack counts/
node "$repo/web/kiosk/models-manifest.mjs" --public counts 2>m2.err && fail "public manifest with member counts"
grep -q "A01.item.pack counts members (n_customers, n_bought, pairs, train_pairs, valid_pairs)" m2.err || fail "$(cat m2.err)"
mkdir two && cp demo/site/models/*.item.pack two/
"$bin" export --pack demo/packs/A01.pack --out other --export-id 0123456789abcdef0123456789abcdef >/dev/null
cp other/A01.item.pack two/
node "$repo/web/kiosk/models-manifest.mjs" --public two 2>m3.err && fail "public manifest of two exports"
grep -qE "A02.item.pack is of export [0-9a-f]{32}, A01.item.pack of 0123456789abcdef0123456789abcdef: export them together" m3.err || fail "$(cat m3.err)"
mkdir notasite && echo keep > notasite/notes.txt
PREFREC_SITE_PARTIAL=1 bash "$repo/scripts/site.sh" models notasite >/dev/null 2>s.err && fail "site.sh replaced notasite/"
grep -q "notasite is not empty and is not a site built by this script" s.err || fail "$(cat s.err)"
[[ -f notasite/notes.txt ]] || fail "notasite/notes.txt removed"
note=""
[[ $partial == 1 ]] && note=" (web/dist or web/vendor not built here: the site was checked without them)"
grep -E '^(KNOWN|note)' new.out || true
echo "ok   the site passes: $(tail -1 new.out)$note"
