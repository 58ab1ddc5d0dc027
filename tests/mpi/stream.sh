#!/usr/bin/env bash
# stream.sh - the streamed merge of `mpirun -n N prefrec score` and the collectives in rounds
# (docs/mpi.md): with tiny chunks (PREFREC_MPI_CHUNK) and a per-call limit of 1000 bytes
# (PREFREC_MPI_CALL_MAX, so the loader's exchange and every gather go in hundreds of rounds),
# score at -n 2 and -n 3 writes the one-process bytes, validate the one-process JSON, and train
# at -n 2 the packs it writes without the limit; a rank failing in the middle of the merge
# (PREFREC_MPI_FAIL_CHUNK, a test hook) ends the job with its message, no output and no temp
# file, and an older output untouched; rank 0's failing rename too.
# Run as: bash stream.sh <prefrec-binary> <repo-root> <mpiexec>
set -uo pipefail
bin=$(realpath "$1")
mpiexec=${3:-mpirun}
# shellcheck source=common.bash
source "$(dirname "$0")/common.bash" # $work, bad, ok, run, one
# no_output FILE: neither FILE nor a temp file beside it
no_output() { [[ ! -e $1 ]] && ! ls "$work" | grep -q '\.tmp\.'; }

"$bin" gen --out "$work/d" --scale 0.01 --seed 3 --quiet || exit 1
one "$bin" score --data "$work/d" --out "$work/one.csv" 2>/dev/null || bad "one-process score"
[[ $(wc -l <"$work/one.csv") -gt 1000 ]] || bad "the one-process score has too few pairs"
# chunk of 1 byte: one run per chunk; 700 bytes: a few runs; the default chunk with the limit
for n in 2 3; do
  for env in PREFREC_MPI_CHUNK=1 "PREFREC_MPI_CHUNK=700 PREFREC_MPI_CALL_MAX=1000" \
    PREFREC_MPI_CALL_MAX=1000; do
    rm -f "$work/n.csv"
    if env $env "$mpiexec" --oversubscribe -n "$n" "$bin" score --data "$work/d" \
      --out "$work/n.csv" 2>"$work/err"; then
      cmp -s "$work/one.csv" "$work/n.csv" && ok "score, $n ranks, $env: the same bytes" ||
        bad "score, $n ranks, $env: differs from one process"
    else
      bad "score, $n ranks, $env failed: $(head -c 300 "$work/err")"
    fi
  done
done
# one affiliate (ranks with few runs, some with none of it)
one "$bin" score --data "$work/d" --affiliate A05 --out "$work/one5.csv" 2>/dev/null
rm -f "$work/n.csv"
PREFREC_MPI_CHUNK=1 run 3 "$bin" score --data "$work/d" --affiliate A05 --out "$work/n.csv" 2>/dev/null &&
  cmp -s "$work/one5.csv" "$work/n.csv" && ok "--affiliate A05, 3 ranks, 1-byte chunks: the same bytes" ||
  bad "--affiliate A05, 3 ranks, 1-byte chunks"
# validate: the loader's exchange and the sums in rounds
one "$bin" validate --data "$work/d" --cutoff 2021-10-01 --json "$work/one.json" >"$work/one.txt" 2>/dev/null
rm -f "$work/n.json"
PREFREC_MPI_CALL_MAX=1000 run 3 "$bin" validate --data "$work/d" --cutoff 2021-10-01 \
  --json "$work/n.json" >"$work/n.txt" 2>"$work/err" && cmp -s "$work/one.json" "$work/n.json" &&
  cmp -s "$work/one.txt" "$work/n.txt" && ok "validate, 3 ranks, 1000-byte calls: the same JSON and table" ||
  bad "validate, 3 ranks, 1000-byte calls: $(head -c 300 "$work/err")"
