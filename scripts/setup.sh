#!/usr/bin/env bash
# Install everything prefrec needs on Debian bookworm (run as root). Idempotent and quick when
# everything is already there: apt is only called for packages that are missing.
#   scripts/setup.sh            build + test dependencies
#   scripts/setup.sh --bench    also the benchmark peers (pandas, torch, OpenBLAS)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(cmake gcc make pkg-config libcjson-dev
      emscripten binaryen clang lld llvm wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev
      dpkg-dev python3 libopenblas-dev
      chromium fonts-noto-cjk   # browser tests: playwright-core drives Debian's chromium
      strace valgrind)          # fault tests (write/kill injection), scripts/leakcheck.sh --valgrind
# node and npm come with the machine image (Node.js 20); Debian's own only when absent.
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
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$here/scripts/fetch-cjson.sh"

if [[ -f "$here/web/package-lock.json" ]]; then
  if [[ ! -d "$here/web/node_modules" || "$here/web/package-lock.json" -nt "$here/web/node_modules/.package-lock.json" ]]; then
    (cd "$here/web" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
echo "setup: ok"
