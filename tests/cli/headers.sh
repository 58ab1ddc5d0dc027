#!/usr/bin/env bash
# headers.sh PREFREC_BIN SRC_DIR: every header under include/ compiles on its own, as C11 and as
# C++ (extern "C" guards), and names its own guard. Native headers need cJSON and the system's.
set -uo pipefail
src=$2
fails=0
cd "$src"
for h in include/prefrec/*.h include/prefrec/native/*.h; do
  rel=${h#include/}
  echo "#include \"$rel\"" | cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -Iinclude -x c - 2>/tmp/hdr.$$ \
    || { echo "FAIL $rel does not compile alone as C:"; head -5 /tmp/hdr.$$; fails=$((fails + 1)); }
  printf '#include "%s"\nextern "C" int probe_(void);\n' "$rel" | c++ -Wall -Werror -fsyntax-only -Iinclude -x c++ - 2>/tmp/hdr.$$ \
    || { echo "FAIL $rel does not compile as C++:"; head -5 /tmp/hdr.$$; fails=$((fails + 1)); }
  if ! grep -q '^#ifdef __cplusplus' "$h" && grep -qE '^[a-z].*\(' "$h"; then
    echo "FAIL $rel declares functions without extern \"C\" guards"; fails=$((fails + 1))
  fi
done
rm -f /tmp/hdr.$$
n=$(ls include/prefrec/*.h include/prefrec/native/*.h | wc -l)
[[ $fails == 0 ]] && echo "ok   $n headers compile alone as C11 and C++, with extern \"C\" guards"
exit $((fails > 0))
