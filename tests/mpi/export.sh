#!/usr/bin/env bash
# export.sh - `mpirun -n N prefrec export` (the native-mpi build, docs/mpi.md): rank r writes
# customer shards r, r + N, .., rank 0 the item packs, signatures and --site copies; every file
# has the bytes one process writes, for N = 2, 3. A rank that cannot write its shard ends the
# job with its message and no new file (files are staged, renamed in only once every rank has
# written all of its own). --records is refused under several ranks, with the reason.
# Run as: bash export.sh <prefrec-binary> <repo-root> <mpiexec>
set -uo pipefail
bin=$(realpath "$1")
mpiexec=${3:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d /tmp/prefrec-mpi-export.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0
bad() { fails=$((fails + 1)); echo "FAIL $*"; }
ok() { echo "ok   $*"; }
run() { "$mpiexec" --oversubscribe -n "$1" "${@:2}"; }
one() { PREFREC_ONE_PROCESS=1 "$@"; }

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
run 2 "$bin" export "${packs[@]}" --out rec --records r --data data --token-key tk >/dev/null 2>err &&
  bad "--records under 2 ranks: exit 0"
grep -q "records is not written by several ranks yet" err && ok "--records, 2 ranks: refused, said why" ||
  bad "--records: $(head -c 300 err)"
[[ $fails -eq 0 ]] && echo "export: all ok" || echo "export: $fails failure(s)"
exit $((fails > 0))
