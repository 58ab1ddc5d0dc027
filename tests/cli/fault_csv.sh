#!/usr/bin/env bash
# fault_csv.sh - a purchases file with 1% corrupted rows (every 100th data row: a bad date, a
# bad amount, an unknown product, a missing column, invalid UTF-8) is refused by default with
# the first bad row's file:line; with --skip-bad-rows exactly the good rows load: the summary
# equals that of the same file with the bad rows deleted, and the skipped count is reported.
# Run as: bash fault_csv.sh <prefrec-binary> <repo-root>
set -uo pipefail
bin=$(realpath "$1")
work=$(mktemp -d /tmp/prefrec-fault-csv.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
bad() { fails=$((fails + 1)); echo "FAIL $*"; }

"$bin" gen --out "$work/good" --scale 0.01 --seed 5 --quiet || exit 1
cp -r "$work/good" "$work/bad"
cp -r "$work/good" "$work/clean"
f=LPOINT_BIG_COMP_02_PDDE.csv
# columns: cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct
LC_ALL=C awk -F, -v OFS=, 'NR == 1 { print; next }
  (NR - 1) % 100 == 0 { k = ((NR - 1) / 100) % 5
    if (k == 1) $7 = "20211345"; else if (k == 2) $9 = "12x"; else if (k == 3) $6 = "PD9999"
    else if (k == 4) NF = 9; else $1 = $1 "\377"
    print; next }
  { print }' "$work/good/$f" >"$work/bad/$f"
LC_ALL=C awk 'NR == 1 || (NR - 1) % 100 != 0' "$work/good/$f" >"$work/clean/$f"
rows=$(($(wc -l <"$work/good/$f") - 1))
nbad=$((rows / 100))
echo "$rows rows, $nbad corrupted (every 100th)"

# default: refused at the first bad row (data row 100 = line 101), nothing written to stdout
if "$bin" info --data "$work/bad" >"$work/out" 2>"$work/err"; then
  bad "default: a file with $nbad bad rows was accepted"
else
  grep -q "$f:101:" "$work/err" || bad "default: error does not name $f:101: $(cat "$work/err")"
  [[ -s "$work/out" ]] && bad "default: output written on error"
  echo "ok   refused: $(grep -m1 "$f" "$work/err")"
fi
# the same through score --out: no output file appears
if "$bin" score --data "$work/bad" --out "$work/scores.csv" >/dev/null 2>&1; then bad "score accepted the bad file"
else [[ -e "$work/scores.csv" ]] && bad "score left $work/scores.csv behind"; ls "$work" | grep -q '\.tmp\.' && bad "score left a temp file"; fi

# --skip-bad-rows: exactly the good rows
"$bin" info --data "$work/bad" --skip-bad-rows --json >"$work/skip.json" 2>"$work/skip.err" || bad "skip: failed: $(cat "$work/skip.err")"
"$bin" info --data "$work/clean" --json >"$work/clean.json" 2>/dev/null || bad "clean file refused"
grep -q "\"rows\":[[:space:]]*$((rows - nbad))," "$work/skip.json" || bad "skip: rows != $((rows - nbad))"
grep -q "\"skipped_rows\":[[:space:]]*$nbad" "$work/skip.json" || bad "skip: skipped_rows != $nbad"
grep -q "skipped $nbad bad rows" "$work/skip.err" || bad "skip: stderr does not report $nbad skipped rows: $(head -3 "$work/skip.err")"
# the same summary as the file without the bad rows (source path and skipped count aside)
norm() { grep -v '"source"\|"skipped_rows"' "$1"; }
diff <(norm "$work/skip.json") <(norm "$work/clean.json") >"$work/diff" || bad "skip: summary differs from the clean file: $(head "$work/diff")"
[[ $fails == 0 ]] && echo "ok   --skip-bad-rows: $((rows - nbad)) rows, $nbad skipped; summary equals the clean file's" \
  && echo "     $(head -1 "$work/skip.err")"
echo "fault_csv: $fails failed"
[[ $fails == 0 ]]
