#!/usr/bin/env bash
# gen_parts.sh PREFREC_BIN SRC_DIR: `prefrec gen --parts N` writes the purchases as a part
# directory (LPOINT_BIG_COMP_02_PDDE.csv/part-00000.csv ..) whose rows, parts taken in order,
# are the single file's rows; the loaders read it as that file (score and validate write the
# same bytes); a bad row names its part and line; stray files and a different header are
# refused; a part directory is replaced in one step.
set -uo pipefail
bin=$(realpath "$1")
work=$(mktemp -d /tmp/prefrec-parts.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
bad() { fails=$((fails + 1)); echo "FAIL $*"; }
ok() { echo "ok   $*"; }
f=LPOINT_BIG_COMP_02_PDDE.csv

"$bin" gen --out "$work/s" --scale 0.01 --seed 3 --quiet || exit 1
"$bin" gen --out "$work/p" --scale 0.01 --seed 3 --parts 3 --quiet || exit 1
# 299 customers in 3 parts: customers [0, 99), [99, 199), [199, 299)
[[ -d "$work/p/$f" ]] && [[ $(ls "$work/p/$f") == "part-00000.csv
part-00001.csv
part-00002.csv" ]] && ok "--parts 3: three part files" || bad "--parts 3: $(ls -la "$work/p/$f")"
for x in "$work/p/$f"/part-*.csv; do
  [[ $(head -n 1 "$x") == $(head -n 1 "$work/s/$f") ]] || bad "$x: not the header"
done
if cmp -s <(for x in "$work/p/$f"/part-*.csv; do tail -n +2 "$x"; done) <(tail -n +2 "$work/s/$f"); then
  ok "the parts' rows in order are the single file's rows"
else
  bad "the parts' rows differ from the single file's"
fi
for x in 01_DEMO 04_PD_CLAC 06_LPAY; do
  cmp -s "$work/s/LPOINT_BIG_COMP_$x.csv" "$work/p/LPOINT_BIG_COMP_$x.csv" || bad "$x differs with --parts"
done
# a customer's lines are in one part: the part of customer index i is i * 3 / 299
cut -d, -f1 <(tail -q -n +2 "$work/p/$f"/part-*.csv) | uniq | sort | uniq -d | head -1 >"$work/dup"
[[ ! -s "$work/dup" ]] && ok "every customer's lines are in one run" || bad "customer split: $(cat "$work/dup")"

# the loaders read the parts as the file: the same score CSV and validate JSON and table
"$bin" score --data "$work/s" --out "$work/s.csv" 2>/dev/null || bad "score on the single file"
"$bin" score --data "$work/p" --out "$work/p.csv" 2>/dev/null || bad "score on the part directory"
[[ $(wc -l <"$work/s.csv") -gt 1000 ]] && cmp -s "$work/s.csv" "$work/p.csv" &&
  ok "score: a part directory gives the single file's bytes" || bad "score differs on the parts"
# (in the native-mpi build the line above took the sharded path: this one the one-process path)
PREFREC_ONE_PROCESS=1 "$bin" score --data "$work/p" --out "$work/p1.csv" 2>/dev/null &&
  cmp -s "$work/s.csv" "$work/p1.csv" || bad "score (PREFREC_ONE_PROCESS=1) differs on the parts"
"$bin" validate --data "$work/s" --cutoff 2021-10-01 --json "$work/s.json" >"$work/s.txt" 2>/dev/null
"$bin" validate --data "$work/p" --cutoff 2021-10-01 --json "$work/p.json" >"$work/p.txt" 2>/dev/null
cmp -s "$work/s.json" "$work/p.json" && cmp -s "$work/s.txt" "$work/p.txt" &&
  ok "validate: the same JSON and table" || bad "validate differs on the parts"

# more parts than customers (3 customers in 5 parts): empty parts (header only) are fine
"$bin" gen --out "$work/t" --scale 0.0001 --seed 3 --parts 5 --quiet || bad "gen --parts 5 of 3 customers"
"$bin" gen --out "$work/t1" --scale 0.0001 --seed 3 --quiet
n_empty=$(for x in "$work/t/$f"/part-*.csv; do wc -l <"$x"; done | grep -cx 1)
[[ $n_empty -ge 2 ]] && ok "5 parts of 3 customers: $n_empty header-only parts" || bad "empty parts: $n_empty"
"$bin" score --data "$work/t" --out "$work/t.csv" 2>/dev/null &&
  "$bin" score --data "$work/t1" --out "$work/t1.csv" 2>/dev/null && cmp -s "$work/t.csv" "$work/t1.csv" &&
  ok "empty parts: the same scores" || bad "empty parts: scores differ"

# errors: a bad date in the second part names it and its line (line 5 of part-00001.csv)
cp -r "$work/p" "$work/b"
awk -F, -v OFS=, 'NR == 5 { $7 = "2021-13-45" } { print }' "$work/p/$f/part-00001.csv" >"$work/b/$f/part-00001.csv"
"$bin" score --data "$work/b" --out "$work/b.csv" 2>"$work/err" && bad "bad date in a part: exit 0"
grep -q "$f/part-00001.csv:5:[0-9]*: bad date '2021-13-45'" "$work/err" && ok "bad date: $(cat "$work/err")" ||
  bad "bad date: $(cat "$work/err")"
[[ ! -e "$work/b.csv" ]] || bad "bad date: output written"
# a part whose header differs
cp "$work/p/$f/part-00001.csv" "$work/b/$f/part-00001.csv"
sed -i '1s/buy_am,buy_ct/buy_ct,buy_am/' "$work/b/$f/part-00002.csv"
"$bin" score --data "$work/b" --out "$work/b.csv" 2>"$work/err" && bad "different header: exit 0"
grep -q "part-00002.csv:1: the header differs from the first part's" "$work/err" &&
  ok "different header refused" || bad "different header: $(cat "$work/err")"
cp "$work/p/$f/part-00002.csv" "$work/b/$f/part-00002.csv"
# bookkeeping files (_SUCCESS, .crc) are skipped; any other file is refused, by name
touch "$work/b/$f/_SUCCESS" "$work/b/$f/.part-00000.csv.crc"
"$bin" score --data "$work/b" --out "$work/b.csv" 2>/dev/null && cmp -s "$work/b.csv" "$work/s.csv" &&
  ok "_SUCCESS and .crc files skipped" || bad "bookkeeping files"
touch "$work/b/$f/extra.csv"
"$bin" score --data "$work/b" --out "$work/c.csv" 2>"$work/err" && bad "stray file: exit 0"
grep -q "$f/extra.csv: not a part file" "$work/err" && ok "stray file refused by name" || bad "stray: $(cat "$work/err")"
rm "$work/b/$f"/part-*.csv "$work/b/$f/extra.csv"
"$bin" score --data "$work/b" --out "$work/c.csv" 2>"$work/err" && bad "no parts: exit 0"
grep -q "a part directory without part-\*.csv files" "$work/err" && ok "no parts: said so" || bad "no parts: $(cat "$work/err")"

# replacing: 3 parts by 2, a part directory by nothing else unless asked, a file by parts
"$bin" gen --out "$work/p" --scale 0.01 --seed 3 --parts 2 --quiet || bad "gen --parts 2 over 3 parts"
[[ $(ls -A "$work/p/$f" | wc -l) -eq 2 ]] && [[ -z $(ls -A "$work/p" | grep tmp) ]] &&
  ok "3 parts replaced by 2, no temporary left" || bad "replace: $(ls -A "$work/p" "$work/p/$f")"
"$bin" score --data "$work/p" --out "$work/p2.csv" 2>/dev/null && cmp -s "$work/p2.csv" "$work/s.csv" ||
  bad "2 parts: other scores"
"$bin" gen --out "$work/p" --scale 0.01 --seed 3 --quiet 2>"$work/err" && bad "one file over parts: exit 0"
grep -q "is a part directory (gen --parts)" "$work/err" && ok "one file over a part directory: refused" ||
  bad "one file over parts: $(cat "$work/err")"
"$bin" gen --out "$work/s" --scale 0.01 --seed 3 --parts 4 --quiet && [[ -d "$work/s/$f" ]] &&
  ok "a single file replaced by 4 parts" || bad "file replaced by parts"
"$bin" gen --out "$work/x" --parts 0 2>"$work/err" && bad "--parts 0: exit 0"
grep -q -- "--parts must be 1..100000" "$work/err" || bad "--parts 0: $(cat "$work/err")"

[[ $fails -eq 0 ]] && echo "gen_parts: all ok" || echo "gen_parts: $fails failure(s)"
exit $((fails > 0))
