#!/usr/bin/env bash
# optout_train.sh - prefrec train --opt-out: the listed members' purchase rows and demographics
# leave the data before training, so nothing train or export writes holds them, and everyone
# else's outputs are exactly those of a run on data from which they were deleted (the packs are
# byte-identical). SECURITY.md, "Opt-out and erasure".
# Run as: bash optout_train.sh <prefrec-binary> <repo-root>
set -euo pipefail
bin=$1
repo=$2
work=$(mktemp -d /tmp/prefrec-cli-optout.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"

"$bin" gen --out data --scale 0.01 --seed 3 --quiet
pdde=data/LPOINT_BIG_COMP_02_PDDE.csv
# two members to erase: the 5th busiest one (in several affiliates) and one with a single line
busy=$(awk -F, 'NR > 1 {print $1}' $pdde | sort | uniq -c | sort -k1,1nr -k2,2 | sed -n 5p | awk '{print $2}')
rare=$(awk -F, 'NR > 1 {print $1}' $pdde | sort | uniq -c | awk '$1 == 1 && !f {print $2; f = 1}')
[[ -n "$busy" && -n "$rare" ]] || fail "test premise: members '$busy' '$rare'"
rows=$(awk -F, -v a="$busy" -v b="$rare" 'NR > 1 && ($1 == a || $1 == b)' $pdde | wc -l)
printf '# erased on request\n%s\n %s\nM999999999\n' "$busy" "$rare" > optout.txt

# the reference: the same data with their lines deleted from every CSV
mkdir gone
for f in data/*.csv; do
  awk -F, -v a="$busy" -v b="$rare" '$1 != a && $1 != b' "$f" > "gone/$(basename "$f")"
done
[[ -z "$(grep -lF -e "$busy" -e "$rare" gone/*.csv)" ]] || fail "test premise: deleted from the CSVs"

train() { "$bin" train --epochs 2 --seed 4 --threads 1 --quiet "$@"; }
train --data data --out with --json with.json >/dev/null 2>/dev/null || fail "train (all members)"
train --data data --opt-out optout.txt --out out --json out.json --dump-pairs pairs \
  >out.txt 2>out.err || { cat out.err; fail "train --opt-out"; }
train --data gone --out ref --json ref.json >ref.txt 2>/dev/null || fail "train (deleted)"
grep -q "opt-out optout.txt: 2 members excluded ($rows purchase rows removed); 1 listed codes are not in the data" out.err \
  || fail "summary: $(cat out.err)"

# premise: without --opt-out the busy member is in the full packs
grep -qaF "$busy" with/*.pack || fail "test premise: $busy in the packs of a run without --opt-out"
# opted-out members are in no byte of anything train wrote
for c in "$busy" "$rare"; do
  if grep -rlaF "$c" out out.json out.txt pairs; then fail "$c in the files above"; fi
done
# decoded: no pack lists them; every other member of the reference run is listed
python3 "$repo/tests/cli/packdump.py" out/*.pack > out.dump || fail "packdump"
python3 - "$busy" "$rare" <<'PY' || fail "decoded packs"
import json, sys
gone = set(sys.argv[1:])
for line in open('out.dump'):
    d = json.loads(line)
    codes = set(d['strings'].get('customer.code', []))
    assert codes, d['file'] + ': no customer table'
    assert not codes & gone, d['file'] + ': lists ' + ' '.join(codes & gone)
PY
# everyone else: byte for byte the packs of the run on the deleted data, and the same table
for f in ref/*.pack; do
  cmp -s "$f" "out/$(basename "$f")" || fail "out/$(basename "$f") differs from the run without their lines"
done
[[ $(ls out/*.pack | wc -l) == $(ls ref/*.pack | wc -l) ]] || fail "pack count"
cut -c1-62 out.txt > a.txt; cut -c1-62 ref.txt > b.txt   # up to valid_rmse: s/epoch is a timing
cmp -s a.txt b.txt || fail "train tables differ: $(diff a.txt b.txt | head -4)"
# and their absence shows in the figures: fewer customers where the busy member bought
python3 - <<'PY' || fail "train.json customers"
import json
w, o = json.load(open('with.json'))['affiliates'], json.load(open('out.json'))['affiliates']
fewer = [a for a in o if o[a]['customers'] < w[a]['customers']]
assert fewer, 'no affiliate lost a customer'
assert all(o[a]['customers'] >= w[a]['customers'] - 2 for a in o)
PY

# export of the opted-out run, with the same list: absent from every file written
packs=()
for f in out/*.pack; do packs+=(--pack "$f"); done
"$bin" export "${packs[@]}" --out web --shards 4 --records rec --data data --token-key tok.key \
  --opt-out optout.txt --site site >/dev/null 2>&1 || fail "export"
for c in "$busy" "$rare"; do
  if grep -rlaF "$c" web rec site; then fail "$c in the exported files above"; fi
done
python3 "$repo/tests/cli/packdump.py" web/*.pack site/*.pack > web.dump || fail "packdump (export)"
if grep -qF -e "$busy" -e "$rare" web.dump; then fail "an opted-out member in a decoded exported pack"; fi

# bad lists: a line over 64 bytes names file:line; a missing file names the file
{ echo M1; printf 'M%070d\n' 0; } > long.txt
"$bin" train --data data --opt-out long.txt --out x >/dev/null 2>long.err && fail "long code accepted"
grep -q "long.txt:2: not a member code" long.err || fail "long code: $(cat long.err)"
"$bin" train --data data --opt-out nosuch.txt --out x >/dev/null 2>none.err && fail "missing list accepted"
grep -q "nosuch.txt" none.err || fail "missing list: $(cat none.err)"
echo "ok   optout_train: 2 members ($rows rows) erased before training: in no byte train or export wrote, the packs byte-identical to a run on the data without them"
