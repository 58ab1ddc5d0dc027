#!/usr/bin/env bash
# bench/train.sh - prefrec's NeuMF trainer vs the same model in PyTorch, same run, same data.
#   bash bench/train.sh [--affiliate A01] [--epochs 5] [--scale 1] [--data DIR]
# Builds prefrec (native preset), generates demo data if --data is not given, then:
#   1. prefrec train --threads 2 --dump-pairs: trains and writes the exact pairs + split it used;
#   2. bench/train_torch.py on those pairs with 2 threads, same batch, epochs, dims, lr, l2;
# and prints seconds per epoch of each, the ratio, and the best validation RMSE side by side.
# Both run all epochs (early stopping patience = epochs). Figures vary with machine load: the
# machine may be shared, and the two runs are sequential.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
aff=A01 epochs=5 scale=1 data="" threads=2 batch=256 dim=32 layers=64,32 lr=0.002 l2=0.1
while (($#)); do
  case "$1" in
    --affiliate) aff=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "usage: bash bench/train.sh [--affiliate A01] [--epochs 5] [--scale 1] [--data DIR]" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3   # Debian's python3-torch lives in the system interpreter
"$py" -c "import torch, numpy" 2>/dev/null || { echo "bench/train.sh: needs python3-torch and python3-numpy: run scripts/setup.sh --bench" >&2; exit 1; }
cd "$here"
cmake --preset native >/dev/null
cmake --build --preset native -j2 >/dev/null
bin=build/native/prefrec
work=$(mktemp -d /tmp/prefrec-bench-train.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [[ -z "$data" ]]; then
  data=$work/data
  "$bin" gen --out "$data" --scale "$scale" --seed 1 --quiet
fi
common=(--epochs "$epochs" --batch "$batch" --dim "$dim" --layers "$layers" --lr "$lr" --l2 "$l2")
echo "== prefrec train ($aff, $threads threads, batch $batch, dim $dim, mlp $layers, $epochs epochs)"
"$bin" train --data "$data" --affiliate "$aff" --threads "$threads" --seed 1 --patience "$epochs" \
  "${common[@]}" --dump-pairs "$work/pairs" --out "$work/packs" 2>"$work/c.log" >"$work/c.out"
grep epoch "$work/c.log"
c_sec=$(awk -v a="$aff" '$1 == a {print $9}' "$work/c.out")
c_rmse=$(grep -o 'valid RMSE [0-9.]*' "$work/c.log" | awk '{print $3}' | sort -g | head -1)
echo "== PyTorch ($("$py" -c 'import torch; print(torch.__version__)'), torch.set_num_threads($threads))"
OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$py" bench/train_torch.py "$work/pairs/$aff.pairs.csv" \
  --threads "$threads" --seed 1 "${common[@]}" 2>"$work/t.log" >"$work/t.json"
cat "$work/t.log"
read -r t_sec t_rmse < <("$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["sec_per_epoch"], d["best_valid_rmse"])' "$work/t.json")
pairs=$(awk -v a="$aff" '$1 == a {print $2}' "$work/c.out")
echo
echo "== $aff: $pairs pairs (9:1 split, identical for both), batch $batch, $epochs epochs, $threads threads each"
printf "%-10s %12s %16s\n" impl "s/epoch" "best valid RMSE"
printf "%-10s %12.3f %16.4f\n" prefrec "$c_sec" "$c_rmse"
printf "%-10s %12.3f %16.4f\n" pytorch "$t_sec" "$t_rmse"
awk -v c="$c_sec" -v t="$t_sec" 'BEGIN { printf "ratio: prefrec is %.1fx faster per epoch (target >= 20x)\n", t / c }'
