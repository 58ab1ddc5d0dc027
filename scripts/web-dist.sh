#!/usr/bin/env bash
# Build the browser engine (Emscripten preset, target prefrec-engine) and copy it to web/dist/
# (git-ignored), where web/prefrec.js imports it from; prints the raw and gzip sizes of the
# engine and the shim. The full build (cmake --build --preset emscripten) does the same copy.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export NODE_PATH=/usr/share/nodejs
[[ -f third_party/cjson/cJSON.c ]] || bash scripts/fetch-cjson.sh
[[ -f third_party/libsodium/VERSION ]] || bash scripts/fetch-libsodium.sh
cmake --preset emscripten >/dev/null
cmake --build --preset emscripten -j2 --target prefrec-engine | grep -E "prefrec size|error" || true
for f in web/dist/prefrec-engine.wasm web/dist/prefrec-engine.js web/prefrec.js; do
  printf '%-30s %7d bytes  gzip %6d\n' "$f" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
done
