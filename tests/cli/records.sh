#!/usr/bin/env bash
# records.sh - prefrec export --records: one sealed member record per member, opt-outs absent
# from every file written, records open with the member's card token (or the shop's token key)
# and are refused with a wrong token or when replayed into another export (SECURITY.md).
# Run as: bash records.sh <prefrec-binary> <repo-root>
set -euo pipefail
bin=$1
work=$(mktemp -d /tmp/prefrec-cli-records.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"

"$bin" gen --out data --scale 0.01 --seed 3 --quiet
"$bin" train --data data --affiliate all --epochs 2 --seed 4 --quiet --out full >/dev/null 2>&1 \
  || fail "train"
pdde=data/LPOINT_BIG_COMP_02_PDDE.csv
members=$(awk -F, 'NR > 1 {print $1}' $pdde | sort -u)
n_members=$(echo "$members" | wc -l)
out1=$(echo "$members" | sed -n 1p)
out2=$(echo "$members" | sed -n 7p)
keep=$(echo "$members" | sed -n 3p)
# a comment, spaces around a code, a code twice, a code that is no member
printf '# members who opted out\n%s\n  %s \n%s\nM999999999\n' "$out1" "$out2" "$out1" > optout.txt
packs=()
for f in full/*.pack; do packs+=(--pack "$f"); done

"$bin" export "${packs[@]}" --out web --shards 4 --records rec --data data --token-key tok.key \
  --opt-out optout.txt --site site >export.out 2>export.err || { cat export.err; fail "export"; }
grep -q "created the token master key tok.key" export.err || fail "no note that the key was created"
[[ $(stat -c %a tok.key) == 600 ]] || fail "token key mode $(stat -c %a tok.key)"
# every member with a purchase line has a record, but the two who opted out
want=$((n_members - 2))
[[ $(ls rec/*.rec | wc -l) == "$want" ]] || fail "$(ls rec/*.rec | wc -l) records, expected $want"
grep -q "\"records\": $want, \"opted_out\": 2" rec/export.json || fail "export.json counts"
grep -q "$want member records (2 opted out, absent)" export.out || fail "export summary"

# opt-outs: in no file written (packs, shards, records, export.json), in clear
for c in "$out1" "$out2"; do
  if grep -rlaF "$c" web rec; then fail "opted-out member $c found in the files above"; fi
  "$bin" member --records rec --code "$c" --token-key tok.key >/dev/null 2>m.err && fail "record of $c"
  grep -q "no record for member $c" m.err || fail "opted-out member: $(cat m.err)"
done
# records hold no member code in clear (a member who is kept is in the shards, not in rec/)
grep -qaF "$keep" web/*.cust.*.pack || fail "test premise: $keep is in a shard"
if grep -rlaF "$keep" rec; then fail "member code $keep in clear in rec/"; fi

# --site: exactly the six item packs; no member code (any of the data's) in any byte of them, no
# customer tensor, no member count in their manifests
[[ "$(cd site && ls | tr '\n' ' ')" == "A01.item.pack A02.item.pack A03.item.pack A04.item.pack A05.item.pack A06.item.pack " ]] \
  || fail "site holds: $(ls site)"
echo "$members" > codes.txt
if grep -laF -f codes.txt site/*; then fail "a member code in the site files above"; fi
for f in site/*.pack; do
  "$bin" inspect "$f" > insp.txt || fail "inspect $f"
  grep -q 'customer\.' insp.txt && fail "$f has customer tensors"
  grep -qE '"(n_customers|n_bought|pairs|train_pairs|valid_pairs)"' insp.txt && fail "$f counts members"
  cmp -s "$f" "web/$(basename "$f")" || fail "$f differs from the export's item pack"
done
"$bin" inspect web/A01.item.pack >/dev/null || fail "site item pack does not open"

# the item packs name the export; the same id as the records'
eid=$(sed 's/.*"export_id": "\([0-9a-f]*\)".*/\1/' rec/export.json)
[[ ${#eid} == 32 ]] || fail "export id '$eid'"
"$bin" inspect web/A01.item.pack | grep -q "\"export_id\":[[:space:]]*\"$eid\"" || fail "item pack export id"

# a kept member opens with the shop's key and with their card token; a wrong token is refused
"$bin" member --records rec --code "$keep" --token-key tok.key >s1.json || fail "open (token key)"
grep -q "^{\"code\": \"$keep\"" s1.json || fail "state: $(head -c 200 s1.json)"
card=$("$bin" member --code "$keep" --token-key tok.key --card)
[[ $card =~ ^[0-9a-f]{32}$ ]] || fail "card token '$card'"
"$bin" member --records rec --code "$keep" --token "$card" >s2.json || fail "open (card)"
cmp -s s1.json s2.json || fail "card and key open different states"
# purchase lines of the member in A01, counted by hand from the CSV: the record's A01 item counts
# add up to them (cop_c is column 4; the generator writes no returns at this scale)
n_a01=$(awk -F, -v c="$keep" 'NR > 1 && $1 == c && $4 == "A01"' $pdde | wc -l)
got=$(python3 -c "import json,sys; s=json.load(open('s1.json')); print(sum(i['lines'] for a in s['affiliates'] if a['affiliate']=='A01' for i in a['items']))")
[[ "$got" == "$n_a01" ]] || fail "A01 purchases in the record $got, in the CSV $n_a01"
if [[ ${card:0:1} == 0 ]]; then bad=1${card:1}; else bad=0${card:1}; fi
"$bin" member --records rec --code "$keep" --token "$bad" >/dev/null 2>w.err && fail "wrong token opened"
grep -q "cannot open (wrong card token or PIN, or the record was altered)" w.err || fail "$(cat w.err)"

# the reference backend handler (web/server/records.mjs, node's HMAC): the kept member's record
# and a key that opens it here (C, libsodium); 404 for an opted-out member
node "$2/web/server/records.mjs" --records rec --token-key tok.key --code "$keep" >h.out || fail "handler: $(cat h.out)"
python3 - <<'EOF' || fail "handler answer"
import base64, json, glob
status, body = open('h.out').read().split(' ', 1)
a = json.loads(body)
assert status == '200', status
e = json.load(open('rec/export.json'))
assert a['export_id'] == e['export_id']
rec = base64.b64decode(a['record'])
assert any(open(f, 'rb').read() == rec for f in glob.glob('rec/*.rec'))
open('key.hex', 'w').write(base64.b64decode(a['key']).hex())
EOF
"$bin" member --records rec --code "$keep" --key "$(cat key.hex)" >s3.json || fail "open with the handler's key"
cmp -s s1.json s3.json || fail "the handler's key opens another state"
node "$2/web/server/records.mjs" --records rec --token-key tok.key --code "$out1" >h2.out && fail "handler: opted-out member"
grep -q '^404 {"error":"no record"}' h2.out || fail "handler, opted out: $(cat h2.out)"

# a second export replaces rec/ whole: new export id, new file names; an old record copied
# under the new name of its member is refused as another export's
cp -r rec rec1
"$bin" export "${packs[@]}" --out web2 --shards 4 --records rec --data data --token-key tok.key \
  --opt-out optout.txt >/dev/null 2>&1 || fail "second export"
eid2=$(sed 's/.*"export_id": "\([0-9a-f]*\)".*/\1/' rec/export.json)
[[ "$eid2" != "$eid" ]] || fail "the export id did not change"
[[ $(ls rec/*.rec | wc -l) == "$want" ]] || fail "second export: $(ls rec/*.rec | wc -l) records"
[[ -z $(comm -12 <(ls rec1) <(ls rec) | grep '\.rec$') ]] || fail "file names repeat across exports"
n1=$(python3 - "$keep" <<'EOF'
import hmac, json, sys
e = json.load(open('rec1/export.json'))
print(hmac.new(bytes.fromhex(e['naming_key']), b'prefrec kid v1\0' + sys.argv[1].encode(), 'sha256').hexdigest()[:32])
EOF
)
n2=$(python3 - "$keep" <<'EOF'
import hmac, json, sys
e = json.load(open('rec/export.json'))
print(hmac.new(bytes.fromhex(e['naming_key']), b'prefrec kid v1\0' + sys.argv[1].encode(), 'sha256').hexdigest()[:32])
EOF
)
[[ -f rec1/$n1.rec && -f rec/$n2.rec ]] || fail "record names are not the member key ids (HMAC-SHA-256)"
cp rec1/$n1.rec rec/$n2.rec
"$bin" member --records rec --code "$keep" --token-key tok.key >/dev/null 2>r.err && fail "replay opened"
grep -q "not of the current export $eid2 (an old or replayed record)" r.err || fail "replay: $(cat r.err)"

# a directory that is not a records directory is not replaced
mkdir other && echo keep > other/notes.txt
"$bin" export "${packs[@]}" --out web3 --records other --data data --token-key tok.key \
  >/dev/null 2>o.err && fail "export replaced a foreign directory"
grep -q "holds notes.txt, so it is not a records directory" o.err || fail "$(cat o.err)"
[[ -f other/notes.txt ]] || fail "foreign file removed"

# usage: --records needs --data and --token-key (exit 2)
rc=0
"$bin" export --pack full/A01.pack --out w4 --records r4 >/dev/null 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "--records without --data: exit $rc"
# a campaign batch from the records (buy again for the CRM): each line is the member's one-by-one
# answer from their record; an opted-out member has no record and is listed, not served
a01=$(awk -F, 'NR > 1 && $4 == "A01" {print $1}' $pdde | awk '!s[$0]++' | grep -v -x -e "$out1" -e "$out2" | head -5)
{ echo "$a01"; echo "$out1"; } >campaign.txt
"$bin" recommend --pack web2 --affiliate A01 --members campaign.txt --records rec --token-key tok.key \
  --list buy_again --k 5 --format jsonl --out ba.jsonl --errors ba.err 2>/dev/null || fail "campaign batch"
[[ $(wc -l <ba.jsonl) == 5 ]] || fail "campaign: $(wc -l <ba.jsonl) lines"
grep -q "campaign.txt:6,$out1,not found,no record for member $out1 in rec" ba.err || fail "campaign errors: $(cat ba.err)"
i=0
for c in $a01; do
  i=$((i + 1))
  "$bin" recommend --pack web2 --affiliate A01 --records rec --member "$c" --token-key tok.key \
    --list buy_again --k 5 --json >one.json || fail "one-by-one $c"
  sed -n "${i}p" ba.jsonl >line.json
  python3 -c '
import json, sys
line, one = json.load(open("line.json")), json.load(open("one.json"))
assert line.pop("member") == sys.argv[1], "member order"
assert line == one, "batch line differs from the one-by-one answer"
assert one["source"] == "member" and one["items"] and all(i["reason_kind"] == "repeat" for i in one["items"])
' "$c" || fail "campaign: $c"
done
echo "ok   records: $want sealed records ($n_members members, 2 opted out and absent everywhere), card and key open, wrong token and replay refused, a buy-again campaign batch from the records"
