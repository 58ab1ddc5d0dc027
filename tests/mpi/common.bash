# common.bash - what the tests/mpi scripts share (not a test itself: ctest runs *.sh), sourced
# once $bin (the prefrec binary) and $mpiexec are set: OpenMPI as root and oversubscribed, a
# temporary directory $work removed at exit, bad / ok to count the checks, run N CMD... on N
# ranks and one CMD... as one process (the same binary with PREFREC_ONE_PROCESS=1).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # tests run as root here and on CI
export OMPI_MCA_rmaps_base_oversubscribe=1 # 3 ranks on a 2-CPU machine
work=$(mktemp -d "/tmp/prefrec-mpi-$(basename "$0" .sh).XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0
bad() { fails=$((fails + 1)); echo "FAIL $*"; }
ok() { echo "ok   $*"; }
run() { "$mpiexec" --oversubscribe -n "$1" "${@:2}"; }
one() { PREFREC_ONE_PROCESS=1 "$@"; }

# the NeuMF weights: the pack sections a sharded train does not reproduce bit for bit
neumf='^(product\.emb|product\.bias|mlp\.|out\.|customer\.emb|customer\.bias)'
# sections_same A B: the manifests without the training figures, the tensor table's names and
# sizes, and the bytes of every tensor but the NeuMF weights are equal
sections_same() {
  "$bin" inspect "$1" >"$work/ia" && "$bin" inspect "$2" >"$work/ib" || return 1
  local figs='"(train_loss|train_rmse|valid_rmse|best_epoch|epochs_run)"'
  cmp -s <(sed -n '/^manifest/,/^tensors/p' "$work/ia" | grep -vE "$figs") \
    <(sed -n '/^manifest/,/^tensors/p' "$work/ib" | grep -vE "$figs") || return 1
  local na oa ba nb ob bb k=0
  while read -r na oa ba nb ob bb; do
    [[ $na == "$nb" && $ba == "$bb" ]] || return 1
    k=$((k + 1))
    [[ $na =~ $neumf ]] && continue
    cmp -s <(tail -c +$((oa + 1)) "$1" | head -c "$ba") <(tail -c +$((ob + 1)) "$2" | head -c "$bb") ||
      return 1
  done < <(paste -d ' ' <(awk '/^  [0-9]/ { print $2, $(NF - 1), $NF }' "$work/ia") \
    <(awk '/^  [0-9]/ { print $2, $(NF - 1), $NF }' "$work/ib"))
  [[ $k -ge 20 ]]
}
# rmse_close ONE.json N.json: every affiliate of >= 1000 pairs within 0.03 (valid RMSE)
rmse_close() {
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(f))["affiliates"] for f in sys.argv[1:3])
assert a.keys() == b.keys(), (a.keys(), b.keys())
worst = max(abs(a[k]["rmse"] - b[k]["rmse"]) for k in a if a[k]["train_pairs"] + a[k]["valid_pairs"] >= 1000)
print("%.4f" % worst)
sys.exit(0 if worst <= 0.03 else 1)
PY
}
