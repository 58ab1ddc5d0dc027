#!/usr/bin/env bash
# model_pack.sh - train -> inspect -> predict -> export -> predict from item pack + shard, on
# tiny generated data; corrupted, truncated and mismatched packs are refused with a clear error.
# Run as: bash model_pack.sh <prefrec-binary> <repo-root>
set -euo pipefail
bin=$1
work=$(mktemp -d /tmp/prefrec-cli-pack.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" gen --out "$work/data" --scale 0.01 --seed 3 --quiet
"$bin" train --data "$work/data" --affiliate A01 --epochs 3 --threads 2 --seed 4 --quiet \
  --out "$work/p1" >"$work/t1.out" 2>"$work/t1.err" || { cat "$work/t1.err"; fail "train"; }
[[ -s "$work/p1/A01.pack" ]] || fail "no A01.pack"
grep -q '^A01 ' "$work/t1.out" || fail "no A01 summary line"
# same seed, another thread count: byte-identical pack
"$bin" train --data "$work/data" --affiliate A01 --epochs 3 --threads 1 --seed 4 --quiet --out "$work/p2" >/dev/null 2>&1
cmp -s "$work/p1/A01.pack" "$work/p2/A01.pack" || fail "pack differs between --threads 2 and 1"
# --lr-scale sqrt: a batch of 1024 trains at 0.002 x 2 = 0.004, the bytes of --lr 0.004 (the
# manifest records the rate used), twice the same; at the default batch it changes nothing
for k in 1 2; do
  "$bin" train --data "$work/data" --affiliate A01 --epochs 2 --seed 4 --quiet --batch 1024 \
    --lr-scale sqrt --out "$work/s$k" >/dev/null 2>&1 || fail "train --lr-scale sqrt"
done
"$bin" train --data "$work/data" --affiliate A01 --epochs 2 --seed 4 --quiet --batch 1024 \
  --lr 0.004 --out "$work/s3" >/dev/null 2>&1 || fail "train --lr 0.004"
cmp -s "$work/s1/A01.pack" "$work/s2/A01.pack" || fail "--lr-scale sqrt: two runs differ"
cmp -s "$work/s1/A01.pack" "$work/s3/A01.pack" || fail "--lr-scale sqrt at batch 1024 is not --lr 0.004"
grep -aq '"lr":[[:space:]]*0.004' "$work/s1/A01.pack" || fail "--lr-scale sqrt: the manifest's lr is not 0.004"
"$bin" train --data "$work/data" --affiliate A01 --epochs 3 --threads 1 --seed 4 --quiet \
  --lr-scale sqrt --out "$work/s4" >/dev/null 2>&1 || fail "train --lr-scale sqrt, batch 256"
cmp -s "$work/p1/A01.pack" "$work/s4/A01.pack" || fail "--lr-scale sqrt changed the batch of 256"
if "$bin" train --data "$work/data" --lr-scale linear --out "$work/s5" 2>"$work/s5.err"; then
  fail "--lr-scale linear accepted"
fi
grep -q "lr-scale 'linear' is not none or sqrt" "$work/s5.err" && [[ ! -e "$work/s5" ]] ||
  fail "--lr-scale linear: $(head -c 200 "$work/s5.err")"

"$bin" inspect "$work/p1/A01.pack" >"$work/insp" || fail "inspect"
grep -q '"kind":[[:space:]]*"neumf"' "$work/insp" || fail "inspect: no manifest kind"
grep -q 'product.emb' "$work/insp" || fail "inspect: no tensor table"

# a customer the pack knows: the first A01 buyer in the purchase file (cop_c is column 4)
cust=$(awk -F, 'NR > 1 && $4 == "A01" {print $1; exit}' "$work/data/LPOINT_BIG_COMP_02_PDDE.csv")
"$bin" predict --pack "$work/p1/A01.pack" --customer "$cust" --top 5 >"$work/pred" || fail "predict"
rows=$(grep -c $'^[0-9][0-9]*\t' "$work/pred" || true)
[[ "$rows" == 5 ]] || fail "predict --top 5 printed $rows rows"
prod=$(awk -F'\t' '$1 == "1" {print $2}' "$work/pred")
s1=$(awk -F'\t' '$1 == "1" {print $3}' "$work/pred")
"$bin" predict --pack "$work/p1/A01.pack" --customer "$cust" --product "$prod" >"$work/pred1"
s2=$(awk -F'\t' '$1 == "1" {print $3}' "$work/pred1")
[[ "$s1" == "$s2" ]] || fail "score of $prod: $s1 in the list, $s2 alone"

# version 1 (all f32): the split alone must not change a score (version 2 rounds: test_served)
"$bin" export --pack "$work/p1/A01.pack" --out "$work/web" --shards 4 --pack-version 1 >/dev/null || fail "export"
[[ -s "$work/web/A01.item.pack" && -s "$work/web/A01.cust.003.pack" ]] || fail "export files"
hit=""
for s in "$work"/web/A01.cust.*.pack; do
  if "$bin" predict --pack "$work/web/A01.item.pack" --customers "$s" --customer "$cust" --top 5 >"$work/pred2" 2>/dev/null; then
    hit=$s
    break
  fi
done
[[ -n "$hit" ]] || fail "customer $cust in no shard"
diff <(tail -n +2 "$work/pred") <(tail -n +2 "$work/pred2") >/dev/null || fail "item pack + shard scores differ from the full pack"

# version 4 (the default) as version 3 with the segment popularity's counts a byte each (pcx),
# version 3 as version 2 with compact neighbour lists; versions 2 to 4 use the same storages
# otherwise: the lossless integer forms are chosen where training's tables are made of counts
# (docs/model.md, "Third round"): blend.pop.seg as its counts (pcx, or pc8 / pc16 before version
# 4, from the full pack's blend.pop.cnt, which no item pack carries), neighbour rows as steps
# (d16), pop.all and repeat.prior as integers over a denominator (r16)
grep -q ' blend.pop.cnt ' "$work/insp" || fail "full pack: no blend.pop.cnt"
"$bin" export --pack "$work/p1/A01.pack" --out "$work/web2" --shards 4 >/dev/null || fail "export v4"
"$bin" export --pack "$work/p1/A01.pack" --out "$work/web2c" --shards 4 --pack-version 3 >/dev/null || fail "export v3"
"$bin" inspect "$work/web2/A01.item.pack" >"$work/insp2" || fail "inspect v4"
"$bin" inspect "$work/web2c/A01.item.pack" >"$work/insp2c" || fail "inspect v3"
for want in 'blend.pop.seg +pcx ' 'blend.ease.nbr +d16 ' 'blend.knn.nbr +d16 ' 'blend.pop.all +r16 ' 'repeat.prior +r16 ' 'product.cat +u16 '; do
  grep -Eq "$want" "$work/insp2" || fail "v4 item pack: no '$want' in $(grep -E 'blend|repeat|product' "$work/insp2")"
done
grep -Eq 'blend.pop.seg +pc(8|16) ' "$work/insp2c" || fail "v3 item pack: no pc8 / pc16 in $(grep -E 'blend' "$work/insp2c")"
grep -q ' blend.pop.cnt ' "$work/insp2" && fail "v4 item pack carries blend.pop.cnt"
"$bin" predict --pack "$work/web2/A01.item.pack" --customers "$work/web2/$(basename "$hit")" --customer "$cust" --top 5 >/dev/null || fail "predict from the v4 packs"
grep -Eq '^format +prefrec pack version 4$' "$work/insp2" || fail "default export: not version 4"
grep -Eq '^format +prefrec pack version 3$' "$work/insp2c" || fail "--pack-version 3: not version 3"
# version 3 keeps only the neighbour rows of products that have neighbours (blend.*.rows); the
# engine's answers are those of the same lists in version 2, every row kept, and of version 4
grep -Eq ' blend\.(ease|knn)\.rows ' "$work/insp2" || fail "v4 item pack: no compact list (blend.*.rows; at scale 0.01 most rows are empty)"
"$bin" export --pack "$work/p1/A01.pack" --out "$work/web2b" --shards 4 --pack-version 2 >/dev/null || fail "export --pack-version 2"
"$bin" inspect "$work/web2b/A01.item.pack" >"$work/insp2b" || fail "inspect v2"
grep -Eq '^format +prefrec pack version 2$' "$work/insp2b" || fail "--pack-version 2: not version 2"
grep -q '\.rows ' "$work/insp2b" && fail "a version-2 item pack with compact lists"
[[ $(stat -c %s "$work/web2c/A01.item.pack") -lt $(stat -c %s "$work/web2b/A01.item.pack") ]] || fail "v3 item pack not smaller than v2"
[[ $(stat -c %s "$work/web2/A01.item.pack") -lt $(stat -c %s "$work/web2c/A01.item.pack") ]] || fail "v4 item pack not smaller than v3"
for v in web2 web2b web2c; do
  for r in blend default neumf; do
    for c in "--customer $cust" "--customer NEW --gender F --age 34" "--customer NEW --gender M --age 52"; do
      # shellcheck disable=SC2086
      "$bin" recommend --pack "$work/$v/A01.item.pack" --customers "$work/$v/$(basename "$hit")" $c --ranker $r --k 20 --lang en || fail "recommend from $v"
    done
  done >"$work/rec.$v"
done
[[ -s "$work/rec.web2" ]] || fail "no recommendations"
diff "$work/rec.web2c" "$work/rec.web2b" >/dev/null || fail "version 3 answers differ from version 2"
diff "$work/rec.web2" "$work/rec.web2b" >/dev/null || fail "version 4 answers differ from version 2"


# corrupted / truncated / wrong-shard packs are refused with a message
cp "$work/p1/A01.pack" "$work/bad.pack"
last=$(( $(stat -c %s "$work/bad.pack") - 1 ))   # the last data byte: only the CRC can catch it
old=$(od -An -tu1 -j "$last" -N1 "$work/bad.pack" | tr -d ' ')
printf "\\$(printf %o $(( (old + 1) % 256 )))" | dd of="$work/bad.pack" bs=1 seek="$last" conv=notrunc 2>/dev/null
cmp -s "$work/bad.pack" "$work/p1/A01.pack" && fail "the byte was not changed"
if "$bin" inspect "$work/bad.pack" >/dev/null 2>"$work/err"; then fail "corrupt pack accepted"; fi
grep -q "CRC32 mismatch" "$work/err" || fail "corrupt pack message: $(cat "$work/err")"
head -c 1000 "$work/p1/A01.pack" >"$work/short.pack"
if "$bin" inspect "$work/short.pack" >/dev/null 2>"$work/err"; then fail "truncated pack accepted"; fi
grep -q "truncated" "$work/err" || fail "truncated pack message: $(cat "$work/err")"
"$bin" train --data "$work/data" --affiliate A01 --epochs 1 --seed 9 --quiet --out "$work/p3" >/dev/null 2>&1
"$bin" export --pack "$work/p3/A01.pack" --out "$work/web3" --shards 4 >/dev/null
if "$bin" predict --pack "$work/web3/A01.item.pack" --customers "$hit" --customer "$cust" >/dev/null 2>"$work/err"; then
  fail "shard of another model accepted"
fi
grep -q "belongs to item pack" "$work/err" || fail "wrong shard message: $(cat "$work/err")"
echo "model_pack.sh: ok"
