#!/usr/bin/env bash
# install.sh PREFREC_BIN SRC_DIR: `cmake --install` puts the engine library, its public headers and
# prefrec.pc under a prefix; a small C program (tests/install/consumer.c) builds against them with
# pkg-config alone, and answers a request exactly as `prefrec recommend --request` does. The
# installed headers are the portable API only, and compile as C++ too.
set -uo pipefail
bin=$1; src=$2
build=$(dirname "$bin")
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

cmake --install "$build" --prefix "$T/prefix" >"$T/install.log" 2>&1 || { cat "$T/install.log"; bad "cmake --install"; exit 1; }
inc=$T/prefix/include/prefrec
for h in api blend budget date demog engine member model pack pack_sign prefrec rng sample stamp status topk; do
  [[ -f "$inc/$h.h" ]] || bad "installed header prefrec/$h.h missing"
done
extra=$(cd "$inc" && ls | grep -v -x -E '(api|blend|budget|date|demog|engine|member|model|pack|pack_sign|prefrec|rng|sample|stamp|status|topk)\.h')
[[ -z "$extra" ]] || bad "native-only headers installed: $extra"
export PKG_CONFIG_PATH=$(ls -d "$T"/prefix/lib*/pkgconfig | head -1)
flags=$(pkg-config --cflags --libs --static prefrec) || bad "pkg-config prefrec"
san=""  # a sanitizer build's library needs the same runtime in the program
grep -q '^PREFREC_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null && san="-fsanitize=address,undefined"
cc -std=c11 -Wall -Wextra -Werror $san "$src/tests/install/consumer.c" $flags -o "$T/consumer" 2>"$T/cc.log" \
  || { cat "$T/cc.log"; bad "consumer does not build against the installed files"; }
echo '#include <prefrec/prefrec.h>' | c++ -x c++ -fsyntax-only -Wall -Werror -I"$T/prefix/include" - \
  || bad "the public headers do not compile as C++"

cd "$src"
req='{"gender":"F","age":34,"k":5}'
printf '%s' "$req" > "$T/req.json"
got=$("$T/consumer" models/sample/A01.item.pack "$req")
want=$("$bin" recommend --pack models/sample/A01.item.pack --request "$T/req.json" --json)
grep -q '"ok":[[:space:]]*true' <<<"$got" || bad "consumer's answer is not ok: ${got:0:200}"
[[ "$got" == "$want" ]] || { bad "consumer and prefrec recommend differ"; diff <(echo "$got") <(echo "$want") | head; }
n=$(grep -o "\"rank\":" <<<"$got" | wc -l)
[[ $n == 5 ]] || bad "expected 5 items, got $n"
[[ $fails == 0 ]] && echo "ok   installed engine: library + $(ls "$inc" | wc -l) headers + prefrec.pc; a program built with pkg-config answers like prefrec recommend"
exit $((fails > 0))
