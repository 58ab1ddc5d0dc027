#!/usr/bin/env bash
# Does what a new user does on a fresh Debian bookworm and times it: debootstraps a minimal
# bookworm root file system (--variant=minbase), gives it this host's apt and npm client
# configuration (sources, proxy and CA settings), installs git and ca-certificates (what a user
# brings; nothing else by hand), clones the committed HEAD of this checkout and runs the README's
# two commands in it:
#   PREFREC_SCALE=0.05 PREFREC_SERVE=0 bash scripts/demo.sh
#   bash scripts/test.sh
# The root gets its Node.js only through scripts/setup.sh (Debian's nodejs 18), never from the
# host. Prints the time of each stage and the test counts; exits 1 when a command failed.
# Needs root and the package registries (Debian's apt and npm) only.
#   scripts/fresh-check.sh [--both|--demo|--test] [--keep] [--dir DIR] [--mirror URL]
#     --both      the demo, then the tests (default; in README order, so the demo pays for apt)
#     --demo      only the demo          --test   only the tests (then they pay for apt)
#     --keep      keep the root file system (DIR/root) for a look; default: removed at the end
#     --dir DIR   work directory (default: a new /var/tmp/prefrec-fresh.XXXXXX); the root goes
#                 into DIR/root, the logs (debootstrap, demo, test) into DIR/*.log and stay
#     --mirror U  Debian mirror for debootstrap (default: the host's bookworm source)
#   PREFREC_SCALE  demo scale (default 0.05)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
mode=both keep=0 dir="" mirror="" suite=bookworm
while (($#)); do
  case "$1" in
    --both|--demo|--test) mode=${1#--} ;;
    --keep) keep=1 ;;
    --dir) dir=${2:?--dir needs a directory}; shift ;;
    --mirror) mirror=${2:?--mirror needs a URL}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
scale=${PREFREC_SCALE:-0.05}
[[ $EUID == 0 ]] || { echo "fresh-check: needs root (debootstrap, mount, chroot)" >&2; exit 2; }
git -C "$src" rev-parse --verify -q HEAD >/dev/null || { echo "fresh-check: $src is not a git checkout" >&2; exit 2; }
rev=$(git -C "$src" rev-parse HEAD)
[[ -z "$(git -C "$src" status --porcelain --untracked-files=no)" ]] ||
  echo "fresh-check: note: $src has uncommitted changes; only the committed HEAD ${rev:0:7} is checked"

if [[ -z "$dir" ]]; then dir=$(mktemp -d /var/tmp/prefrec-fresh.XXXXXX); else mkdir -p "$dir"; fi
dir=$(cd "$dir" && pwd)
root=$dir/root
[[ ! -e "$root" ]] || { echo "fresh-check: $root exists; give another --dir" >&2; exit 2; }
say() { printf '\n[fresh-check %s] %s\n' "$(date +%T)" "$*"; }
declare -A took

