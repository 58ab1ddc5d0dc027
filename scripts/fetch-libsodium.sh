#!/usr/bin/env bash
# Put libsodium's library sources into third_party/libsodium (git-ignored) for the two wasm
# builds, from Debian's source package with Debian's patches applied (apt-get source): the same
# libsodium 1.0.18 the native build links as libsodium-dev. CMakeLists.txt compiles them with
# the wasm toolchains (the portable C code: no assembly, no x86 intrinsics); the linker keeps
# only what prefrec calls (member records: XChaCha20-Poly1305, HMAC-SHA-256, Argon2id).
#   third_party/libsodium/src/libsodium/...   the library's sources, as in the package
#   third_party/libsodium/.../sodium/version.h  generated from version.h.in as configure would
#   third_party/libsodium/LICENSE, VERSION    the licence; the Debian version fetched
# Needs a deb-src entry (added by scripts/deb-src.sh when none exists) and dpkg-dev.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/third_party/libsodium"
[[ -f "$dest/VERSION" && -f "$dest/src/libsodium/include/sodium/version.h" ]] && exit 0

"$here/scripts/deb-src.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get source -qq libsodium >/dev/null 2>&1 || (apt-get update -qq && apt-get source -qq libsodium >/dev/null))
srcdir=$(find "$work" -maxdepth 1 -type d -name 'libsodium-*' | head -n 1)
[[ -n "$srcdir" && -f "$srcdir/configure.ac" && -d "$srcdir/src/libsodium" ]] || {
  echo "fetch-libsodium: Debian source package libsodium not unpacked" >&2; exit 1; }
ac="$srcdir/configure.ac"
ver=$(sed -n 's/^AC_INIT(\[libsodium\],\[\([0-9.]*\)\].*/\1/p' "$ac")
major=$(sed -n 's/^SODIUM_LIBRARY_VERSION_MAJOR=\([0-9]*\)$/\1/p' "$ac")
minor=$(sed -n 's/^SODIUM_LIBRARY_VERSION_MINOR=\([0-9]*\)$/\1/p' "$ac")
[[ -n "$ver" && -n "$major" && -n "$minor" ]] || {
  echo "fetch-libsodium: cannot read the version from $ac" >&2; exit 1; }
rm -rf "$dest.new"
mkdir -p "$dest.new/src"
cp -R "$srcdir/src/libsodium" "$dest.new/src/"
inc="$dest.new/src/libsodium/include/sodium"
sed -e "s/@VERSION@/$ver/" -e "s/@SODIUM_LIBRARY_VERSION_MAJOR@/$major/" \
    -e "s/@SODIUM_LIBRARY_VERSION_MINOR@/$minor/" -e "s/@SODIUM_LIBRARY_MINIMAL_DEF@//" \
    "$inc/version.h.in" > "$inc/version.h"
cp "$srcdir/LICENSE" "$dest.new/"
deb=$(sed -n 's/^Version: //p' "$work"/libsodium_*.dsc | head -n 1)
echo "libsodium $ver (Debian source package $deb)" > "$dest.new/VERSION"
rm -rf "$dest"
mv "$dest.new" "$dest"
echo "fetch-libsodium: $(cat "$dest/VERSION") -> third_party/libsodium"
