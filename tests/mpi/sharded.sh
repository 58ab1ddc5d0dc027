#!/usr/bin/env bash
# sharded.sh - `mpirun -n N prefrec score|validate|train` (the native-mpi build, docs/mpi.md)
# writes byte for byte what one process writes, for N = 1, 2, 3 (train: 2, 3; the NeuMF weights
# within a tolerance);
# a bad line on any rank ends the job with the one-process error (file:line:column), a non-zero
# status and no output; a quoted line break is refused with its line. The one-process outputs
# come from the same binary with PREFREC_ONE_PROCESS=1 (the code of the normal build: no MPI
# call is made).
# Run as: bash sharded.sh <prefrec-binary> <repo-root> <mpiexec>
set -uo pipefail
bin=$(realpath "$1")
mpiexec=${3:-mpirun}
# shellcheck source=common.bash
source "$(dirname "$0")/common.bash" # $work, bad, ok, run, one
source "$(dirname "$0")/common.bash"

"$bin" gen --out "$work/d" --scale 0.01 --seed 3 --quiet || exit 1
f=LPOINT_BIG_COMP_02_PDDE.csv
# A second data set where customers first seen late in the file and affiliates first seen in
# different orders on different ranks matter: the purchase lines reversed (header kept), with
# CRLF line ends and no line end after the last line.
mkdir -p "$work/r" && cp "$work/d"/*.csv "$work/r/"
{ head -n 1 "$work/d/$f"; tail -n +2 "$work/d/$f" | tac; } | sed 's/$/\r/' | head -c -2 >"$work/r/$f"

for data in d r; do
  one "$bin" score --data "$work/$data" --out "$work/one.csv" 2>/dev/null || bad "one-process score $data"
  one "$bin" validate --data "$work/$data" --cutoff 2021-10-01 --json "$work/one.json" \
    >"$work/one.txt" 2>/dev/null || bad "one-process validate $data"
  [[ $(wc -l <"$work/one.csv") -gt 1000 ]] || bad "$data: the one-process score has too few pairs"
  for n in 1 2 3; do
    rm -f "$work/n.csv" "$work/n.json"
    if run "$n" "$bin" score --data "$work/$data" --out "$work/n.csv" 2>"$work/err"; then
      cmp -s "$work/one.csv" "$work/n.csv" && ok "$data: score, $n ranks: the same bytes" ||
        bad "$data: score, $n ranks: differs from one process"
    else
      bad "$data: score, $n ranks failed: $(head -c 300 "$work/err")"
    fi
    if run "$n" "$bin" validate --data "$work/$data" --cutoff 2021-10-01 --json "$work/n.json" \
      >"$work/n.txt" 2>"$work/err"; then
      cmp -s "$work/one.json" "$work/n.json" && cmp -s "$work/one.txt" "$work/n.txt" &&
        ok "$data: validate, $n ranks: the same JSON and table" ||
        bad "$data: validate, $n ranks: differs from one process"
    else
      bad "$data: validate, $n ranks failed: $(head -c 300 "$work/err")"
    fi
  done
done
# train (the NeuMF score model, --neighbors 0): each rank scores its customers and trains the
# NeuMF data-parallel (its pairs' gradients, summed over the ranks in rank order); rank 0 writes
# the packs. Everything but the NeuMF weights and the manifest's training figures is the
# one-process bytes; the NeuMF is within a tolerance of one process (docs/mpi.md: the validation
# RMSE per affiliate of >= 1000 pairs within 0.03; measured here at -n 1..4: at most 0.009 off,
# and -n 1, which only reorders the batches, 0.004 off); -n 2 twice gives the same bytes.
tr=(--neighbors 0 --epochs 2 --dim 8 --seed 5 --quiet)
# sections_same, rmse_close: tests/mpi/common.bash
for data in d r; do
  rm -rf "$work/one.p"
  one "$bin" train --data "$work/$data" "${tr[@]}" --out "$work/one.p" --json "$work/one.tj" \
    >/dev/null 2>&1 || bad "one-process train $data"
  [[ $(ls "$work/one.p"/*.pack 2>/dev/null | wc -l) -ge 3 ]] || bad "$data: one-process train wrote too few packs"
  for n in 2 3; do
    [[ $data == r && $n == 2 ]] && continue # the reversed data once (3 ranks): time
    rm -rf "$work/n.p"
    if run "$n" "$bin" train --data "$work/$data" "${tr[@]}" --out "$work/n.p" --json "$work/n.tj" \
      >/dev/null 2>"$work/err"; then
      same=1
      for pk in "$work/one.p"/*.pack; do sections_same "$pk" "$work/n.p/${pk##*/}" || same=0; done
      [[ $(ls "$work/n.p" | wc -l) -eq $(ls "$work/one.p" | wc -l) ]] || same=0
      [[ $same -eq 1 ]] && ok "$data: train, $n ranks: all but the NeuMF the one-process bytes" ||
        bad "$data: train, $n ranks: a non-NeuMF section differs from one process"
      if w=$(rmse_close "$work/one.tj" "$work/n.tj"); then
        ok "$data: train, $n ranks: valid RMSE within 0.03 of one process (worst $w)"
      else
        bad "$data: train, $n ranks: valid RMSE off by $w"
      fi
    else
      bad "$data: train, $n ranks failed: $(head -c 300 "$work/err")"
    fi
  done
