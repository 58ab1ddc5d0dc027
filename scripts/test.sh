#!/usr/bin/env bash
# All tests: installs what is missing, builds the native, native-asan, Emscripten and WASI
# presets, runs ctest in each, checks that the portable core prints identical results in the
# three builds, then runs the JS tests (node --test) when web/ has them.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup.sh
export NODE_PATH=/usr/share/nodejs
jobs=$(nproc)
presets=(native emscripten wasi native-asan)
[[ "${PREFREC_SKIP_ASAN:-0}" == 1 ]] && presets=(native emscripten wasi)

for p in "${presets[@]}"; do
  echo "== build: $p"
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs" >"build/$p.build.log" 2>&1 || { tail -40 "build/$p.build.log"; exit 1; }
done

status=0
for p in "${presets[@]}"; do
  echo "== ctest: $p"
  ctest --preset "$p" -j "$jobs" || status=1
done

# The portable core must print the same thing in every build (same seed, same results).
echo "== core parity: native vs emscripten vs wasi"
for t in build/native/test_*; do
  [[ -x "$t" && "$t" != *.* ]] || continue
  name=$(basename "$t")
  [[ -f "build/emscripten/$name.js" && -f "build/wasi/$name.wasm" ]] || continue
  a=$("$t" 2>&1); b=$(node "build/emscripten/$name.js" 2>&1)
  c=$(node --no-warnings scripts/wasi-run.mjs "build/wasi/$name.wasm" 2>&1)
  if [[ "$a" == "$b" && "$a" == "$c" ]]; then echo "same: $name ($(echo "$a" | wc -l) lines)"
  else echo "DIFFERENT: $name"; diff <(echo "$a") <(echo "$b") || true; diff <(echo "$a") <(echo "$c") || true; status=1; fi
done

if [[ -f web/package.json ]] && ls web/test/*.test.mjs >/dev/null 2>&1; then
  echo "== node --test (web)"
  (cd web && node --test test/) || status=1
fi
exit $status
