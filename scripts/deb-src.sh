#!/usr/bin/env bash
# Make `apt-get source` work: add a deb-src entry mirroring the system's deb entries when none
# exists (Debian's images ship without one), then refresh the lists. Idempotent; run as root.
# Used by scripts/fetch-cjson.sh and scripts/fetch-libsodium.sh.
set -euo pipefail
if grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  exit 0
fi
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
    > /etc/apt/sources.list.d/prefrec-deb-src.sources
else
  grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > /etc/apt/sources.list.d/prefrec-deb-src.list
fi
apt-get update -qq
