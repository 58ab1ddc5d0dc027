#!/usr/bin/env bash
# Install everything prefrec needs on Debian bookworm (run as root). Idempotent and quick when
# everything is already there: apt is only called for packages that are missing.
#   scripts/setup.sh            build + test dependencies
#   scripts/setup.sh --bench    also the benchmark peers (pandas, torch, OpenBLAS)
# Node.js: the node on PATH when there is one (18 or newer, e.g. a machine image's Node 20);
# where none is, Debian's nodejs and npm (18.20 and 9.2 on bookworm). Warnings from apt and npm
# are shown; npm ci runs with --engine-strict, so a dependency that needs a newer Node stops here.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
node_min=18

pkgs=(cmake gcc make pkg-config libcjson-dev libsodium-dev
      emscripten binaryen clang lld llvm wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev
      dpkg-dev python3 libopenblas-dev
      chromium fonts-noto-cjk   # browser tests: playwright-core drives Debian's chromium
      openmpi-bin libopenmpi-dev  # the native-mpi build (docs/mpi.md)
      strace valgrind           # fault tests (write/kill injection), scripts/leakcheck.sh --valgrind
      clang-format)             # the style check (scripts/check-style.py)
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=(python3-pandas python3-numpy python3-scipy python3-threadpoolctl python3-torch libopenblas0-pthread python3-onnx)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: apt-get install ${missing[*]} (and what they depend on)"
  export DEBIAN_FRONTEND=noninteractive
  t=$SECONDS
  apt-get update -qq
  log=$(mktemp)
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "setup: apt-get install failed (the last lines of its output are above)" >&2
    exit 1
  fi
  # apt's warnings and notices reach the output; the progress lines do not.
  grep -E '^(W|E|N): |^(Warning|WARNING|warning):' "$log" || true
  echo "setup: apt installed $(grep -c '^Setting up ' "$log") packages in $((SECONDS - t)) s"
  rm -f "$log"
fi

node_v=$(node -p 'process.versions.node' 2>/dev/null) || {
  echo "setup: $(command -v node || echo node) does not run; prefrec needs Node.js $node_min or newer" >&2
  exit 1
}
if ((${node_v%%.*} < node_min)); then
  echo "setup: Node.js $node_v ($(command -v node)) is too old: prefrec needs Node.js $node_min or" \
       "newer (18 as Debian bookworm ships it, 20, 22); remove it or put a newer node first on PATH" >&2
  exit 1
fi
echo "setup: Node.js $node_v ($(command -v node)), npm $(npm --version 2>/dev/null || echo missing)"

"$here/scripts/fetch-cjson.sh"
"$here/scripts/fetch-libsodium.sh"

if [[ -f "$here/web/package-lock.json" ]]; then
  if [[ ! -d "$here/web/node_modules" || "$here/web/package-lock.json" -nt "$here/web/node_modules/.package-lock.json" ]]; then
    # Default log level: npm's warnings (EBADENGINE, deprecations) are printed; --engine-strict
    # makes an engine mismatch an error naming the package instead of a failure at test time.
    (cd "$here/web" && npm ci --no-audit --no-fund --engine-strict)
  fi
  (cd "$here/web" && node scripts/vendor.mjs) # Chart.js for the report page (web/vendor)
fi
echo "setup: ok"