# train with the blend at -n 2: its gathers, ItemKNN's all-to-all and the pack's places'
# exchange in rounds of 64 KiB give the packs of the run without the limit (1000 bytes would
# make the Gram's reductions too slow here)
tr=(--epochs 1 --dim 8 --seed 5 --quiet)
run 2 "$bin" train --data "$work/d" "${tr[@]}" --out "$work/ta" >/dev/null 2>&1 || bad "train, 2 ranks"
PREFREC_MPI_CALL_MAX=65536 run 2 "$bin" train --data "$work/d" "${tr[@]}" --out "$work/tb" \
  >/dev/null 2>"$work/err" || bad "train, 2 ranks, 64 KiB calls: $(head -c 300 "$work/err")"
[[ $(ls "$work/ta" | wc -l) -ge 3 ]] && diff -r "$work/ta" "$work/tb" >/dev/null &&
  ok "train, 2 ranks, 64 KiB calls: the same packs" || bad "train, 2 ranks, 64 KiB calls: packs differ"

# A rank failing in the middle of the merge (its 4th chunk, rank 2 of 3; rank 0's first): the
# job fails with that rank's message, once; no output nor temp file; an older output stays.
for hook in 2:3 0:0; do
  rm -f "$work/n.csv"
  if PREFREC_MPI_CHUNK=1000 PREFREC_MPI_FAIL_CHUNK=$hook run 3 "$bin" score --data "$work/d" \
    --out "$work/n.csv" 2>"$work/err"; then
    bad "failing rank $hook: exit 0"
  else
    grep -q "prefrec score: error: rank ${hook%:*}: chunk ${hook#*:} of its score lines failed" "$work/err" &&
      [[ $(grep -c "error:" "$work/err") -eq 1 ]] && ok "failing rank $hook: its message, once" ||
      bad "failing rank $hook: $(head -c 400 "$work/err")"
    no_output "$work/n.csv" && ok "failing rank $hook: no output written" ||
      bad "failing rank $hook: an output or temp file was written"
  fi
done
echo old >"$work/n.csv"
PREFREC_MPI_CHUNK=1000 PREFREC_MPI_FAIL_CHUNK=1:2 run 3 "$bin" score --data "$work/d" \
  --out "$work/n.csv" 2>/dev/null && bad "failing rank 1:2: exit 0"
[[ $(cat "$work/n.csv") == old ]] && ! ls "$work" | grep -q '\.tmp\.' &&
  ok "failing rank 1:2: the older output untouched" || bad "failing rank 1:2: the older output changed"
rm -f "$work/n.csv"
# rank 0's rename fails at the end (the output is a directory): its message, no temp file left
mkdir "$work/dir.csv"
PREFREC_MPI_CHUNK=1000 run 3 "$bin" score --data "$work/d" --out "$work/dir.csv" 2>"$work/err" &&
  bad "output a directory: exit 0"
grep -q "dir.csv: .*Is a directory" "$work/err" && [[ -z $(ls "$work/dir.csv") ]] &&
  no_output "$work/n.csv" && ok "output a directory: refused, nothing left" ||
  bad "output a directory: $(head -c 400 "$work/err")"
rmdir "$work/dir.csv"
# bad values of the two variables are refused with a message
PREFREC_MPI_CHUNK=0 run 2 "$bin" score --data "$work/d" --out "$work/n.csv" 2>"$work/err" &&
  bad "PREFREC_MPI_CHUNK=0: exit 0"
grep -q "PREFREC_MPI_CHUNK='0' is not a byte count" "$work/err" && no_output "$work/n.csv" &&
  ok "PREFREC_MPI_CHUNK=0 refused" || bad "PREFREC_MPI_CHUNK=0: $(head -c 300 "$work/err")"
PREFREC_MPI_CALL_MAX=8 run 2 "$bin" score --data "$work/d" --out "$work/n.csv" 2>"$work/err" &&
  bad "PREFREC_MPI_CALL_MAX=8: exit 0"
grep -q "PREFREC_MPI_CALL_MAX='8' is not a byte count in 16" "$work/err" && no_output "$work/n.csv" &&
  ok "PREFREC_MPI_CALL_MAX=8 refused" || bad "PREFREC_MPI_CALL_MAX=8: $(head -c 300 "$work/err")"
[[ $fails -eq 0 ]] && echo "stream: all ok" || echo "stream: $fails failure(s)"
exit $((fails > 0))
