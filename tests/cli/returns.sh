#!/usr/bin/env bash
# returns.sh - returns, cancellations and zero lines are not purchases, in every command (issue
# 21; README, "Returns, cancellations and zero lines"). Generated purchases get, beside some of
# their lines, a return of the whole line in the same receipt (the line nets to 0), a zero line,
# a partial return (nets above 0) and a return in a receipt of its own (of an earlier purchase);
# score, validate and eval must give exactly what they give on the data without the netted-away
# lines, and info must count each kind. The review's case (bought once, returned twice) must
# score as bought once.
# Run as: bash returns.sh <prefrec-binary> <repo-root>
set -uo pipefail
bin=$(realpath "$1")
work=$(mktemp -d /tmp/prefrec-returns.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
bad() { fails=$((fails + 1)); echo "FAIL $*"; }
ok() { echo "ok   $*"; }

"$bin" gen --out "$work/good" --scale 0.01 --seed 5 --quiet || exit 1
cp -r "$work/good" "$work/ret"
cp -r "$work/good" "$work/clean"
f=LPOINT_BIG_COMP_02_PDDE.csv
# columns: cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct. A generated receipt
# has at most one line per product, so each added line meets only the line it follows.
LC_ALL=C awk -F, -v OFS=, 'NR == 1 { print; next }
  { print }
  NR % 40 == 0 { $9 = -$9; $10 = -$10; print; next }            # whole line returned: nets to 0
  NR % 40 == 7 { $9 = 0; $10 = 0; print; next }                  # zero line
  NR % 40 == 13 && $10 >= 2 { $9 = -1; $10 = -1; print; next }   # partial return: nets to >= 1
  NR % 40 == 21 { $2 = "RET" NR; $9 = -$9; $10 = -$10; print }   # return of an earlier purchase
' "$work/good/$f" >"$work/ret/$f"
LC_ALL=C awk 'NR == 1 || NR % 40 != 0' "$work/good/$f" >"$work/clean/$f"
lines=$(($(wc -l <"$work/good/$f") - 1))
cancelled=$(awk 'NR > 1 && NR % 40 == 0' "$work/good/$f" | wc -l)
zero=$(awk 'NR > 1 && NR % 40 == 7' "$work/good/$f" | wc -l)
partial=$(awk -F, 'NR > 1 && NR % 40 == 13 && $10 >= 2' "$work/good/$f" | wc -l)
unmatched=$(awk 'NR > 1 && NR % 40 == 21' "$work/good/$f" | wc -l)
returns=$((cancelled + partial + unmatched))
echo "$lines lines; added: $cancelled whole returns, $zero zero lines, $partial partial, $unmatched in receipts of their own"
[[ $partial -gt 0 && $unmatched -gt 0 ]] || bad "the generated file has no line for a case"

# info: the purchases of the clean file, and each kind counted
"$bin" info --data "$work/ret" --json >"$work/ret.json" 2>"$work/ret.err" || bad "info failed: $(cat "$work/ret.err")"
"$bin" info --data "$work/clean" --json >"$work/clean.json" 2>/dev/null || bad "info on the clean file failed"
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d' + sys.argv[2]))" "$@"; }
[[ $(jget "$work/ret.json" '["rows"]') == $((lines - cancelled)) ]] || bad "info: rows != $((lines - cancelled))"
[[ $(jget "$work/ret.json" '["not_purchases"]["returns"]') == "$returns" ]] || bad "info: returns != $returns"
[[ $(jget "$work/ret.json" '["not_purchases"]["returns_without_purchase"]') == "$unmatched" ]] || bad "info: returns_without_purchase != $unmatched"
[[ $(jget "$work/ret.json" '["not_purchases"]["zero_lines"]') == "$zero" ]] || bad "info: zero_lines != $zero"
[[ $(jget "$work/ret.json" '["not_purchases"]["netted_purchase_lines"]') == "$cancelled" ]] || bad "info: netted_purchase_lines != $cancelled"
[[ $(jget "$work/ret.json" '["not_purchases"]["lines"]') == $((returns + zero + cancelled)) ]] || bad "info: lines"
[[ $(jget "$work/clean.json" '["not_purchases"]["lines"]') == 0 ]] || bad "info: the clean file has lines that are not purchases"
# the same summary as the clean file (receipts and branches are those of purchase lines; the Lpay
# file's payments are matched against every receipt of the purchase file)
norm() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); [d.pop(k) for k in ('source','not_purchases','lpay')]; print(json.dumps(d, sort_keys=True))" "$1"; }
[[ "$(norm "$work/ret.json")" == "$(norm "$work/clean.json")" ]] || bad "info: summary differs from the clean file's"
"$bin" info --data "$work/ret" >"$work/ret.txt" 2>/dev/null
th() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; } # 1234 -> 1,234
grep -qF "$(th $returns) returns ($(th $unmatched) without their purchase in the receipt), $(th $zero) zero lines, $(th $cancelled) purchase lines netted away" "$work/ret.txt" \
  || bad "info text: $(grep '^returns:' "$work/ret.txt")"
