#!/usr/bin/env bash
# fault_export.sh - outputs are never partially written, and an interrupted export or train
# leaves the previous packs intact and readable. Run as: bash fault_export.sh <prefrec> <repo>
#   1. a full disk, three ways: a failing write (ulimit -f with SIGXFSZ ignored: write() fails
#      with EFBIG), a small tmpfs (when mount works here), and ENOSPC / EIO injected by strace
#      into the Nth write, the fsync and the rename (when strace is installed);
#   2. a killed process: SIGKILL delivered by strace at the Nth write, at the fsync and at the
#      rename (else: killed as soon as its first temp file appears);
# after each, every file under its final name is byte-identical to the old or the new version,
# the old packs still load and serve (prefrec predict), a new item pack beside an old shard is
# refused (item CRC), and a failed (not killed) run leaves no temp file behind.
set -uo pipefail
bin=$(realpath "$1")
work=$(mktemp -d /tmp/prefrec-fault-export.XXXXXX)
mnt="$work/mnt"
cleanup() { mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"; rm -rf "$work"; }
trap cleanup EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); echo "ok   $*"; }
bad() { fails=$((fails + 1)); echo "FAIL $*"; }

"$bin" gen --out "$work/data" --scale 0.01 --seed 3 --quiet || { echo "gen failed"; exit 1; }
for v in 1 2; do
  "$bin" train --data "$work/data" --affiliate A01 --epochs 1 --threads 1 --seed $v --quiet \
    --out "$work/p$v" >/dev/null 2>"$work/train$v.err" || { cat "$work/train$v.err"; exit 1; }
  "$bin" export --pack "$work/p$v/A01.pack" --out "$work/web$v" --shards 4 >/dev/null || exit 1
done
cmp -s "$work/p1/A01.pack" "$work/p2/A01.pack" && { echo "seeds 1 and 2 gave the same pack"; exit 1; }
cust=$(awk -F, 'NR > 1 && $4 == "A01" {print $1; exit}' "$work/data/LPOINT_BIG_COMP_02_PDDE.csv")

