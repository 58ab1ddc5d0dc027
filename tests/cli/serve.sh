#!/usr/bin/env bash
# serve.sh - prefrec recommend and prefrec plan on packs trained from tiny generated data: known
# customers never get a product they bought, history fold-in and demographics-only requests,
# the three plans, item pack + customer shard, and clear errors for bad requests.
# Run as: bash serve.sh <prefrec-binary> <repo-root>
set -euo pipefail
bin=$1
work=$(mktemp -d /tmp/prefrec-cli-serve.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(open('$1')); print(eval(sys.argv[1]))" "$2"; }

"$bin" gen --out "$work/data" --scale 0.02 --seed 5 --quiet
"$bin" train --data "$work/data" --affiliate all --epochs 2 --seed 5 --quiet --out "$work/packs" \
  >/dev/null 2>"$work/train.err" || { cat "$work/train.err"; fail "train"; }
pdde="$work/data/LPOINT_BIG_COMP_02_PDDE.csv"
cust=$(awk -F, 'NR > 1 && $4 == "A01" && $7 < 20211201 {print $1; exit}' "$pdde")

# known customer: 30 products, none of them bought in A01 before 2022
"$bin" recommend --pack "$work/packs/A01.pack" --customer "$cust" --json > "$work/r1.json" || fail "recommend"
[[ $(json "$work/r1.json" 'len(d["items"])') == 30 ]] || fail "not 30 items"
[[ $(json "$work/r1.json" 'd["source"]') == known ]] || fail "not served as known"
[[ $(json "$work/r1.json" 'd["ranker"]') == blend ]] || fail "default ranker is not the blend"
awk -F, -v c="$cust" '$1 == c && $4 == "A01" {print $6}' "$pdde" | sort -u > "$work/bought"
json "$work/r1.json" '"\n".join(i["code"] for i in d["items"])' | sort > "$work/recs"
[[ -z $(comm -12 "$work/bought" "$work/recs") ]] || fail "recommended a product the customer bought"
json "$work/r1.json" 'all(i["name"] and i["reason"] and "score" in i for i in d["items"])' | grep -q True || fail "item without name/reason/score"

# the same customer from their purchase history alone: the same list (the blend is a function
# of the history; demographics from the same customer)
awk -F, -v c="$cust" '$1 == c && $4 == "A01" {print $6}' "$pdde" > "$work/hist.txt"
g=$(awk -F, -v c="$cust" '$1 == c {print ($2 == "남성") ? "M" : "F"}' "$work/data/LPOINT_BIG_COMP_01_DEMO.csv")
a=$(awk -F, -v c="$cust" '$1 == c {print $3}' "$work/data/LPOINT_BIG_COMP_01_DEMO.csv")
"$bin" recommend --pack "$work/packs/A01.pack" --history "$work/hist.txt" --gender "$g" --age "$a" --json > "$work/r2.json" || fail "history"
[[ $(json "$work/r2.json" 'd["source"]') == history ]] || fail "not served from history"
json "$work/r2.json" '"\n".join(i["code"] for i in d["items"])' | sort > "$work/recs2"
cmp -s "$work/recs" "$work/recs2" || fail "history fold-in differs from the known customer"

# demographics only; sampling is seeded and repeatable
"$bin" recommend --pack "$work/packs/A01.pack" --gender F --age 30대 --k 5 --sample 3 --seed 9 --json > "$work/r3.json"
"$bin" recommend --pack "$work/packs/A01.pack" --gender F --age 30대 --k 5 --sample 3 --seed 9 --json > "$work/r4.json"
[[ $(json "$work/r3.json" 'd["source"]') == segment ]] || fail "not served by segment"
[[ $(json "$work/r3.json" 'len(d["sampled"])') == 3 ]] || fail "not 3 sampled"
cmp -s "$work/r3.json" "$work/r4.json" || fail "same seed, different answer"

# plans over the directory of packs
"$bin" plan ratio --pack "$work/packs" --customer "$cust" --k 5 --seed 1 --json > "$work/p1.json" || fail "plan ratio"
picked=$(json "$work/p1.json" 'd["ratio"]["picked"]')
[[ $(json "$work/p1.json" 'd["affiliate"]') == "$picked" ]] || fail "ratio served another affiliate"
[[ $(json "$work/p1.json" 'd["ratio"]["weights"]["A01"] > 0') == True ]] || fail "no A01 purchases in the weights"
"$bin" plan subscribe --pack "$work/packs" --affiliate A02 --customer "$cust" --k 5 --json > "$work/p2.json" || fail "subscribe"
[[ $(json "$work/p2.json" 'd["affiliate"]') == A02 ]] || fail "subscribe served another affiliate"
"$bin" plan stamp --pack "$work/packs/A01.pack" --customer "$cust" --json > "$work/p3.json" || fail "stamp"
[[ $(json "$work/p3.json" 'len(d["board"])') == 5 ]] || fail "stamp board is not 5 categories"
[[ $(json "$work/p3.json" 'all(len(c["items"]) == 5 for c in d["board"])') == True ]] || fail "stamp category without 5 products"
"$bin" plan stamp --pack "$work/packs/A01.pack" --customer "$cust" > "$work/p3.txt" || fail "stamp table"
grep -q "stamp category" "$work/p3.txt" || fail "stamp table output"

# item pack + the customer's shard gives the same as the full pack (format 1: the trained floats
# as they are, so the very same list; format 2's rounded tensors are checked by test_served)
"$bin" export --pack "$work/packs/A01.pack" --out "$work/web" --shards 4 --pack-version 1 >/dev/null
for s in "$work"/web/A01.cust.*.pack; do
  if "$bin" recommend --pack "$work/web/A01.item.pack" --customers "$s" --customer "$cust" --json > "$work/r5.json" 2>/dev/null; then
    cmp -s <(json "$work/r1.json" '[i["code"] for i in d["items"]]') <(json "$work/r5.json" '[i["code"] for i in d["items"]]') || fail "shard serves differently"
    found=1
  fi
done
[[ "${found:-0}" == 1 ]] || fail "no shard knows the customer"

# errors: clear message, exit 1
expect_err() {
  local want=$1; shift
  if "$bin" "$@" >"$work/out" 2>"$work/err"; then fail "no error for: $*"; fi
  grep -q "$want" "$work/err" || { cat "$work/err"; fail "message for '$*' lacks '$want'"; }
}
expect_err "unknown customer 'NOBODY'" recommend --pack "$work/packs/A01.pack" --customer NOBODY
expect_err "k must be\|\"k\" must be" recommend --pack "$work/packs/A01.pack" --customer "$cust" --k 0
expect_err "unknown affiliate 'A09'" plan subscribe --pack "$work/packs" --affiliate A09 --customer "$cust"
expect_err "say which \"affiliate\"" recommend --pack "$work/packs" --customer "$cust"
expect_err "no such file" recommend --pack "$work/nope.pack" --customer "$cust"
printf 'PD9999\n' > "$work/bad_hist.txt"
expect_err "unknown product 'PD9999'" recommend --pack "$work/packs/A01.pack" --history "$work/bad_hist.txt"
head -c 1000 "$work/packs/A01.pack" > "$work/trunc.pack"
expect_err "trunc.pack" recommend --pack "$work/trunc.pack" --customer "$cust"
echo "serve.sh: all checks passed"
