#!/usr/bin/env bash
# bench/train.sh - prefrec's NeuMF trainer vs the same model in PyTorch at its best, same data.
#   bash bench/train.sh [--affiliate A01] [--epochs 3] [--scale 1] [--data PATH] [--runs 3]
#                       [--threads T (all CPUs)] [--ignore-load]
# Builds prefrec (native preset), generates demo data at --scale if --data is not given (PATH:
# an L.POINT directory or a mapping .json, e.g. bench/completejourney.json), then:
#   1. bench_peak: the machine's measured FMA peak (the roofline's ceiling);
#   2. prefrec train --dump-pairs: the exact pairs and split, for PyTorch;
#   3. --runs times, alternating: prefrec train and bench/train_torch.py (same batch, epochs,
#      dims, lr, l2, threads = all CPUs), each run's seconds per epoch and best validation RMSE;
# and prints the peer's configuration (bench/peer_config.py: torch parallel_info(), BLAS via
# threadpoolctl, OPENBLAS_*), the medians side by side, prefrec's GFLOP/s against the peak, and
# the ratio - or no ratio when the peer is misconfigured or the machine was busy (1-minute load
# average above 0.7 at the start; --ignore-load prints it anyway, marked). OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE are unset for the PyTorch command alone (OpenBLAS then detects this CPU).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ncpu=$(nproc)
aff="" epochs=3 scale=1 data="" threads=$ncpu batch=256 dim=32 layers=64,32 lr=0.002 l2=0.1 runs=3 ignore_load=0
while (($#)); do
  case "$1" in
    --affiliate) aff=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --ignore-load) ignore_load=1; shift ;;
    *) echo "usage: bash bench/train.sh [--affiliate A01] [--epochs 3] [--scale 1] [--data PATH] [--runs 3] [--threads T] [--ignore-load]" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3   # Debian's python3-torch lives in the system interpreter
"$py" -c "import torch, numpy" 2>/dev/null || { echo "bench/train.sh: needs python3-torch and python3-numpy: run scripts/setup.sh --bench" >&2; exit 1; }
cd "$here"
for _ in $(seq 1 18); do  # a previous run's load fades from the 1-minute average: wait up to 3 minutes
  awk '{exit !($1 > 0.7)}' /proc/loadavg || break
  ((ignore_load)) && break
  echo "bench/train.sh: load average $(cut -d' ' -f1 /proc/loadavg), waiting for a quiet machine" >&2
  sleep 10
