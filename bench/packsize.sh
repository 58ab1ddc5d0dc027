#!/usr/bin/env bash
# packsize.sh - item pack bytes, raw and gzipped, of each pack format version for full packs
# written by `prefrec train`: version 1 (all f32), 2 (the default storage plan, or
# $PREFREC_STORAGE), 3 (the same with compact neighbour lists) and 4 (the same with the segment
# popularity's counts a byte each, without its empty segments: the default).
#
#   bash bench/packsize.sh demo/packs/A02.pack /tmp/d100000/packs/A02.pack ...
#
# Prints one line per pack: products, v1 to v4 raw / gz, and the ratios of v1 to v4. gzip -9, as
# a web server's static compression would serve the file. Packs of other sizes: `prefrec gen
# --products N` then `prefrec train` (docs/model.md, "Smaller packs").
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PREFREC_BIN:-build/native/prefrec}
[[ -x "$bin" ]] || { echo "packsize.sh: build the native CLI first ($bin)" >&2; exit 1; }
(($# > 0)) || { echo "usage: bash bench/packsize.sh FULL.pack ..." >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
storage=()
[[ -n "${PREFREC_STORAGE:-}" ]] && storage=(--storage "$PREFREC_STORAGE")
versions=(1 2 3 4)
printf '%-40s %9s' pack products
for v in "${versions[@]}"; do printf ' %10s %9s' "v${v}_raw" "v${v}_gz"; done
printf ' %7s %7s\n' raw_x gz_x
for pack in "$@"; do
  stem=$(basename "$pack" .pack)
  raw=() gz=()
  for v in "${versions[@]}"; do
    mkdir -p "$tmp/v$v"
    "$bin" export --pack "$pack" --out "$tmp/v$v" --shards 1 --pack-version "$v" \
      ${storage[@]+"${storage[@]}"} --export-id 00000000000000000000000000000000 >/dev/null
    raw+=("$(stat -c %s "$tmp/v$v/$stem.item.pack")")
    gz+=("$(gzip -9 -c "$tmp/v$v/$stem.item.pack" | wc -c)")
  done
  products=$("$bin" inspect "$tmp/v1/$stem.item.pack" | awk '$2 == "product.bias" {gsub(/[][]/, "", $4); print $4}')
  printf '%-40s %9s' "$pack" "${products:-?}"
  for i in "${!versions[@]}"; do printf ' %10d %9d' "${raw[$i]}" "${gz[$i]}"; done
  printf ' %7.2f %7.2f\n' "$(echo "${raw[0]} / ${raw[-1]}" | bc -l)" "$(echo "${gz[0]} / ${gz[-1]}" | bc -l)"
  rm -rf "${tmp:?}"/v*
done
