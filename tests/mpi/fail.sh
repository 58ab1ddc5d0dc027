#!/usr/bin/env bash
# fail.sh - a rank that fails after the load ends the job, never hangs (docs/mpi.md "Errors"):
# with PREFREC_MPI_FAIL=RANK:SITE[:K] (a test hook, src/host/dist.h) rank RANK fails as an
# allocation failing there would, at score's streamed merge, a NeuMF step of train, train's
# writing of its rows into a pack, an EASE Gram
# reduction of train's served rankers and of eval's fit, eval's sums of the users' figures,
# mf's item step and rp3beta's exchange in eval, and a visit of tifu_knn's and upcf's ring
# (src/rank/rank_dist.c: the rank leaves the ring, the others' next exchange stops).
# For each, at -n 2 (rank 1) and -n 3 (rank 2, and rank 0 once): the job ends within a timeout
# (a hang fails the test instead of blocking CI), exits non-zero, prints the failing rank's
# message once, and leaves no output nor temp file (train: not even its output directory).
# Run as: bash fail.sh <prefrec-binary> <repo-root> <mpiexec>
set -uo pipefail
bin=$(realpath "$1")
mpiexec=${3:-mpirun}
# shellcheck source=common.bash
source "$(dirname "$0")/common.bash" # $work, bad, ok, run, one

"$bin" gen --out "$work/d" --scale 0.01 --seed 3 --quiet || exit 1
mkdir -p "$work/o"
tr=(train --data "$work/d" --epochs 1 --dim 8 --seed 5 --quiet --out "$work/o/packs")
ev=(eval --data "$work/d" --windows 1 --step 45 --bootstrap 50 --affiliate A06
  --rankers g_topfreq,p_topfreq,rep_recency,ease,pop --default ease
  --json "$work/o/e.json" --html "$work/o/e.html")

# check NAME N HOOK MESSAGE CMD...: CMD on N ranks with PREFREC_MPI_FAIL=HOOK fails within 120 s
# with exactly one error line, "rank R: MESSAGE", and $work/o is left empty (no output, no temp)
check() {
  local name=$1 n=$2 hook=$3 msg=$4 r=${3%%:*}
  shift 4
  rm -rf "$work/o" && mkdir "$work/o"
  PREFREC_MPI_FAIL=$hook timeout 120 "$mpiexec" --oversubscribe -n "$n" "$bin" "$@" \
    >"$work/out" 2>"$work/err"
  local rc=$?
  if [[ $rc -eq 124 ]]; then
    bad "$name, $n ranks, rank $r fails: still running after 120 s (a hang)"
    return
  fi
  [[ $rc -ne 0 ]] || bad "$name, $n ranks, rank $r fails: exit 0"
  local lines
  lines=$(grep -c 'error:' "$work/err")
  if [[ $lines -eq 1 ]] && grep -qF "error: rank $r: $msg" "$work/err"; then
    ok "$name, $n ranks, rank $r fails: exit $rc, its message once"
  else
    bad "$name, $n ranks, rank $r fails: $lines error lines, not 'rank $r: $msg': $(head -c 400 "$work/err")"
  fi
  [[ -z $(ls -A "$work/o") ]] && ok "$name, $n ranks, rank $r fails: no output, no temp file" ||
    bad "$name, $n ranks, rank $r fails: left $(ls -A "$work/o" | tr '\n' ' ')"
  [[ $name != eval* || ! -s $work/out ]] || bad "$name, $n ranks: the table was printed"
}

merge='out of memory writing its score lines (PREFREC_MPI_FAIL'
packw='pack: cannot write its rows (PREFREC_MPI_FAIL'
step='train: out of memory in a NeuMF step (PREFREC_MPI_FAIL'
gram='ease: summing the Gram over the ranks'
recs="eval: summing the users' figures failed"
mfx='mf: out of memory (or MPI failed)'
rpx="rp3beta: out of memory for a rank's co-purchase records, or MPI failed"
tfx="tifu_knn: the customers' lists could not be made (out of memory)"
upx="upcf: the customers' lists could not be made (out of memory, or a sum out of the exact"
evx=(eval --data "$work/d" --windows 1 --step 45 --bootstrap 0 --affiliate A06 --no-tune
  --json "$work/o/e.json" --html "$work/o/e.html")