[[ $fails == 0 ]] && ok "info: $(grep '^returns:' "$work/ret.txt")"

# every command reads through the same rule: the same output as on the clean file
for d in ret clean; do
  "$bin" score --data "$work/$d" --out "$work/$d.scores.csv" 2>/dev/null || bad "score on $d failed"
  "$bin" validate --data "$work/$d" --cutoff 2021-10-01 --json "$work/$d.validate.json" >/dev/null 2>&1 || bad "validate on $d failed"
  "$bin" eval --data "$work/$d" --cutoff 2021-10-01 --rankers pop,rep_freq,seed_score --threads 1 \
    --json "$work/$d.eval.json" >/dev/null 2>&1 || bad "eval on $d failed"
done
cmp -s "$work/ret.scores.csv" "$work/clean.scores.csv" && ok "score: the same $(($(wc -l <"$work/ret.scores.csv") - 1)) pairs as the clean file" \
  || bad "score differs from the clean file's"
cmp -s "$work/ret.validate.json" "$work/clean.validate.json" && ok "validate: the same table" || bad "validate differs"
nosec() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); [d.pop(k, None) for k in list(d) if k.endswith('seconds')]; print(json.dumps(d, sort_keys=True))" "$1"; }
[[ "$(nosec "$work/ret.eval.json")" == "$(nosec "$work/clean.eval.json")" ]] && ok "eval: the same figures" || bad "eval differs"

# the review's case: bought once and returned twice (buy_ct -1, buy_am -1000) scored 3.5
# against 2.5 for one purchase; now both are one purchase and score alike
mkdir -p "$work/r"
cp "$2/tests/data/lpoint_small/LPOINT_BIG_COMP_0"[14]*.csv "$work/r/"
printf '%s\n' 'cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct' \
  'M002,R1,1,A01,B1,PD0001,20210105,10,1000,1' 'M002,R1,1,A01,B1,PD0002,20210105,10,1000,1' \
  'M002,R2,1,A01,B1,PD0001,20210110,10,-1000,-1' 'M002,R3,1,A01,B1,PD0001,20210115,10,-1000,-1' \
  'M002,R4,1,A01,B1,PD0002,20210120,10,0,0' >"$work/r/$f"
"$bin" score --data "$work/r" --asof 2021-02-01 --out "$work/r.csv" 2>/dev/null || bad "score on the review's case failed"
p1=$(grep '^A01,M002,PD0001,' "$work/r.csv" | cut -d, -f4,5,11)
p2=$(grep '^A01,M002,PD0002,' "$work/r.csv" | cut -d, -f4,5,11)
[[ -n $p1 && ${p1%%,*} == 1 && ${p1#*,} == "${p2#*,}" && ${p1%%,*} == "${p2%%,*}" ]] \
  && ok "bought once and returned twice: count,last,score $p1; bought once: $p2" \
  || bad "review's case: returned product $p1, bought once $p2"

echo "returns: $fails failed"
[[ $fails == 0 ]]
