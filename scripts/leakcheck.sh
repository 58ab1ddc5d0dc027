#!/usr/bin/env bash
# leakcheck.sh - the native CLI over generated demo data, every step checked for leaks and
# memory errors:
#   bash scripts/leakcheck.sh              LeakSanitizer + ASan + UBSan (the native-asan preset)
#   bash scripts/leakcheck.sh --valgrind   valgrind --leak-check=full on the native (Release)
#                                          build (slow: train and eval take minutes)
# Steps: gen (scale 0.05), info, score, validate, train --epochs 2, eval --rankers
# pop,itemknn,blend_served, export, recommend (known, history, segment), plan ratio/subscribe/
# stamp, and refused inputs (bad CSV, corrupt pack, bad request) since error paths leak too.
# Exit 0 only if every step ran clean (a leak or memory error fails the step).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=asan
[[ "${1:-}" == --valgrind ]] && mode=valgrind
threads=2
if [[ $mode == asan ]]; then
  cmake --preset native-asan >/dev/null && cmake --build --preset native-asan -j $threads --target prefrec >/dev/null || exit 1
  bin=$here/build/native-asan/prefrec
  export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=99:abort_on_error=0
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  run=()
else
  command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 1; }
  cmake --preset native >/dev/null && cmake --build --preset native -j $threads --target prefrec >/dev/null || exit 1
  bin=$here/build/native/prefrec
  run=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
       --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99)
fi
work=$(mktemp -d /tmp/prefrec-leakcheck.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0 steps=0
# step NAME EXPECT(0|fail) ARGS...: runs prefrec under the checker; a checker report (exit 99
# or a sanitizer/valgrind message) fails the step, as does an unexpected exit status.
step() {
  local name=$1 expect=$2; shift 2
  steps=$((steps + 1))
  local t0=$SECONDS
  "${run[@]}" "$bin" "$@" >"$work/$name.out" 2>"$work/$name.err"
  local rc=$?
  local dt=$((SECONDS - t0))
  if [[ $rc == 99 ]] || grep -qE "LeakSanitizer|AddressSanitizer|runtime error:|definitely lost: [1-9]|Invalid (read|write)" "$work/$name.err"; then
    fails=$((fails + 1)); echo "LEAK/ERROR $name (exit $rc)"; grep -m 20 -E "ERROR|SUMMARY|runtime error|lost|Invalid|#[0-9] " "$work/$name.err"
  elif [[ $expect == 0 && $rc != 0 ]] || [[ $expect == fail && $rc == 0 ]]; then
    fails=$((fails + 1)); echo "FAIL $name: exit $rc (expected $expect)"; tail -5 "$work/$name.err"
  else
    echo "clean $name (exit $rc, ${dt}s)"
  fi
}

d=$work/data
step gen 0 gen --out "$d" --scale 0.05 --seed 11 --quiet
step info 0 info --data "$d"
step info_json 0 info --data "$d" --json
step score 0 score --data "$d" --out "$work/scores.csv"
step validate 0 validate --data "$d" --cutoff 2021-10-01 --end 2022-01-01 --json "$work/v.json" --svg "$work/v.svg"
step train 0 train --data "$d" --affiliate all --epochs 2 --threads $threads --seed 11 --quiet --out "$work/packs"
step eval 0 eval --data "$d" --cutoff 2021-10-01 --rankers pop,itemknn,blend_served --threads $threads --seed 11 --json "$work/eval.json"
step export 0 export --pack "$work/packs/A01.pack" --out "$work/web" --shards 4
cust=$(awk -F, 'NR > 1 && $4 == "A01" {print $1; exit}' "$d/LPOINT_BIG_COMP_02_PDDE.csv")
prod=$(awk -F, 'NR > 1 && $4 == "A01" {print $6; exit}' "$d/LPOINT_BIG_COMP_02_PDDE.csv")
printf '%s\n' "$prod" >"$work/hist.txt"
step recommend_known 0 recommend --pack "$work/packs" --affiliate A01 --customer "$cust" --k 10 --sample 3 --seed 1
step recommend_history 0 recommend --pack "$work/packs/A01.pack" --customer NEW1 --history "$work/hist.txt" --json
step recommend_segment 0 recommend --pack "$work/packs/A02.pack" --gender F --age 30대 --k 5
step plan_ratio 0 plan ratio --pack "$work/packs" --customer "$cust" --seed 3 --json
step plan_subscribe 0 plan subscribe --pack "$work/packs" --affiliate A01 --customer "$cust"
step plan_stamp 0 plan stamp --pack "$work/packs" --affiliate A01 --customer "$cust" --json
# error paths
cp -r "$d" "$work/badcsv"
sed -i '5s/,2021\([0-9]*\),/,20211399,/' "$work/badcsv/LPOINT_BIG_COMP_02_PDDE.csv"
step bad_csv fail info --data "$work/badcsv"
step bad_csv_skip 0 info --data "$work/badcsv" --skip-bad-rows
head -c 5000 "$work/packs/A01.pack" >"$work/trunc.pack"
step bad_pack fail recommend --pack "$work/trunc.pack" --customer "$cust"
printf '{"plan":"recommend","k":0,"bogus":1}' >"$work/badreq.json"
step bad_request fail recommend --pack "$work/packs" --affiliate A01 --request "$work/badreq.json" --json

echo "leakcheck ($mode): $steps steps, $fails with leaks, memory errors or wrong exit"
[[ $fails == 0 ]]
