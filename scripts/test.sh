#!/usr/bin/env bash
# All tests: installs what is missing, builds the native, native-asan, Emscripten and WASI
# presets, runs ctest in each, checks that the portable core prints identical results in the
# three builds, checks that the npm lockfile admits every supported Node.js, then runs the JS
# tests (node --test) when web/ has them.
# Every step runs and is named with its result, whatever failed before it (a preset whose build
# failed skips only its own ctest, which counts as failed); the summary at the end lists the
# failed steps, and the exit status is 1 when there is one.
#   PREFREC_SKIP_ASAN=1   leave out the native-asan preset
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export NODE_PATH=/usr/share/nodejs
jobs=$(nproc)
presets=(native emscripten wasi native-asan)
[[ "${PREFREC_SKIP_ASAN:-0}" == 1 ]] && presets=(native emscripten wasi)
mkdir -p build

passed=() failed=()
t0=$SECONDS
# record NAME STATUS: prints the step's result and remembers it for the summary.
record() {
  if [[ "$2" == 0 ]]; then passed+=("$1"); echo "-- ok: $1"
  else failed+=("$1"); echo "-- FAILED: $1 (exit $2)"; fi
}

echo "== setup"
bash scripts/setup.sh
record setup $?

declare -A built
for p in "${presets[@]}"; do
  echo "== build: $p"
  log="build/$p.build.log"
  if cmake --preset "$p" >"$log" 2>&1 && cmake --build --preset "$p" -j "$jobs" >>"$log" 2>&1; then
    built[$p]=1
    grep -E 'warning:' "$log" | sort -u | head -20   # compiler warnings reach the output
    record "build: $p" 0
  else
    rc=$?
    tail -n 40 "$log"
    echo "(full log: $log)"
    record "build: $p" "$rc"
  fi
done

for p in "${presets[@]}"; do
  echo "== ctest: $p"
  if [[ -z "${built[$p]:-}" ]]; then
    echo "not run: the $p build failed"
    record "ctest: $p" 1
    continue
  fi
  ctest --preset "$p" -j "$jobs"
  record "ctest: $p" $?
done

# The portable core must print the same thing in every build (same seed, same results), and
# every run must succeed: a failing run is reported with its exit status and output.
echo "== core parity: native vs emscripten vs wasi"
same=0 different=0
if [[ -n "${built[native]:-}" && -n "${built[emscripten]:-}" && -n "${built[wasi]:-}" ]]; then
  for t in build/native/test_*; do
    [[ -x "$t" && "$t" != *.* ]] || continue
    name=$(basename "$t")
    [[ -f "build/emscripten/$name.js" && -f "build/wasi/$name.wasm" ]] || continue
    a=$("$t" 2>&1); ra=$?
    b=$(node "build/emscripten/$name.js" 2>&1); rb=$?
    c=$(node --no-warnings scripts/wasi-run.mjs "build/wasi/$name.wasm" 2>&1); rc=$?
    if [[ $ra == 0 && $rb == 0 && $rc == 0 && "$a" == "$b" && "$a" == "$c" ]]; then
      echo "same: $name ($(echo "$a" | wc -l) lines)"
      same=$((same + 1))
    else
      echo "DIFFERENT: $name (exit status native $ra, emscripten $rb, wasi $rc)"
      for r in "emscripten:$b" "wasi:$c"; do
        diff <(echo "$a") <(echo "${r#*:}") | head -12 | sed "s/^/  native vs ${r%%:*}: /"
      done
      different=$((different + 1))
    fi
  done
  echo "parity: $same same, $different different"
  ((same > 0 && different == 0)); record "core parity ($same of $((same + different)) the same)" $?
else
  echo "not run: needs the native, emscripten and wasi builds"
  record "core parity" 1
fi

echo "== layers: which folder uses which, no file cycles (scripts/deps.py, from the native objects)"
if [[ -n "${built[native]:-}" ]]; then
  python3 scripts/deps.py build/native
  record "layers" $?
else
  echo "not run: the native build failed"
  record "layers" 1
fi

# The MPI build (docs/mpi.md): only the CLI and the mpi tests' two programs are built (the core and the other tests are those of
# native), then its mpi tests: mpirun -n 1..3 on small generated data, the same bytes as one
# process. Root may run mpirun here (the test preset sets OpenMPI's two variables).
echo "== mpi: native-mpi build (the prefrec CLI, records_dump, pack_dist_check) and ctest -L mpi"
log=build/native-mpi.build.log
if cmake --preset native-mpi >"$log" 2>&1 &&
  cmake --build --preset native-mpi -j "$jobs" --target prefrec records_dump pack_dist_check >>"$log" 2>&1; then
  ctest --preset native-mpi -L mpi
  record "mpi (native-mpi build, ctest -L mpi)" $?
else
  rc=$?
  tail -n 40 "$log"
  echo "(full log: $log)"
  record "mpi (native-mpi build, ctest -L mpi)" "$rc"
fi

echo "== style: .editorconfig and .clang-format (scripts/check-style.py)"
python3 scripts/check-style.py
record "style" $?

echo "== node support: web/package-lock.json admits Node 18 (Debian bookworm), 20, 22"
node scripts/node-support.mjs
record "node support" $?

echo "== web check: ESLint + tsc --strict of prefrec.d.ts against the shim (npm run check)"
(cd web && npm run --silent check)
record "web check (lint, types)" $?

if [[ -f web/package.json ]] && ls web/test/*.test.mjs >/dev/null 2>&1; then
  echo "== node --test (web, node $(node --version))"
  (cd web && node --test test/*.test.mjs)
  record "node --test (web)" $?
fi

# The package as a shop gets it (web/test/consumers): npm pack, installed into fresh Vite and
# webpack projects from the npm registry (pinned by their lockfiles; about 2-3 minutes, most of it
# npm ci and the two builds), run in Chromium under a strict CSP, in a worker, in React 19, imported
# in node (SSR), type-checked with tsc --strict.
if [[ -f web/test/consumers/consumers.test.mjs ]]; then
  echo "== npm package: npm pack into Vite and webpack apps, Chromium + CSP, worker, React, SSR, tsc"
  t=$SECONDS
  (cd web && node --test test/consumers/consumers.test.mjs)
  rc=$?
  echo "(npm package step: $((SECONDS - t)) s)"
  record "npm package (consumers)" $rc
fi

echo
echo "== summary ($((SECONDS - t0)) s)"
for s in "${passed[@]}"; do echo "ok      $s"; done
for s in "${failed[@]}"; do echo "FAILED  $s"; done
echo "test.sh: ${#passed[@]} passed, ${#failed[@]} failed"
((${#failed[@]} == 0))