done
# -n 2 twice: the same bytes (deterministic for a given N and seed)
rm -rf "$work/n2a" "$work/n2b"
run 2 "$bin" train --data "$work/d" "${tr[@]}" --out "$work/n2a" >/dev/null 2>&1
run 2 "$bin" train --data "$work/d" "${tr[@]}" --out "$work/n2b" >/dev/null 2>&1
[[ -n $(ls "$work/n2a") ]] && diff -r "$work/n2a" "$work/n2b" >/dev/null &&
  ok "train, 2 ranks twice: the same packs" || bad "train, 2 ranks twice: packs differ"
# --lr-scale sqrt at -n 3: --batch 1024 trains at --lr 0.004 (the same packs), twice the same
rm -rf "$work/q1" "$work/q2" "$work/q3"
run 3 "$bin" train --data "$work/d" "${tr[@]}" --batch 1024 --lr-scale sqrt --out "$work/q1" >/dev/null 2>&1
run 3 "$bin" train --data "$work/d" "${tr[@]}" --batch 1024 --lr-scale sqrt --out "$work/q2" >/dev/null 2>&1
run 3 "$bin" train --data "$work/d" "${tr[@]}" --batch 1024 --lr 0.004 --out "$work/q3" >/dev/null 2>&1
[[ -n $(ls "$work/q1") ]] && diff -r "$work/q1" "$work/q2" >/dev/null && diff -r "$work/q1" "$work/q3" >/dev/null &&
  ok "train --lr-scale sqrt, 3 ranks: twice the same packs, those of --lr 0.004 at batch 1024" ||
  bad "train --lr-scale sqrt, 3 ranks: packs differ"
