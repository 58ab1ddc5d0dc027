#!/usr/bin/env bash
# mapping.sh - a data set given as a mapping .json (the generic layout, README "Your own data")
# under `mpirun -n N` (the native-mpi build, docs/mpi.md): score, validate, train and
# export --records write what one process writes, for N = 1, 2, 3 (train: every pack section but
# the NeuMF weights, as tests/mpi/sharded.sh); a bad row owned by a rank other than 0 ends the
# job with the one-process message (file:line:column) and no output.
# The data is made here from `prefrec gen` output: other column names and order, a day/month/year
# time, quoted codes, a products file missing every 7th product (those are numbered after the
# file's products in the order of their first line, by every rank), lines of quantity 0,
# purchases cancelled in their receipt and returns without a purchase (dropped and counted by the
# returns rule). A second mapping has no products, customers or affiliate column (every product
# first seen in the transactions, affiliate ALL) and the lines reversed with CRLF line ends and
# no final one, so products are first seen on other ranks in other orders.
# Run as: bash mapping.sh <prefrec-binary> <repo-root> <mpiexec> <records_dump>
set -uo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
mpiexec=${3:-mpirun}
dump=${4:+$(realpath "$4")}
# shellcheck source=common.bash
source "$(dirname "$0")/common.bash" # $work, bad, ok, run, one
cd "$work" || exit 1

"$bin" gen --out g --scale 0.01 --seed 3 --quiet || exit 1
mkdir -p a b
# g's purchases (cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct) as
# basket,member,when,item,store,shop,qty,spend; every 50th line also cancelled in its receipt,
# every 97th followed by a line of quantity 0, every 131st by a return with no purchase
awk -F, 'NR == 1 { print "basket,\"member\",when,item,store,shop,qty,spend"; next }
  { w = sprintf("%s/%s/%s %02d:00", substr($7, 7, 2), substr($7, 5, 2), substr($7, 1, 4), $8)
    row = sprintf("%s,\"%s\",%s,%s,%s,%s,", $2, $1, w, $6, $5, $4)
    print row $10 "," $9
    if (NR % 50 == 0) print row "-" $10 ",-" $9
    if (NR % 97 == 0) print row "0,0"
    if (NR % 131 == 0) print "R" NR ",\"" $1 "\"," w "," $6 "," $5 "," $4 ",-1,-500" }' \
  g/LPOINT_BIG_COMP_02_PDDE.csv >a/tx.csv
awk -F, 'NR == 1 { print "sku,title,dept,aisle"; next } NR % 7 != 0 { print }' \
  g/LPOINT_BIG_COMP_04_PD_CLAC.csv >a/items.csv
awk -F, 'NR == 1 { print "id,sex,age"; next } { print "\"" $1 "\"," $2 "," $3 }' \
  g/LPOINT_BIG_COMP_01_DEMO.csv >a/members.csv
cat >a/map.json <<'EOF'
{"transactions": {"path": "tx.csv", "customer": "member", "product": "item", "time": "when",
                  "time_format": "%d/%m/%Y %H:%M", "quantity": "qty", "amount": "spend",
                  "receipt": "basket", "affiliate": "shop", "store": "store"},
 "products": {"path": "items.csv", "product": "sku", "name": "title", "category": "dept",
              "subcategory": "aisle"},
 "customers": {"path": "members.csv", "customer": "id", "age": "age", "gender": "sex"}}
EOF
{ head -n 1 a/tx.csv; tail -n +2 a/tx.csv | tac; } | sed 's/$/\r/' | head -c -2 >b/tx.csv
cat >b/map.json <<'EOF'
{"transactions": {"path": "tx.csv", "customer": "member", "product": "item", "time": "when",
                  "time_format": "%d/%m/%Y %H:%M", "quantity": "qty", "amount": "spend",
                  "receipt": "basket", "affiliate": null, "store": null}}
EOF
# the data has what it is meant to have (one process's own account of it)
"$bin" info --data a/map.json >info.txt 2>&1 || bad "info a: $(head -c 300 info.txt)"
grep -Eq 'not in (the )?catalog' info.txt && grep -q 'zero' info.txt ||
  bad "info a: no products outside the catalog or no zero lines: $(head -c 600 info.txt)"