for n in 2 3; do
  r=$((n - 1))
  check "score, the streamed merge" "$n" "$r:merge" "$merge" score --data "$work/d" --out "$work/o/s.csv"
  check "train, a NeuMF step" "$n" "$r:step:3" "$step" "${tr[@]}"
  # the sums of the served rankers' fits are the same calls on every rank: the 15th is the
  # first affiliate's EASE Gram (14), the 40th a later one's, after packs were written (39:
  # each affiliate's fits are followed by one more sum, its products' pair counts for
  # product.target)
  # the pack, written by every rank at its rows' offsets (src/train/pack_dist.c): a rank that
  # cannot write its rows, at the first affiliate's pack and at the third (after two packs
  # were renamed into place: the output directory goes with them)
  check "train, writing the first pack" "$n" "$r:pack" "$packw" "${tr[@]}"
  check "train, writing the third pack" "$n" "$r:pack:2" "$packw" "${tr[@]}"
  check "train, EASE's Gram of the first affiliate" "$n" "$r:fit:14" "$gram" "${tr[@]}"
  check "train, EASE's Gram after packs were written" "$n" "$r:fit:39" "$gram" "${tr[@]}"
  check "eval, EASE's Gram" "$n" "$r:fit:4" "$gram" "${ev[@]}"
  check "eval, the users' figures" "$n" "$r:users:2" "$recs" "${ev[@]}"
  # mf's and rp3beta's fits (exact sums, docs/mpi.md): each agrees on failures with one sum, mf
  # at the end of every item half-step (the 3rd: 2), rp3beta after its exchange (0)
  check "eval, mf's item step" "$n" "$r:fit:2" "$mfx" "${evx[@]}" --rankers mf --default mf
  check "eval, rp3beta's exchange" "$n" "$r:fit:0" "$rpx" "${evx[@]}" --rankers rp3beta --default rp3beta
  # tifu_knn's first ring at its second visit (after one exchange; at -n 2 the last, the
  # others going on to the next collective), upcf's at its first (its own block, before any
  # exchange)
  check "eval, tifu_knn's ring" "$n" "$r:ring:1" "$tfx" "${evx[@]}" --rankers tifu_knn --default tifu_knn
  check "eval, upcf's ring" "$n" "$r:ring:0" "$upx" "${evx[@]}" --rankers upcf --default upcf
done
check "train, a NeuMF step, rank 0" 3 "0:step" "$step" "${tr[@]}"
check "eval, the users' figures, rank 0" 3 "0:users" "$recs" "${ev[@]}"
check "train, writing the first pack, rank 0" 3 "0:pack" "$packw" "${tr[@]}"
# an output directory that was there: the job leaves it as it was (no pack, no temp file)
rm -rf "$work/o" && mkdir -p "$work/o/packs" && echo old >"$work/o/packs/A06.pack"
PREFREC_MPI_FAIL=1:pack timeout 120 "$mpiexec" --oversubscribe -n 3 "$bin" "${tr[@]}" &>/dev/null &&
  bad "train with a rank failing at the pack exited 0"
[[ $(cat "$work/o/packs/A06.pack") == old && $(ls -A "$work/o/packs") == A06.pack ]] &&
  ok "train, a rank failing at the pack: the older pack untouched, no temp file" ||
  bad "train, a rank failing at the pack: left $(ls -A "$work/o/packs" | tr '\n' ' ')"

# an older output stays as it was (score: the atomic write is not committed)
rm -rf "$work/o" && mkdir "$work/o" && echo old >"$work/o/s.csv"
PREFREC_MPI_FAIL=1:merge timeout 120 "$mpiexec" --oversubscribe -n 2 "$bin" score --data "$work/d" \
  --out "$work/o/s.csv" 2>/dev/null && bad "score with a failing rank exited 0"
[[ $(cat "$work/o/s.csv") == old && $(ls -A "$work/o") == s.csv ]] &&
  ok "score, a failing rank: the older output untouched, no temp file" ||
  bad "score, a failing rank: the older output changed or a temp file left"
# the hook itself is checked: a bad value is refused by name
PREFREC_MPI_FAIL=1:merge:x timeout 120 "$mpiexec" --oversubscribe -n 2 "$bin" score --data "$work/d" \
  --out "$work/o/s.csv" 2>"$work/err" && bad "a bad PREFREC_MPI_FAIL was taken"
grep -q "PREFREC_MPI_FAIL='1:merge:x' is not RANK:SITE" "$work/err" && ok "a bad PREFREC_MPI_FAIL is refused" ||
  bad "a bad PREFREC_MPI_FAIL: $(head -c 300 "$work/err")"
# without the hook the same commands succeed (the runs above failed for the hook's reason)
rm -rf "$work/o" && mkdir "$work/o"
run 3 "$bin" "${tr[@]}" >/dev/null 2>&1 && [[ -n $(ls "$work/o/packs"/*.pack 2>/dev/null) ]] &&
  ok "train, 3 ranks, no hook: packs written" || bad "train, 3 ranks, no hook"
run 3 "$bin" "${ev[@]}" >/dev/null 2>&1 && [[ -s $work/o/e.json ]] && ok "eval, 3 ranks, no hook: JSON written" ||
  bad "eval, 3 ranks, no hook"
rm -f "$work/o/e.json"
run 3 "$bin" "${evx[@]}" --rankers mf,rp3beta --default mf >/dev/null 2>&1 && [[ -s $work/o/e.json ]] &&
  ok "eval mf, rp3beta, 3 ranks, no hook: JSON written" || bad "eval mf, rp3beta, 3 ranks, no hook"
rm -f "$work/o/e.json"
run 3 "$bin" "${evx[@]}" --rankers tifu_knn,upcf --default upcf >/dev/null 2>&1 && [[ -s $work/o/e.json ]] &&
  ok "eval tifu_knn, upcf, 3 ranks, no hook: JSON written" || bad "eval tifu_knn, upcf, 3 ranks, no hook"

[[ $fails -eq 0 ]] && echo "all fail checks passed" || {
  echo "$fails failed"
  exit 1
}
