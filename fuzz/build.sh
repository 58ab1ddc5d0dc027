#!/usr/bin/env bash
# Build the libFuzzer targets with Debian's clang (ASan + UBSan + libFuzzer):
#   bash fuzz/build.sh            -> build/fuzz/fuzz_{csv,json,pack,api,member}
# The library sources (src/core, src/data, src/score, src/rank, src/train, src/eval) are compiled once with
# -fsanitize=fuzzer-no-link so libFuzzer sees their branches; each target links them.
#   PREFREC_FUZZ_ROOT=<dir> bash fuzz/build.sh   builds the sources of another tree (e.g. a
#   `git archive HEAD` snapshot while others edit the working tree); fuzz/ comes from this one.
set -euo pipefail
fuzzdir=$(cd "$(dirname "$0")" && pwd)
here=${PREFREC_FUZZ_ROOT:-$(cd "$fuzzdir/.." && pwd)}
here=$(cd "$here" && pwd)
cd "$here"
out=${PREFREC_FUZZ_OUT:-$here/build/fuzz}
cc=${CC_FUZZ:-clang}
mkdir -p "$out/obj"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags=(-std=c11 -O1 -g -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc -Itests
        -Wall -Wno-unused-parameter -msse4.2 $san)
srcs=(src/core/*.c src/host/*.c src/data/*.c src/score/*.c src/rank/*.c src/train/*.c src/eval/*.c)
objs=()
for s in "${srcs[@]}"; do objs+=("$out/obj/$(echo "${s%.c}" | tr / _).o"); done
for s in "${srcs[@]}"; do
  o="$out/obj/$(echo "${s%.c}" | tr / _).o"
  if [[ ! -f "$o" || "$s" -nt "$o" || "$fuzzdir/build.sh" -nt "$o" ]] || \
     [[ -n "$(find include src/*/*.h -newer "$o" 2>/dev/null | head -1)" ]]; then
    echo "$cc -fsanitize=fuzzer-no-link ${cflags[*]} -c $s -o $o"
  fi
done | xargs -P "${PREFREC_FUZZ_JOBS:-2}" -I{} sh -c '{}'
for t in csv json pack api member; do
  "$cc" -fsanitize=fuzzer "${cflags[@]}" -DFUZZ_FIXTURES="\"$here/tests/data/mapping_small\"" \
    "$fuzzdir/fuzz_$t.c" "${objs[@]}" -lcjson -lsodium -lm -lpthread -o "$out/fuzz_$t"
  echo "built $out/fuzz_$t"
done