# train with the blend (--neighbors 10, the default): every rank fits the served rankers (blend,
# due, mixed share) on its customers, item-side counts summed over the ranks as integers and
# tuning sums taken in the one-process customer order (docs/mpi.md), so every pack section but
# the NeuMF weights (the blend's neighbour lists and weights, popularity, trend, the buy-again
# prior, the per-customer line counts, the manifest's tuned weights) is the one-process bytes;
# on the reversed data too (customers first seen in other orders on other ranks).
trb=(--epochs 1 --dim 8 --seed 5 --quiet)
for data in d r; do
  rm -rf "$work/one.b"
  one "$bin" train --data "$work/$data" "${trb[@]}" --out "$work/one.b" >/dev/null 2>&1 ||
    bad "one-process train with the blend $data"
  [[ $(ls "$work/one.b"/*.pack 2>/dev/null | wc -l) -ge 3 ]] || bad "$data: blend: too few packs"
  for n in 2 3; do # time: the generated data at 2 ranks, the reversed data at 3
    [[ $data == r && $n == 2 || $data == d && $n == 3 ]] && continue
    rm -rf "$work/n.b"
    if run "$n" "$bin" train --data "$work/$data" "${trb[@]}" --out "$work/n.b" >/dev/null \
      2>"$work/err"; then
      same=1
      for pk in "$work/one.b"/*.pack; do sections_same "$pk" "$work/n.b/${pk##*/}" || same=0; done
      [[ $(ls "$work/n.b" | wc -l) -eq $(ls "$work/one.b" | wc -l) ]] || same=0
      "$bin" inspect "$work/n.b/A02.pack" | grep -q '^  [0-9].* blend\.knn\.w ' || same=0
      [[ $same -eq 1 ]] && ok "$data: train with the blend, $n ranks: all but the NeuMF the one-process bytes" ||
        bad "$data: train with the blend, $n ranks: a non-NeuMF section differs from one process"
    else
      bad "$data: train with the blend, $n ranks failed: $(head -c 300 "$work/err")"
    fi
  done
done

# --affiliate: one affiliate's pairs, the same
one "$bin" score --data "$work/d" --affiliate A02 --out "$work/one.csv" 2>/dev/null
run 3 "$bin" score --data "$work/d" --affiliate A02 --out "$work/n.csv" 2>/dev/null &&
  cmp -s "$work/one.csv" "$work/n.csv" && ok "--affiliate A02, 3 ranks: the same bytes" ||
  bad "--affiliate A02, 3 ranks"

# A part directory (gen --parts 4: the same lines in 4 part files; a fifth, empty part): score
# and validate on N ranks write the bytes of one process on the single file.
"$bin" gen --out "$work/p" --scale 0.01 --seed 3 --parts 4 --quiet || bad "gen --parts 4"
{ head -n 1 "$work/d/$f"; } >"$work/p/$f/part-00004.csv"
one "$bin" score --data "$work/d" --out "$work/one.csv" 2>/dev/null
one "$bin" validate --data "$work/d" --cutoff 2021-10-01 --json "$work/one.json" >"$work/one.txt" 2>/dev/null
for n in 2 3; do
  rm -f "$work/n.csv" "$work/n.json"
  run "$n" "$bin" score --data "$work/p" --out "$work/n.csv" 2>"$work/err" &&
    cmp -s "$work/one.csv" "$work/n.csv" && ok "parts: score, $n ranks: the single file's bytes" ||
    bad "parts: score, $n ranks: $(head -c 300 "$work/err")"
  run "$n" "$bin" validate --data "$work/p" --cutoff 2021-10-01 --json "$work/n.json" \
    >"$work/n.txt" 2>"$work/err" && cmp -s "$work/one.json" "$work/n.json" &&
    cmp -s "$work/one.txt" "$work/n.txt" && ok "parts: validate, $n ranks: the same JSON and table" ||
    bad "parts: validate, $n ranks: $(head -c 300 "$work/err")"
done
# a bad count in part 3 and a bad date in part 1: the first one in part order is reported, by
# its part and line, as one process reports it
cp -r "$work/p" "$work/pb"
awk -F, -v OFS=, 'NR == 7 { $10 = "x1" } { print }' "$work/p/$f/part-00003.csv" >"$work/pb/$f/part-00003.csv"
awk -F, -v OFS=, 'NR == 900 { $7 = "2021-13-45" } { print }' "$work/p/$f/part-00001.csv" >"$work/pb/$f/part-00001.csv"
one "$bin" score --data "$work/pb" --out "$work/one.csv" 2>"$work/one.err" && bad "parts: one process took the bad date"
grep -q "$f/part-00001.csv:900:.*bad date" "$work/one.err" || bad "parts: one-process error: $(cat "$work/one.err")"
for n in 2 3; do
  rm -f "$work/n.csv"
  run "$n" "$bin" score --data "$work/pb" --out "$work/n.csv" 2>"$work/err" && bad "parts, bad lines, $n ranks: exit 0"
  grep -Fq "$(cat "$work/one.err")" "$work/err" && [[ ! -e "$work/n.csv" ]] &&
    ok "parts, bad lines, $n ranks: $(cat "$work/one.err")" || bad "parts, bad lines, $n ranks: $(head -c 400 "$work/err")"
done

# A bad date on a line in the last third of the file (rank 2's range): the one-process message,
# every rank non-zero (mpirun's status), no output file.
mkdir -p "$work/bad" && cp "$work/d"/*.csv "$work/bad/"
lines=$(wc -l <"$work/d/$f")
at=$((lines * 5 / 6))
awk -F, -v OFS=, -v at="$at" 'NR == at { $7 = "2021-13-45" } { print }' "$work/d/$f" >"$work/bad/$f"
one "$bin" score --data "$work/bad" --out "$work/one.csv" 2>"$work/one.err" && bad "one process took the bad date"
grep -q "$f:$at:" "$work/one.err" || bad "one-process error does not name line $at: $(cat "$work/one.err")"
for n in 2 3; do
  rm -f "$work/n.csv"
  if run "$n" "$bin" score --data "$work/bad" --out "$work/n.csv" 2>"$work/err"; then
    bad "bad date, $n ranks: exit 0"
  else
    grep -Fq "$(cat "$work/one.err")" "$work/err" && ok "bad date, $n ranks: $(cat "$work/one.err")" ||
      bad "bad date, $n ranks: not the one-process error: $(head -c 400 "$work/err")"
    [[ $(grep -c "error:" "$work/err") -eq 1 ]] || bad "bad date, $n ranks: not exactly one error line"
    if [[ -e "$work/n.csv" ]] || ls "$work" | grep -q '\.tmp\.'; then
      bad "bad date, $n ranks: an output or temp file was written"
    else
      ok "bad date, $n ranks: no output written"
    fi
  fi
done
# train: the same error, no pack (nor the output directory) written
rm -rf "$work/n.p"
if run 3 "$bin" train --data "$work/bad" "${tr[@]}" --out "$work/n.p" >/dev/null 2>"$work/err"; then
  bad "bad date, train, 3 ranks: exit 0"
else
  msg=$(cat "$work/one.err")
  grep -Fq "prefrec train: error: ${msg#*error: }" "$work/err" && [[ ! -e "$work/n.p" ]] &&
    ok "bad date, train, 3 ranks: the one-process error, nothing written" ||
    bad "bad date, train, 3 ranks: $(head -c 400 "$work/err")"
fi
# two bad lines, in rank 0's and rank 2's ranges (a bad count, then the bad date): the job
# reports the first one, as one process does
awk -F, -v OFS=, -v at="$at" -v early=$((lines / 6)) 'NR == early { $10 = "x1" } NR == at { $7 = "2021-13-45" } { print }' \
  "$work/d/$f" >"$work/bad/$f"
one "$bin" score --data "$work/bad" --out "$work/one.csv" 2>"$work/one.err"
grep -q "$f:$((lines / 6)):.*bad count 'x1'" "$work/one.err" || bad "one process: not the first bad line: $(cat "$work/one.err")"
run 3 "$bin" score --data "$work/bad" --out "$work/n.csv" 2>"$work/err" && bad "two bad lines, 3 ranks: exit 0"
grep -Fq "$(cat "$work/one.err")" "$work/err" && ok "two bad lines, 3 ranks: the first one reported" ||
  bad "two bad lines, 3 ranks: $(head -c 400 "$work/err")"
# a quoted field with a line break: refused with its line
mkdir -p "$work/q" && cp "$work/d"/*.csv "$work/q/"
awk -F, -v OFS=, 'NR == 100 { $5 = "\"BR\nX\"" } { print }' "$work/d/$f" >"$work/q/$f"
if run 2 "$bin" validate --data "$work/q" --cutoff 2021-10-01 >/dev/null 2>"$work/err"; then
  bad "quoted line break: exit 0"
else
  grep -q "$f:100: a quoted field holds a line break" "$work/err" &&
    ok "quoted line break refused at line 100" || bad "quoted line break: $(head -c 300 "$work/err")"
fi
[[ $fails -eq 0 ]] && echo "sharded: all ok" || echo "sharded: $fails failure(s)"
exit $((fails > 0))
