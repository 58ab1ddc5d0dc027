#!/usr/bin/env bash
# export.sh - `mpirun -n N prefrec export` (the native-mpi build, docs/mpi.md): rank r writes
# customer shards r, r + N, .., rank 0 the item packs, signatures and --site copies; every file
# has the bytes one process writes, for N = 2, 3. A rank that cannot write its shard ends the
# job with its message and no new file (files are staged, renamed in only once every rank has
# written all of its own). --records: each rank seals its members' records; they open to what
# one process's records open to, for N = 1, 2, 3, and a rank that refuses a member fails the job
# with its message, nothing written.
# Run as: bash export.sh <prefrec-binary> <repo-root> <mpiexec> <records_dump>
set -uo pipefail
bin=$(realpath "$1")
mpiexec=${3:-mpirun}
dump=$(realpath "$4")
[[ -x "$dump" ]] || { echo "FAIL: $dump is not built (cmake --build --preset native-mpi --target records_dump)" >&2; exit 1; }
# shellcheck source=common.bash
source "$(dirname "$0")/common.bash" # $work, bad, ok, run, one
cd "$work" || exit 1

"$bin" gen --out data --scale 0.01 --seed 3 --quiet || exit 1
one "$bin" train --data data --affiliate all --epochs 1 --seed 4 --quiet --out full >/dev/null 2>&1 || exit 1
packs=()
for f in full/*.pack; do packs+=(--pack "$f"); done
np=$((${#packs[@]} / 2))
[[ $np -ge 4 ]] || bad "train wrote $np packs"
eid=0123456789abcdef0123456789abcdef
one "$bin" export "${packs[@]}" --out one --shards 5 --export-id $eid --sign-key sk --site site1 \
  >one.out 2>/dev/null || bad "one-process export"
[[ $(ls one | grep -c '\.cust\.') -eq $((5 * np)) ]] || bad "one process: $(ls one | grep -c '\.cust\.') shards"
for n in 2 3; do
  if run "$n" "$bin" export "${packs[@]}" --out "n$n" --shards 5 --export-id $eid --sign-key sk \
    --site "site$n" >"n$n.out" 2>err; then
    diff -r one "n$n" >/dev/null && diff -r site1 "site$n" >/dev/null &&
      ok "export, $n ranks: every pack, shard, signature and site file the same bytes" ||
      bad "export, $n ranks: files differ: $(diff -rq one "n$n" | head -3)"
    cmp -s <(sed "s/n$n/one/g; s/site$n/site1/g" "n$n.out") one.out &&
      ok "export, $n ranks: the same summary" || bad "export, $n ranks: summary differs"
    [[ -z $(ls -A "n$n" | grep '\.tmp') ]] || bad "export, $n ranks: staging left: $(ls -A "n$n")"
  else
    bad "export, $n ranks failed: $(head -c 300 err)"
  fi
done
# rank 2 of 3 (shard 2) cannot replace its file in the second pack: the job fails with its
# message, and nothing new is in the output directory
second=$(basename "${packs[3]}" .pack)
mkdir -p bad/"$second".cust.002.pack
if run 3 "$bin" export "${packs[@]}" --out bad --shards 5 --export-id $eid >/dev/null 2>err; then
  bad "a rank that cannot write: exit 0"
else
  grep -q "bad/$second.cust.002.pack: is a directory, cannot be replaced" err &&
    ok "a failing rank: $(grep error: err)" || bad "a failing rank: $(head -c 300 err)"
  [[ $(grep -c "error:" err) -eq 1 ]] || bad "a failing rank: not exactly one error line"
  [[ $(ls -A bad) == "$second.cust.002.pack" ]] && ok "a failing rank: no file written" ||
    bad "a failing rank: written: $(ls -A bad | head)"
fi
# --records: each rank seals the records of the members it owns (fnv1a32(code) % N) from its
# share of the purchases. Two exports never share bytes (every record has a fresh nonce and
# salt, the file names a fresh naming key), so what is compared is what every member's record
# opens to (records_dump: header fields but nonce, salt and key id; the state: gender, age,
# items with counts and days, customer vector and bias, byte for byte), export.json but for its
# naming key, the packs and the summary; two members opted out
pdde=data/LPOINT_BIG_COMP_02_PDDE.csv
awk -F, 'NR > 1 {print $1}' $pdde data/LPOINT_BIG_COMP_01_DEMO.csv | sort -u >codes.txt
sed -n '2p; 9p' codes.txt >optout.txt
rexp() { "$bin" export "${packs[@]}" --out "$1" --shards 5 --export-id $eid --records "$2" \
  --data "${3:-data}" --token-key tk --opt-out optout.txt; }
one rexp rone rec1 >rone.out 2>rone.err || bad "one-process export --records: $(head -c 300 rone.err)"
"$dump" rec1 tk codes.txt >dump1.txt || bad "records_dump rec1"
nrec=$(grep -c ' state ' dump1.txt)
[[ $nrec -gt 100 ]] && grep -q "records opened $nrec, files $nrec" dump1.txt ||
  bad "one process: $nrec records, $(tail -1 dump1.txt)"
[[ $(grep -c ' -$' dump1.txt) -ge 2 ]] || bad "one process: the opted-out members have records"
grep -q "rec1/  $nrec member records (2 opted out, absent)" rone.out ||
  bad "one process: summary $(grep records rone.out)"
nj() { sed 's/"naming_key": "[0-9a-f]*"/"naming_key": ""/' "$1/export.json"; }
for n in 1 2 3; do
  if run "$n" "$bin" export "${packs[@]}" --out "rn$n" --shards 5 --export-id $eid \
    --records "rec$n$n" --data data --token-key tk --opt-out optout.txt >"rn$n.out" 2>err; then
    "$dump" "rec$n$n" tk codes.txt >"dump$n$n.txt" || bad "records_dump rec$n$n"
    cmp -s dump1.txt "dump$n$n.txt" &&
      ok "export --records, $n ranks: $nrec records, each opens to the one-process record" ||
      bad "export --records, $n ranks: records differ: $(diff dump1.txt "dump$n$n.txt" | head -c 300)"
    cmp -s <(nj rec1) <(nj "rec$n$n") && ok "export --records, $n ranks: the same export.json" ||
      bad "export --records, $n ranks: export.json $(nj "rec$n$n")"
    diff -r rone "rn$n" >/dev/null && ok "export --records, $n ranks: packs and shards the same bytes" ||
      bad "export --records, $n ranks: packs differ: $(diff -rq rone "rn$n" | head -3)"
    cmp -s <(sed "s/rn$n/rone/g; s/rec$n$n/rec1/g" "rn$n.out") rone.out &&
      ok "export --records, $n ranks: the same summary" || bad "export --records, $n ranks: summary differs"
    [[ -z $(ls -A . | grep '\.tmp\.\|\.old\.') ]] || bad "export --records, $n ranks: left $(ls -A | grep tmp)"
  else
    bad "export --records, $n ranks failed: $(head -c 300 err)"
  fi
done
# a member code over 64 bytes (records refuse it) among the purchases of a member rank 2 of 3
# owns: the job fails with that rank's message, and neither the records nor the packs appear
long=$(python3 -c '
for i in range(1000):
    c = "M" + "7" * 70 + str(i)
    h = 2166136261
    for b in c.encode(): h = ((h ^ b) * 16777619) % 2**32
    if h % 3 == 2: print(c); break')
cp -r data data_long
awk -F, -v c="$long" 'NR == 2 {OFS = ","; $1 = c; print}' $pdde >>data_long/LPOINT_BIG_COMP_02_PDDE.csv
if run 3 "$bin" export "${packs[@]}" --out rbad --shards 5 --export-id $eid --records recbad \
  --data data_long --token-key tk >/dev/null 2>err; then
  bad "a rank refusing a member: exit 0"
else
  grep -q "member code '${long:0:20}.*' is over 64 bytes" err &&
    ok "export --records, a failing rank: $(grep error: err | head -c 120)" ||
    bad "export --records, a failing rank: $(head -c 300 err)"
  [[ $(grep -c "error:" err) -eq 1 ]] || bad "export --records, a failing rank: not one error line"
  [[ -z $(ls -A rbad) && ! -e recbad && -z $(ls -A . | grep '^recbad') ]] &&
    ok "export --records, a failing rank: no pack, shard or record written" ||
    bad "export --records, a failing rank: written: $(ls -A rbad | head -3) $(ls -d recbad* 2>&1)"
  # the same data as one process: the same refusal
  one "$bin" export "${packs[@]}" --out rbad1 --shards 5 --export-id $eid --records recbad1 \
    --data data_long --token-key tk >/dev/null 2>err1 && bad "one process: the long code accepted"
  grep -q "is over 64 bytes" err1 || bad "one process: $(head -c 300 err1)"
fi
[[ $fails -eq 0 ]] && echo "export: all ok" || echo "export: $fails failure(s)"
exit $((fails > 0))