for m in a b; do
  one "$bin" score --data $m/map.json --out one.csv 2>/dev/null || bad "one-process score $m"
  one "$bin" validate --data $m/map.json --cutoff 2021-10-01 --json one.json >one.txt 2>/dev/null ||
    bad "one-process validate $m"
  [[ $(wc -l <one.csv) -gt 1000 ]] || bad "$m: the one-process score has too few pairs"
  for n in 1 2 3; do
    rm -f n.csv n.json
    if run "$n" "$bin" score --data $m/map.json --out n.csv 2>err; then
      cmp -s one.csv n.csv && ok "$m: score, $n ranks: the same bytes" ||
        bad "$m: score, $n ranks: differs from one process"
    else
      bad "$m: score, $n ranks failed: $(head -c 300 err)"
    fi
    if run "$n" "$bin" validate --data $m/map.json --cutoff 2021-10-01 --json n.json >n.txt 2>err; then
      cmp -s one.json n.json && cmp -s one.txt n.txt &&
        ok "$m: validate, $n ranks: the same JSON and table" ||
        bad "$m: validate, $n ranks: differs from one process"
    else
      bad "$m: validate, $n ranks failed: $(head -c 300 err)"
    fi
  done
done

# train, with the blend (every section but the NeuMF weights the one-process bytes) and the
# NeuMF within the tolerance of docs/mpi.md
tr=(--epochs 1 --dim 8 --seed 5 --quiet)
for m in a b; do
  rm -rf one.p
  one "$bin" train --data $m/map.json "${tr[@]}" --out one.p --json one.tj >/dev/null 2>&1 ||
    bad "one-process train $m"
  [[ $(ls one.p/*.pack 2>/dev/null | wc -l) -ge 1 ]] || bad "$m: one-process train wrote no pack"
  for n in 1 2 3; do
    [[ $m == b && $n != 3 ]] && continue # time: the second mapping at 3 ranks only
    rm -rf n.p
    if run "$n" "$bin" train --data $m/map.json "${tr[@]}" --out n.p --json n.tj >/dev/null 2>err; then
      same=1
      for pk in one.p/*.pack; do sections_same "$pk" "n.p/${pk##*/}" || same=0; done
      [[ $(ls n.p | wc -l) -eq $(ls one.p | wc -l) ]] || same=0
      [[ $same -eq 1 ]] && ok "$m: train, $n ranks: all but the NeuMF the one-process bytes" ||
        bad "$m: train, $n ranks: a non-NeuMF section differs from one process"
      if w=$(rmse_close one.tj n.tj); then
        ok "$m: train, $n ranks: valid RMSE within 0.03 of one process (worst $w)"
      else
        bad "$m: train, $n ranks: valid RMSE off by $w"
      fi
    else
      bad "$m: train, $n ranks failed: $(head -c 300 err)"
    fi
  done
done

# export --records from the mapping's purchases: each member's record opens to the one-process
# record (tests/mpi/export.sh says how they are compared)
if [[ -x "$dump" ]]; then
  rm -rf full && one "$bin" train --data a/map.json --affiliate all --epochs 1 --seed 4 --quiet \
    --out full >/dev/null 2>&1 || bad "one-process train --affiliate all"
  packs=()
  for f in full/*.pack; do packs+=(--pack "$f"); done
  awk -F, 'NR > 1 { gsub(/"/, "", $1); print $1 }' a/members.csv >codes.txt
  awk -F, 'NR > 1 { gsub(/"/, "", $2); print $2 }' a/tx.csv >>codes.txt
  sort -u -o codes.txt codes.txt
  eid=0123456789abcdef0123456789abcdef
  rexp() { "$bin" export "${packs[@]}" --out "$1" --shards 4 --export-id $eid --records "$2" \
    --data a/map.json --token-key tk; }
  one rexp rone rec1 >rone.out 2>rone.err || bad "one-process export --records: $(head -c 300 rone.err)"
  "$dump" rec1 tk codes.txt >dump1.txt || bad "records_dump rec1"
  nrec=$(grep -c ' state ' dump1.txt)
  [[ $nrec -gt 100 ]] || bad "one process: $nrec records"
  for n in 1 2 3; do
    if run "$n" "$bin" export "${packs[@]}" --out "rn$n" --shards 4 --export-id $eid \
      --records "rec$n$n" --data a/map.json --token-key tk >"rn$n.out" 2>err; then
      "$dump" "rec$n$n" tk codes.txt >"dump$n$n.txt" || bad "records_dump rec$n$n"
      cmp -s dump1.txt "dump$n$n.txt" &&
        ok "export --records, $n ranks: $nrec records, each opens to the one-process record" ||
        bad "export --records, $n ranks: records differ: $(diff dump1.txt "dump$n$n.txt" | head -c 300)"
      diff -r rone "rn$n" >/dev/null && ok "export --records, $n ranks: packs and shards the same bytes" ||
        bad "export --records, $n ranks: packs differ: $(diff -rq rone "rn$n" | head -3)"
    else
      bad "export --records, $n ranks failed: $(head -c 300 err)"
    fi
  done
else
  bad "records_dump is not built (cmake --build --preset native-mpi --target records_dump)"
fi

# a bad time on a line of a member owned by rank 1 of 2 and rank 2 of 3, in the last third of
# the file: the one-process message, no output
read -r at code < <(python3 - a/tx.csv <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
def fnv(s):
    h = 2166136261
    for b in s.encode():
        h = ((h ^ b) * 16777619) % 2**32
    return h
for i in range(len(lines) * 3 // 4, len(lines)):
    code = lines[i].split(",")[1].strip('"') if lines[i] else ""
    if code and fnv(code) % 2 == 1 and fnv(code) % 3 == 2:
        print(i + 1, code)
        break
PY
)
mkdir -p bad && cp a/items.csv a/members.csv a/map.json bad/
awk -F, -v OFS=, -v at="$at" 'NR == at { $3 = "31/02/2021 10:00" } { print }' a/tx.csv >bad/tx.csv
one "$bin" score --data bad/map.json --out one.csv 2>one.err && bad "one process took the bad time"
grep -q "tx.csv:$at:.*bad time" one.err || bad "one-process error does not name line $at: $(cat one.err)"
for n in 2 3; do
  rm -f n.csv
  if run "$n" "$bin" score --data bad/map.json --out n.csv 2>err; then
    bad "bad time (member $code), $n ranks: exit 0"
  else
    grep -Fq "$(cat one.err)" err && [[ $(grep -c "error:" err) -eq 1 ]] &&
      ok "bad time, $n ranks: $(cat one.err)" || bad "bad time, $n ranks: $(head -c 400 err)"
    [[ ! -e n.csv ]] && [[ -z $(ls -A . | grep '\.tmp\.') ]] && ok "bad time, $n ranks: no output" ||
      bad "bad time, $n ranks: an output or temp file was written"
  fi
done
rm -rf n.p
run 3 "$bin" train --data bad/map.json "${tr[@]}" --out n.p >/dev/null 2>err && bad "bad time, train: exit 0"
msg=$(sed 's/.*error: //' one.err)
grep -Fq "prefrec train: error: $msg" err && [[ ! -e n.p ]] &&
  ok "bad time, train, 3 ranks: the one-process error, nothing written" ||
  bad "bad time, train, 3 ranks: $(head -c 400 err)"
# a quoted line break in the transactions: refused with its line
awk -F, -v OFS=, 'NR == 100 { $5 = "\"S\nX\"" } { print }' a/tx.csv >bad/tx.csv
if run 2 "$bin" validate --data bad/map.json --cutoff 2021-10-01 >/dev/null 2>err; then
  bad "quoted line break: exit 0"
else
  grep -q "tx.csv:100: a quoted field holds a line break" err &&
    ok "quoted line break refused at line 100" || bad "quoted line break: $(head -c 300 err)"
fi
[[ $fails -eq 0 ]] && echo "mapping: all ok" || echo "mapping: $fails failure(s)"
exit $((fails > 0))
