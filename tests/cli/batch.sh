#!/usr/bin/env bash
# batch.sh - campaign batches (prefrec recommend|plan --all|--members FILE --out FILE): for
# recommend and each plan the batch holds, for every member, exactly the answer of the
# one-member request (`--customer C --json`), in member order; 1 and 2 threads write the same
# bytes; the CSV is the JSON answers' products, one row each; an exported set (item packs +
# shards) serves every customer of its shards; bad member files, unknown or repeated members and
# an unwritable output fail with FILE:LINE and leave no file (or, with --errors, are listed).
# Run as: bash batch.sh <prefrec-binary> <repo-root>
set -euo pipefail
bin=$1
root=$2
work=$(mktemp -d /tmp/prefrec-cli-batch.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# tiny data: 60 customers in A01, 93 in A02, 44 in A03 (as the train log says)
"$bin" gen --out "$work/data" --scale 0.005 --seed 5 --quiet
"$bin" train --data "$work/data" --affiliate all --epochs 2 --seed 5 --quiet --out "$work/packs" \
  >/dev/null 2>"$work/train.err" || { cat "$work/train.err"; fail "train"; }
packs=$work/packs

# one batch per plan, 1 and 2 threads, both formats: the same bytes for any thread count
plans=("recommend --affiliate A01 --k 5 --sample 2 --seed 7"
       "plan ratio --k 4 --seed 3"
       "plan subscribe --affiliate A02 --k 3"
       "plan stamp --affiliate A03 --categories 2 --per-category 3")
for i in 0 1 2 3; do
  for t in 1 2; do
    for f in csv jsonl; do
      # shellcheck disable=SC2086
      "$bin" ${plans[$i]} --pack "$packs" --all --threads $t --format $f --out "$work/b$i.t$t.$f" \
        2>"$work/b$i.err" || { cat "$work/b$i.err"; fail "batch ${plans[$i]}"; }
    done
  done
  cmp -s "$work/b$i.t1.csv" "$work/b$i.t2.csv" || fail "${plans[$i]}: csv differs for 1 and 2 threads"
  cmp -s "$work/b$i.t1.jsonl" "$work/b$i.t2.jsonl" || fail "${plans[$i]}: jsonl differs for 1 and 2 threads"
done

# the members of --all: every customer of the serving pack, in byte order of the code
# (A01: the customers with an A01 purchase before the 2022-01-01 as-of date)
pdde="$work/data/LPOINT_BIG_COMP_02_PDDE.csv"
awk -F, 'NR > 1 && $4 == "A01" && $7 < 20220101 {print $1}' "$pdde" | LC_ALL=C sort -u > "$work/a01.members"
[[ $(wc -l < "$work/a01.members") -ge 40 ]] || fail "too few A01 customers for the test"
python3 -c '
import json, sys
print("\n".join(json.loads(l)["member"] for l in open(sys.argv[1])))' "$work/b0.t1.jsonl" > "$work/b0.members"
cmp -s "$work/a01.members" "$work/b0.members" || fail "--all is not every A01 customer by code"
# plan ratio: every customer of any affiliate before 2022
awk -F, 'NR > 1 && $7 < 20220101 {print $1}' "$pdde" | LC_ALL=C sort -u > "$work/all.members"
python3 -c '
import json, sys
print("\n".join(json.loads(l)["member"] for l in open(sys.argv[1])))' "$work/b1.t1.jsonl" > "$work/b1.members"
cmp -s "$work/all.members" "$work/b1.members" || fail "plan ratio --all is not every customer"

# every line = {"member":C, + the one-member answer's members, byte for byte
one_by_one() { # <i> <file>: the one-member answers of batch i, each prefixed as the batch does
  local i=$1
  while read -r c; do
    printf '{"member":"%s",' "$c"
    # shellcheck disable=SC2086
    "$bin" ${plans[$i]} --pack "$packs" --customer "$c" --json | tail -c +2
  done < "$work/b$i.members"
}
for i in 0 1 2 3; do
  [[ -f "$work/b$i.members" ]] || python3 -c '
import json, sys
print("\n".join(json.loads(l)["member"] for l in open(sys.argv[1])))' "$work/b$i.t1.jsonl" > "$work/b$i.members"
  one_by_one $i > "$work/one$i.jsonl"
  cmp -s "$work/one$i.jsonl" "$work/b$i.t2.jsonl" || fail "${plans[$i]}: --all differs from one request per member"
done

# both formats parse; the CSV holds the JSON answers' products, one row each, same text
python3 - "$work" <<'EOF' || fail "csv and jsonl disagree"
import csv, json, sys
work = sys.argv[1]
# products per member: recommend k 5 + 2 sampled; ratio k 4; subscribe k 3; stamp 2 x 3
per_member = [7, 4, 3, 6]
for i in range(4):
    want = []
    lines = open(f"{work}/b{i}.t1.jsonl", encoding="utf-8").read().splitlines()
    for line in lines:
        d = json.loads(line, parse_float=str)  # scores kept as their JSON text
        assert d["ok"] is True, line[:200]
        lists = [("top", "", d.get("items", [])), ("sampled", "", d.get("sampled", []))]
        lists += [("stamp", c["category"], c["items"]) for c in d.get("board", [])]
        for name, group, items in lists:
            for pos, it in enumerate(items, 1):
                want.append([d["member"], d["plan"], d["affiliate"], d.get("source", ""),
                             d.get("ranker", ""), name, group, str(it.get("rank", pos)),
                             it["code"], it["name"], it["category"], it["subcategory"],
                             it["score"], "1" if it.get("bought") else "0", it["reason_kind"],
                             it["reason"], it.get("reason_product", it.get("reason_category", ""))])
    rows = list(csv.reader(open(f"{work}/b{i}.t1.csv", encoding="utf-8", newline="")))
    assert rows[0] == ("member,plan,affiliate,source,ranker,list,group,rank,product,name,category,"
                       "subcategory,score,bought,reason_kind,reason,reason_ref").split(","), rows[0]
    assert rows[1:] == want, f"batch {i}: csv rows differ from the jsonl answers"
    assert len(want) == per_member[i] * len(lines), (i, len(want), len(lines))
print("csv/jsonl ok")
EOF

# an exported set (item packs + 4 customer shards): --all serves every customer of the A05
# shards, each as the one-member request on its own shard (shard = fnv1a32(code) % 4) does
sample=$root/models/sample
"$bin" recommend --pack "$sample" --affiliate A05 --k 5 --all --format jsonl --out "$work/s.jsonl"
n_shard=$(for s in "$sample"/A05.cust.*.pack; do "$bin" inspect "$s" | awk '/"n_customers"/ {gsub(",", ""); print $2}'; done | awk '{ n += $1 } END { print n + 0 }')
[[ $(wc -l < "$work/s.jsonl") == "$n_shard" ]] || fail "--all over shards: $(wc -l < "$work/s.jsonl") lines, $n_shard customers"
python3 - "$work/s.jsonl" > "$work/s.members" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    c = json.loads(line)["member"]
    h = 2166136261
    for b in c.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    print(c, "%03d" % (h % 4))
EOF
while read -r c s; do
  printf '{"member":"%s",' "$c"
  "$bin" recommend --pack "$sample/A05.item.pack" --customers "$sample/A05.cust.$s.pack" --k 5 \
    --customer "$c" --json | tail -c +2
done < "$work/s.members" > "$work/s.one.jsonl"
cmp -s "$work/s.one.jsonl" "$work/s.jsonl" || fail "shards: --all differs from one request per member"

# --members: file order; blank lines and comments skipped; progress with --verbose
c1=$(sed -n 3p "$work/a01.members"); c2=$(sed -n 1p "$work/a01.members"); c3=$(sed -n 2p "$work/a01.members")
printf '# campaign 7\n%s\n\n  %s \r\n%s\n' "$c1" "$c2" "$c3" > "$work/m.txt"
"$bin" recommend --pack "$packs" --affiliate A01 --k 2 --members "$work/m.txt" --out "$work/m.csv" \
  --verbose 2>"$work/m.err" || { cat "$work/m.err"; fail "--members"; }
[[ $(cut -d, -f1 "$work/m.csv" | tail -n +2 | uniq | paste -sd' ') == "$c1 $c2 $c3" ]] || fail "--members order"
[[ $(wc -l < "$work/m.csv") == 7 ]] || fail "3 members x 2 products + header"
grep -q "3/3 members, [0-9]* members/s" "$work/m.err" || { cat "$work/m.err"; fail "no progress line"; }

# unknown and repeated members: FILE:LINE, exit 1, nothing written, an older file untouched
printf '%s\nNOBODY\n%s\n%s\n' "$c1" "$c2" "$c1" > "$work/bad.txt"
echo old > "$work/keep.csv"
if "$bin" recommend --pack "$packs" --affiliate A01 --members "$work/bad.txt" --out "$work/keep.csv" 2>"$work/err"; then
  fail "unknown member accepted"
fi
grep -q "bad.txt:2: unknown member 'NOBODY' (not a customer of the A01 pack)" "$work/err" || { cat "$work/err"; fail "unknown member message"; }
grep -q "bad.txt:4: member '$c1' is listed again (first on line 1)" "$work/err" || { cat "$work/err"; fail "repeat message"; }
[[ $(cat "$work/keep.csv") == old ]] || fail "a failed batch touched the output"
ls "$work" | grep -q '\.tmp\.' && fail "temp file left"
# with --errors: listed there, the others served in order, exit 0
"$bin" recommend --pack "$packs" --affiliate A01 --k 1 --members "$work/bad.txt" --format jsonl \
  --out "$work/ok.jsonl" --errors "$work/errors.csv" 2>"$work/err" || { cat "$work/err"; fail "--errors"; }
[[ $(python3 -c 'import json,sys; print(" ".join(json.loads(l)["member"] for l in open(sys.argv[1])))' "$work/ok.jsonl") == "$c1 $c2" ]] || fail "--errors: served members"
cat > "$work/errors.want" <<EOF
where,member,status,message
$work/bad.txt:2,NOBODY,not found,unknown member (not a customer of the A01 pack)
$work/bad.txt:4,$c1,invalid argument,listed again (first on line 1)
EOF
cmp -s "$work/errors.want" "$work/errors.csv" || { cat "$work/errors.csv"; fail "errors file"; }
grep -q "2 of 4 members not served, listed in" "$work/err" || fail "no note of the unserved members"

# bad member files, an unwritable output, misused options
expect_err() {
  local want=$1 code=$2; shift 2
  set +e; "$bin" "$@" >"$work/out" 2>"$work/err"; local rc=$?; set -e
  [[ $rc == "$code" ]] || fail "exit $rc (want $code) for: $*"
  grep -q -- "$want" "$work/err" || { cat "$work/err"; fail "message for '$*' lacks '$want'"; }
}
printf '%s\nM1,2022-01-01\n' "$c1" > "$work/csvrow.txt"
expect_err "csvrow.txt:2: expected one member code per line" 1 recommend --pack "$packs" --affiliate A01 --members "$work/csvrow.txt" --out "$work/x.csv"
printf '# nobody\n\n' > "$work/empty.txt"
expect_err "empty.txt: no member codes" 1 recommend --pack "$packs" --affiliate A01 --members "$work/empty.txt" --out "$work/x.csv"
expect_err "nope.txt: no such file" 1 recommend --pack "$packs" --affiliate A01 --members "$work/nope.txt" --out "$work/x.csv"
expect_err "$work/no/dir/x.csv.tmp.[0-9]*: cannot create" 1 recommend --pack "$packs" --affiliate A01 --all --out "$work/no/dir/x.csv"
expect_err "say which --affiliate" 1 recommend --pack "$packs" --all --out "$work/x.csv"
expect_err "plan subscribe needs --affiliate" 1 plan subscribe --pack "$packs" --all --out "$work/x.csv"
expect_err "unknown affiliate 'A09'" 1 recommend --pack "$packs" --affiliate A09 --all --out "$work/x.csv"
mkdir "$work/lone" && cp "$sample/A05.item.pack" "$work/lone/"
expect_err "the packs have no customers" 1 recommend --pack "$work/lone/A05.item.pack" --all --out "$work/x.csv"
# a shard exported from another model beside an item pack: named, not served
mkdir "$work/mix" && cp "$sample/A05.item.pack" "$work/mix/"
"$bin" export --pack "$packs/A05.pack" --out "$work/mix/other" --shards 2 >/dev/null
cp "$work/mix/other/A05.cust.001.pack" "$work/mix/"
expect_err "mix/A05.cust.001.pack: pack: customer shard belongs to item pack" 1 recommend --pack "$work/mix" --all --out "$work/x.csv"
expect_err "needs --out FILE" 2 recommend --pack "$packs" --affiliate A01 --all
expect_err "--all or --members, not both" 2 recommend --pack "$packs" --affiliate A01 --all --members "$work/m.txt" --out "$work/x.csv"
expect_err "--customer is for one customer" 2 recommend --pack "$packs" --affiliate A01 --all --customer "$c1" --out "$work/x.csv"
expect_err "--out is for a batch" 2 recommend --pack "$packs" --affiliate A01 --customer "$c1" --out "$work/x.csv"
expect_err "--format 'xml': csv or jsonl" 2 recommend --pack "$packs" --affiliate A01 --all --format xml --out "$work/x.csv"
expect_err "--threads '0'" 2 recommend --pack "$packs" --affiliate A01 --all --threads 0 --out "$work/x.csv"
[[ ! -e "$work/x.csv" ]] || fail "a failed batch wrote its output"
echo "batch.sh: all checks passed"