# --- unmount and clean up whatever happens -------------------------------------------------
mounts=()
cleanup() {
  local rc=$? pid m i
  # Processes left inside the root (none expected) would keep its mounts busy: end them by id.
  for pid in /proc/[0-9]*; do
    [[ "$(readlink "$pid/root" 2>/dev/null)" == "$root" ]] && kill -9 "${pid#/proc/}" 2>/dev/null
  done
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    m=${mounts[i]}
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "fresh-check: could not unmount $m" >&2
  done
  if grep -q " $root/" /proc/self/mounts; then
    echo "fresh-check: something is still mounted under $root; not removing it" >&2
  elif ((keep)); then
    echo "fresh-check: kept the root file system in $root"
  elif [[ -d "$root" ]]; then
    rm -rf --one-file-system "$root"
  fi
  echo "fresh-check: logs in $dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- debootstrap ------------------------------------------------------------------------------
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap on the host (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null
fi
# Enabled apt sources of the host, not the ones a package or this project's scripts wrote.
host_sources=()
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  [[ -f "$f" && "$(basename "$f")" != prefrec-* ]] || continue
  dpkg -S "$f" >/dev/null 2>&1 || host_sources+=("$f")
done
if [[ -z "$mirror" ]]; then
  mirror=$(cat "${host_sources[@]}" /dev/null | awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}')
  [[ -n "$mirror" ]] || mirror=$(awk '$1 == "deb" && $0 ~ / bookworm / {for (i = 2; i <= NF; i++)
    if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n "$mirror" ]] || mirror=http://deb.debian.org/debian
fi
say "debootstrap --variant=minbase $suite $root $mirror (log: $dir/debootstrap.log)"
t=$SECONDS
if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$dir/debootstrap.log" 2>&1; then
  tail -n 30 "$dir/debootstrap.log"
  echo "fresh-check: debootstrap failed" >&2
  exit 1
fi
took[debootstrap]=$((SECONDS - t))

# --- the host's client configuration: apt sources, apt settings, CA, DNS, npm ------------------
copy() { # copy FILE... into the root at the same path, keeping modes
  local f
  for f in "$@"; do
    [[ -e "$f" ]] || continue
    mkdir -p "$root$(dirname "$f")"
    cp -L --preserve=mode "$f" "$root$f"
  done
}
if ((${#host_sources[@]})); then
  copy "${host_sources[@]}"
  mv "$root/etc/apt/sources.list" "$root/etc/apt/sources.list.debootstrap" 2>/dev/null || true
  # keyrings the copied sources name (Signed-By) that the root does not have yet
  for k in $(awk '/^Signed-By:/ {print $2}' "${host_sources[@]}" 2>/dev/null | sort -u); do
    [[ -e "$root$k" ]] || copy "$k"
  done
fi
for f in /etc/apt/apt.conf.d/* /etc/apt/auth.conf.d/* /etc/apt/preferences.d/*; do
  [[ -f "$f" ]] || continue
  dpkg -S "$f" >/dev/null 2>&1 || copy "$f"     # local settings only, not a package's own
done
copy /usr/local/share/ca-certificates/* /etc/resolv.conf /etc/hosts \
     /etc/npmrc /usr/local/etc/npmrc
[[ -f "$HOME/.npmrc" ]] && { mkdir -p "$root/root"; cp --preserve=mode "$HOME/.npmrc" "$root/root/.npmrc"; }
# No services start inside a chroot (none is needed; a daemon would keep the mounts busy).
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# --- mounts -------------------------------------------------------------------------------------
# The root gets its own /dev (a tmpfs with the few nodes a build uses, a new devpts instance),
# not a bind of the host's: should this script be killed before it unmounts, an `rm -rf` of
# the left-over root can then never delete the host's device nodes.
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
mount -t sysfs sysfs "$root/sys" && mounts+=("$root/sys")
mount -t tmpfs -o mode=755,nosuid dev "$root/dev" && mounts+=("$root/dev")
for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r name major minor <<<"$n"
  mknod -m 666 "$root/dev/$name" c "$major" "$minor"
done
ln -s /proc/self/fd "$root/dev/fd"
for i in 0:stdin 1:stdout 2:stderr; do ln -s "/proc/self/fd/${i%%:*}" "$root/dev/${i#*:}"; done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts" && mounts+=("$root/dev/pts")
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm" && mounts+=("$root/dev/shm")

# run [LOG] COMMAND: a login-like root shell in the root, nothing of the host's environment.
run() {
  local env=(HOME=/root LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
             DEBIAN_FRONTEND=noninteractive)
  local v
  for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [[ -n "${!v:-}" ]] && env+=("$v=${!v}")
  done
  chroot "$root" /usr/bin/env -i "${env[@]}" /bin/bash -c "$1"
}

say "what a user brings: apt-get install git ca-certificates"
t=$SECONDS
run 'apt-get update -qq && apt-get install -y -q --no-install-recommends git ca-certificates >/dev/null'
took[git+ca]=$((SECONDS - t))
if run 'command -v node || command -v nodejs' >/dev/null; then
  echo "fresh-check: the fresh root already has a node before setup" >&2
  exit 1
fi

say "git clone of $src at ${rev:0:7}"
git -C "$src" bundle create -q "$root/root/prefrec.bundle" HEAD
run "git clone -q /root/prefrec.bundle /root/prefrec && git -C /root/prefrec -c advice.detachedHead=false checkout -q $rev && rm /root/prefrec.bundle"

status=0
declare -A result
timed() { # timed NAME LOG COMMAND
  local name=$1 log=$2 cmd=$3 t=$SECONDS rc=0
  say "$name: $cmd (log: $log)"
  run "cd /root/prefrec && $cmd" 2>&1 | tee "$log" || rc=$?
  took[$name]=$((SECONDS - t))
  if ((rc == 0)); then result[$name]=ok; else result[$name]="FAILED (exit $rc)"; status=1; fi
}
if [[ $mode == both || $mode == demo ]]; then
  timed demo "$dir/demo.log" "PREFREC_SCALE=$scale PREFREC_SERVE=0 bash scripts/demo.sh"
fi
if [[ $mode == both || $mode == test ]]; then
  timed test "$dir/test.log" "bash scripts/test.sh"
fi

# --- report ---------------------------------------------------------------------------------------
say "summary"
echo "commit:    $rev"
echo "node:      $(run 'node --version 2>/dev/null || echo none') ($(run 'command -v node || true')," \
     "$(run "dpkg-query -W -f='\${Package} \${Version}' nodejs 2>/dev/null || echo 'not from apt'"))," \
     "npm $(run 'npm --version 2>/dev/null || echo none')"
echo "packages:  $(run 'dpkg-query -W -f="\${Package}\n" | wc -l') installed in the root," \
     "$(du -sx --block-size=1M "$root" | cut -f1) MB on disk (with the clone and its builds)"
for s in debootstrap git+ca demo test; do
  [[ -n "${took[$s]:-}" ]] && printf '%-11s %5d s  %s\n' "$s:" "${took[$s]}" "${result[$s]:-}"
done
if [[ -f "$dir/test.log" ]]; then
  echo "test counts:"
  grep -E '^== ctest: |tests passed, [0-9]+ tests failed out of|^parity: |^# (tests|pass|fail) |^ℹ (tests|pass|fail) |^test.sh: ' \
    "$dir/test.log" | sed 's/^/  /'
fi
exit $status