# check_dir DIR KILLED LABEL: every final file is the old (web1) or new (web2) version; the
# packs of one generation serve $cust; mixed generations are refused; no temp file unless killed.
check_dir() {
  local dir=$1 killed=$2 label=$3 f name gen_item="" okd=1
  for f in "$work/web1"/*.pack; do
    name=$(basename "$f")
    if [[ ! -f "$dir/$name" ]]; then bad "$label: $name missing"; okd=0; continue; fi
    if cmp -s "$dir/$name" "$f"; then g=1
    elif cmp -s "$dir/$name" "$work/web2/$name"; then g=2
    else bad "$label: $name is neither the old nor the new file (partially written)"; okd=0; continue; fi
    [[ $name == A01.item.pack ]] && gen_item=$g
  done
  if [[ $killed == 0 ]] && ls "$dir" | grep -q '\.tmp\.'; then bad "$label: temp file left: $(ls "$dir" | grep '\.tmp\.')"; okd=0; fi
  # serve from the item pack with each shard: same generation answers, other generation refused
  local served=0 home=0
  for f in "$dir"/A01.cust.*.pack; do
    name=$(basename "$f")
    cmp -s "$f" "$work/web$gen_item/$name" && same=1 || same=0
    if [[ $same == 1 ]] && "$bin" predict --pack "$work/web$gen_item/A01.item.pack" --customers "$f" \
         --customer "$cust" --top 1 >/dev/null 2>&1; then home=1   # $cust lives in this shard
    fi
    if "$bin" predict --pack "$dir/A01.item.pack" --customers "$f" --customer "$cust" --top 3 \
         >"$work/pred.out" 2>"$work/pred.err"; then
      [[ $same == 1 ]] || { bad "$label: item pack of one export served with a shard of another"; okd=0; }
      served=1
    elif [[ $same == 1 ]]; then
      grep -q "is not in" "$work/pred.err" || { bad "$label: $name refused: $(cat "$work/pred.err")"; okd=0; }
    else
      grep -q "belongs to item pack" "$work/pred.err" || { bad "$label: mixed shard refused without naming the item pack CRC: $(cat "$work/pred.err")"; okd=0; }
    fi
  done
  # the customer's own shard, when of the item pack's generation, must serve
  [[ $served == $home ]] || { bad "$label: customer $cust served=$served, expected $home"; okd=0; }
  [[ $okd == 1 ]] && ok "$label (item pack: generation $gen_item)"
}

fresh() { rm -rf "$work/out"; cp -r "$work/web1" "$work/out"; }
export_new() { "$bin" export --pack "$work/p2/A01.pack" --out "$work/out" --shards 4; }

# 1a. a failing write: ulimit -f 64 KiB, SIGXFSZ ignored -> write() fails with EFBIG
fresh
if ( trap '' XFSZ; ulimit -f 64; export_new ) >/dev/null 2>"$work/err"; then
  bad "ulimit -f: export succeeded past a 64 KiB file size limit"
else
  grep -q "write failed" "$work/err" || bad "ulimit -f: message lacks 'write failed': $(cat "$work/err")"
  check_dir "$work/out" 0 "failing write (ulimit -f 64, EFBIG)"
fi
# the same for train's full pack
cp -r "$work/p1" "$work/ptrain"
if ( trap '' XFSZ; ulimit -f 64; "$bin" train --data "$work/data" --affiliate A01 --epochs 1 \
       --threads 1 --seed 2 --quiet --out "$work/ptrain" ) >/dev/null 2>"$work/err"; then
  bad "ulimit -f: train succeeded past the limit"
elif cmp -s "$work/ptrain/A01.pack" "$work/p1/A01.pack" && ! ls "$work/ptrain" | grep -q '\.tmp\.'; then
  ok "failing write during train: previous A01.pack intact, no temp file ($(grep -o 'write failed[^(]*' "$work/err" | head -1))"
else
  bad "failing write during train: A01.pack changed or temp file left"
fi

# 1b. a full tmpfs: room for the old export and 64 KiB more
mkdir -p "$mnt"
size_kb=$(( $(du -sk "$work/web1" | cut -f1) + 64 ))
if mount -t tmpfs -o size=${size_kb}k tmpfs "$mnt" 2>/dev/null; then
  cp "$work/web1"/*.pack "$mnt/"
  if "$bin" export --pack "$work/p2/A01.pack" --out "$mnt" --shards 4 >/dev/null 2>"$work/err"; then
    bad "tmpfs: export succeeded on a full disk"
  else
    grep -q "No space left" "$work/err" || bad "tmpfs: message lacks ENOSPC: $(cat "$work/err")"
    check_dir "$mnt" 0 "full tmpfs (${size_kb} KiB, ENOSPC)"
  fi
  umount "$mnt"
else
  echo "skip full tmpfs: mount not permitted here"
fi

# 1c/2. strace fault injection at each write, at the fsync and at the rename
# (the shell's "Killed" job notices go to /dev/null: the kills are the point)
if command -v strace >/dev/null; then {
  fresh
  strace -f -qq -e trace=write -o "$work/trace" "$bin" export --pack "$work/p2/A01.pack" --out "$work/out" --shards 4 >/dev/null
  nw=$(grep -c 'write(' "$work/trace")
  for how in "error=ENOSPC" "signal=SIGKILL"; do
    killed=0; [[ $how == signal=SIGKILL ]] && killed=1
    for sc in write fsync rename; do
      max=1; [[ $sc == write ]] && max=$nw
      for ((n = 1; n <= max; n++)); do
        fresh
        ( strace -f -qq -o /dev/null -e trace=$sc -e inject=$sc:$how:when=$n \
          "$bin" export --pack "$work/p2/A01.pack" --out "$work/out" --shards 4 >/dev/null 2>"$work/err" ) 2>/dev/null
        rc=$?
        if [[ $rc == 0 ]]; then
          # an injected failure on a write to stdout: the files must all be new
          check_dir "$work/out" $killed "$sc #$n $how (exit 0)"
        else
          check_dir "$work/out" $killed "$sc #$n $how (exit $rc)"
        fi
      done
    done
  done
  # kill train while it writes its pack
  for sc in write rename; do
    rm -rf "$work/ptrain"; cp -r "$work/p1" "$work/ptrain"
    ( strace -f -qq -o /dev/null -e trace=$sc -e inject=$sc:signal=SIGKILL:when=1 \
      "$bin" train --data "$work/data" --affiliate A01 --epochs 1 --threads 1 --seed 2 --quiet \
      --out "$work/ptrain" >/dev/null 2>&1 ) 2>/dev/null
    if cmp -s "$work/ptrain/A01.pack" "$work/p1/A01.pack" || cmp -s "$work/ptrain/A01.pack" "$work/p2/A01.pack"; then
      ok "train killed at its first $sc: A01.pack is a whole pack"
    else bad "train killed at $sc: A01.pack partially written"; fi
  done
} 2>/dev/null
else
  echo "strace not installed: killing at the first temp file instead"
  fresh
  export_new >/dev/null 2>&1 & pid=$!
  for _ in $(seq 1000); do ls "$work/out" | grep -q '\.tmp\.' && break; done
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  check_dir "$work/out" 1 "export killed at its first temp file"
fi

echo "fault_export: $passes passed, $fails failed"
[[ $fails == 0 ]]
