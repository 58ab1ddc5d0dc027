#!/usr/bin/env bash
# Put cJSON's sources (cJSON.c, cJSON.h) into third_party/cjson (git-ignored) for the two wasm
# builds, from Debian's source package: the same cJSON the native build links as libcjson-dev.
# Adds a deb-src entry mirroring the system's deb entries when none exists (scripts/deb-src.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/third_party/cjson"
[[ -f "$dest/cJSON.c" && -f "$dest/cJSON.h" ]] && exit 0

"$here/scripts/deb-src.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get source -qq cjson >/dev/null 2>&1 || (apt-get update -qq && apt-get source -qq cjson >/dev/null))
srcdir=$(find "$work" -maxdepth 1 -type d -name 'cjson-*' | head -n 1)
[[ -n "$srcdir" && -f "$srcdir/cJSON.c" ]] || { echo "fetch-cjson: Debian source package cjson not unpacked" >&2; exit 1; }
mkdir -p "$dest"
cp "$srcdir/cJSON.c" "$srcdir/cJSON.h" "$dest/"
cp "$srcdir/LICENSE" "$dest/" 2>/dev/null || true
echo "fetch-cjson: $(basename "$srcdir") -> third_party/cjson"