done
load0=$(cut -d' ' -f1 /proc/loadavg)
cmake --preset native >/dev/null
cmake --build --preset native -j2 >/dev/null
bin=build/native/prefrec
work=$(mktemp -d /tmp/prefrec-bench-train.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [[ -z "$data" ]]; then
  data=$work/data
  "$bin" gen --out "$data" --scale "$scale" --seed 1 --quiet
  label="demo data, scale $scale"
else
  label=$data
fi
[[ -n "$aff" ]] || aff=$("$bin" info --data "$data" --json 2>/dev/null |
  "$py" -c 'import json,sys; print(sorted(json.load(sys.stdin)["rows_per_affiliate"])[0])')
echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $ncpu CPUs, load average at start $load0"
echo "== peak (bench_peak, $threads threads):"
build/native/bench_peak --threads "$threads" | tee "$work/peak.txt" | sed 's/^/   /'
peak=$(awk '/^peak:/ {print $2}' "$work/peak.txt")
fpp=$(build/native/bench_train_kernel --flops --dim "$dim" --layers "$layers")
echo "== kernel alone (bench_train_kernel, 1 thread, then $threads at once):"
build/native/bench_train_kernel --dim "$dim" --layers "$layers" | sed 's/^/   /'
kern=0
if ((threads > 1)); then
  build/native/bench_train_kernel --dim "$dim" --layers "$layers" --threads "$threads" | tee "$work/kern.txt" | sed 's/^/   /'
  kern=$(awk '/GFLOP\/s/ {if ($2 > k) k = $2} END {print k + 0}' "$work/kern.txt")
fi
common=(--epochs "$epochs" --batch "$batch" --dim "$dim" --layers "$layers" --lr "$lr" --l2 "$l2")
"$bin" train --data "$data" --affiliate "$aff" --threads "$threads" --seed 1 --patience "$epochs" \
  "${common[@]}" --neighbors 0 --dump-pairs "$work/pairs" --out "$work/packs" 2>"$work/c0.log" >"$work/c0.out"
pairs=$(awk -v a="$aff" '$1 == a {print $2}' "$work/c0.out")
grep -m1 kernel "$work/c0.log" | sed 's/^/== prefrec: /'
echo "== PyTorch peer configuration (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE unset for its command):"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" -c "
import sys; sys.path.insert(0, 'bench'); import peer_config
peer_config.configure($threads, use_torch=True); sys.exit(1 if peer_config.report($threads, use_torch=True, out=sys.stdout) else 0)" \
  | sed 's/^/   /' | tee "$work/peer.txt" || true
for i in $(seq 1 "$runs"); do
  "$bin" train --data "$data" --affiliate "$aff" --threads "$threads" --seed 1 --patience "$epochs" \
    "${common[@]}" --neighbors 0 --out "$work/packs" 2>"$work/c$i.log" >"$work/c$i.out"
  c_sec=$(awk -v a="$aff" '$1 == a {print $9}' "$work/c$i.out")
  c_rmse=$(grep -o 'valid RMSE [0-9.]*' "$work/c$i.log" | awk '{print $3}' | sort -g | head -1)
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" bench/train_torch.py "$work/pairs/$aff.pairs.csv" \
    --threads "$threads" --seed 1 "${common[@]}" 2>"$work/t$i.log" >"$work/t$i.json"
  read -r t_sec t_rmse < <("$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["sec_per_epoch"], d["best_valid_rmse"])' "$work/t$i.json")
  printf "run %d: prefrec %.3f s/epoch (valid RMSE %s)   pytorch %.3f s/epoch (valid RMSE %.4f)\n" "$i" "$c_sec" "$c_rmse" "$t_sec" "$t_rmse"
  echo "$c_sec $c_rmse $t_sec $t_rmse" >>"$work/runs.txt"
done
load1=$(cut -d' ' -f1 /proc/loadavg)
echo
echo "== $aff of $label: $pairs pairs (9:1 split, identical for both), batch $batch, dim $dim, mlp $layers, $epochs epochs, $threads threads each, medians of $runs alternating runs"
"$py" - "$work/runs.txt" "$fpp" "$pairs" "$peak" "$load0" "$load1" "$ignore_load" "$work/peer.txt" "$kern" "$threads" <<'EOF'
import statistics as st, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
fpp, pairs, peak, load0, load1, ignore = float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), sys.argv[7] == "1"
kern, nthreads = float(sys.argv[9]), int(sys.argv[10])
peer_bad = [l.strip() for l in open(sys.argv[8]) if "MISCONFIGURED" in l]
c, cr, t, tr = (st.median(r[i] for r in rows) for i in range(4))
train_pairs = pairs - round(pairs * 0.1)
gflop = fpp * train_pairs * 1e-9
print(f"{'impl':10s} {'s/epoch':>9s} {'best valid RMSE':>16s} {'GFLOP/s':>9s} {'% of peak':>10s}")
print(f"{'prefrec':10s} {c:9.3f} {cr:16.4f} {gflop / c:9.1f} {100 * gflop / c / peak:9.1f}%")
print(f"{'pytorch':10s} {t:9.3f} {tr:16.4f} {gflop / t:9.1f} {100 * gflop / t / peak:9.1f}%")
print(f"roofline: {gflop:.2f} GFLOP per epoch (dense products, {fpp:.0f} flops x {train_pairs} training pairs); "
      f"prefrec's whole epoch {gflop / c:.1f} GFLOP/s of the measured peak {peak:.1f} GFLOP/s ({100 * gflop / c / peak:.0f}%)")
if kern > 0:
    print(f"roofline: the training kernels (forward + backward) on {nthreads} threads at once {kern:.1f} GFLOP/s, "
          f"{100 * kern / peak:.0f}% of the peak (target >= 40%); the rest of an epoch is the optimiser's step "
          f"and the exchange of shared rows and weights between cores (bench_peak's core-to-core line)")
print(f"RMSE: prefrec {cr:.4f} vs pytorch {tr:.4f}: {'within' if cr <= tr + 0.005 else 'NOT within'} 0.005 of PyTorch's or better")
why = []
if peer_bad:
    why.append("PyTorch misconfigured (" + "; ".join(p.split("MISCONFIGURED: ")[1] for p in peer_bad) + ")")
if load0 > 0.7:
    why.append(f"machine busy (load average {load0} at the start, {load1} at the end)")
if why and not ignore:
    print("ratio: not printed: " + "; ".join(why))
else:
    tag = " [" + "; ".join(why) + ": NOT a valid figure]" if why else ""
    print(f"ratio: prefrec is {t / c:.1f}x faster per epoch than PyTorch (target >= 20x){tag}")
EOF
