#!/usr/bin/env bash
# Run one libFuzzer target for a given time:  bash fuzz/run.sh csv|json|pack|api|member SECONDS
# Builds the targets if needed (fuzz/build.sh). The committed seeds (fuzz/corpus/<target>) are
# read-only inputs; new corpus entries go to build/fuzz/corpus/<target>, crashes to
# build/fuzz/artifacts/<target>/. Extra arguments are passed to libFuzzer.
# Env: PREFREC_FUZZ_OUT (binaries, default build/fuzz), PREFREC_FUZZ_BIN_SKIP_BUILD=1.
set -euo pipefail
fuzzdir=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$fuzzdir/.." && pwd)
t=${1:?usage: fuzz/run.sh csv|json|pack|api|member SECONDS [libFuzzer args]}
secs=${2:?usage: fuzz/run.sh TARGET SECONDS}
shift 2
out=${PREFREC_FUZZ_OUT:-$root/build/fuzz}
[[ "${PREFREC_FUZZ_BIN_SKIP_BUILD:-0}" == 1 ]] || bash "$fuzzdir/build.sh" >/dev/null
bin="$out/fuzz_$t"
[[ -x "$bin" ]] || { echo "no such target: $bin" >&2; exit 2; }
work="$out/corpus/$t"
art="$out/artifacts/$t/"
mkdir -p "$work" "$art"
dict=()
[[ -f "$fuzzdir/$t.dict" ]] && dict=(-dict="$fuzzdir/$t.dict")
maxlen=4096
[[ "$t" == pack ]] && maxlen=16384
echo "fuzz_$t: ${secs}s, corpus $work + $fuzzdir/corpus/$t" >&2
exec "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=$maxlen \
  -print_final_stats=1 -artifact_prefix="$art" "${dict[@]}" "$@" "$work" "$fuzzdir/corpus/$t"
