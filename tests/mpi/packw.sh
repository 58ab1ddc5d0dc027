#!/usr/bin/env bash
# packw.sh - the sharded pack writer (src/train/pack_dist.c: every rank writes its customers'
# rows at their offsets, the CRC put together from the ranks') gives the one-process writer's
# bytes: tests/mpi/pack_dist_check.c on a made-up model (3,000 customers scattered over the
# ranks, with and without the line counts; 2 customers, so at -n 3 a rank owns none), at -n 1,
# 2, 3, and at -n 3 with MPI calls of at most 64 bytes (the places' exchange in rounds). The
# packs of a real `mpirun -n N prefrec train` are checked in sharded.sh and mapping.sh.
# Run as: bash packw.sh <prefrec-binary> <repo-root> <mpiexec> <records_dump> <pack_dist_check>
set -uo pipefail
bin=$(realpath "$1")
mpiexec=${3:-mpirun}
check_bin=$(realpath "${5:?the pack_dist_check binary}")
# shellcheck source=common.bash
source "$(dirname "$0")/common.bash" # $work, bad, ok, run, one

for n in 1 2 3; do
  rm -f "$work"/*.pack
  if run "$n" "$check_bin" "$work" >"$work/out" 2>"$work/err"; then
    sed 's/^/  /' "$work/out"
    [[ $(grep -c '^ok ' "$work/out") -eq 3 ]] && ok "$n ranks: the one-process bytes, 3 cases" ||
      bad "$n ranks: $(cat "$work/out")"
  else
    bad "$n ranks: $(cat "$work/out") $(head -c 400 "$work/err")"
  fi
done
rm -f "$work"/*.pack
PREFREC_MPI_CALL_MAX=64 run 3 "$check_bin" "$work" >"$work/out" 2>"$work/err" &&
  [[ $(grep -c '^ok ' "$work/out") -eq 3 ]] && ok "3 ranks, MPI calls of 64 bytes: the one-process bytes" ||
  bad "3 ranks, MPI calls of 64 bytes: $(cat "$work/out") $(head -c 400 "$work/err")"
[[ -z $(ls "$work" | grep -E '\.tmp\.') ]] && ok "no temp file left" || bad "a temp file left: $(ls "$work")"

[[ $fails -eq 0 ]] && echo "all packw checks passed" || {
  echo "$fails failed"
  exit 1
}
