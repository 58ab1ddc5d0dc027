#!/usr/bin/env bash
# packsize.sh - item pack bytes, raw and gzipped, version 1 (all f32) against version 2 (the
# default storage plan, or $PREFREC_STORAGE) and version 3 (the same with compact neighbour
# lists, the default), for full packs written by `prefrec train`.
#
#   bash bench/packsize.sh demo/packs/A02.pack /tmp/d100000/packs/A02.pack ...
#
# Prints one line per pack: products, v1, v2 and v3 raw / gz, and the ratios of v1 to v3. gzip -9, as a
# web server's static compression would serve the file. Packs of other sizes: `prefrec gen
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
printf '%-40s %9s %10s %9s %10s %9s %10s %9s %7s %7s\n' pack products v1_raw v1_gz v2_raw v2_gz \
  v3_raw v3_gz raw_x gz_x
for pack in "$@"; do
  for v in 1 2 3; do
    mkdir -p "$tmp/v$v"
    "$bin" export --pack "$pack" --out "$tmp/v$v" --shards 1 --pack-version "$v" \
      ${storage[@]+"${storage[@]}"} --export-id 00000000000000000000000000000000 >/dev/null
  done
  stem=$(basename "$pack" .pack)
  i1=$tmp/v1/$stem.item.pack i2=$tmp/v2/$stem.item.pack i3=$tmp/v3/$stem.item.pack
  products=$("$bin" inspect "$i1" | awk '$2 == "product.bias" {gsub(/[][]/, "", $4); print $4}')
  r1=$(stat -c %s "$i1") r2=$(stat -c %s "$i2") r3=$(stat -c %s "$i3")
  g1=$(gzip -9 -c "$i1" | wc -c) g2=$(gzip -9 -c "$i2" | wc -c) g3=$(gzip -9 -c "$i3" | wc -c)
  printf '%-40s %9s %10d %9d %10d %9d %10d %9d %7.2f %7.2f\n' "$pack" "${products:-?}" "$r1" "$g1" \
    "$r2" "$g2" "$r3" "$g3" "$(echo "$r1 / $r3" | bc -l)" "$(echo "$g1 / $g3" | bc -l)"
  rm -rf "$tmp/v1" "$tmp/v2" "$tmp/v3"
done
