#!/usr/bin/env bash
# Usage: idle-cpu.sh [--seconds S] [--window-ms W] REPO...   (a benchmark, not a test)
# The daemon's CPU time while it follows the windows of the real module, for each
# checkout REPO (built: dist/ and node_modules/ present; e.g. this one and a clone
# of an older commit): one guest boot; per checkout its own mlproxy.ko (and
# mlproxy_synthetic.ko when it has one) with W ms synthetic windows (default 100),
# `mlproxy run` on /dev/mlproxy, and utime + stime from /proc/<pid>/stat over S
# seconds (default 60) after 10 s of settling; also the daemon's system calls over
# the same time by strace -c. Prints a markdown table (also in the run folder).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
seconds=60
window=100
while (($#)); do
  case "$1" in
  --seconds) seconds="$2"; shift 2 ;;
  --window-ms) window="$2"; shift 2 ;;
  *) break ;;
  esac
done
(($#)) || die "usage: idle-cpu.sh [--seconds S] [--window-ms W] REPO..."
bash "$VM_SCRIPTS/install-deps.sh"
kver="$(guest_kver)"
args=()
for r in "$@"; do
  r="$(cd "$r" && pwd)"
  [[ -e "$r/dist/cli/main.js" ]] || die "$r has no dist/: run npm run build there"
  ko="$(MLP_KMOD_SRC="$r/kmod" bash "$VM_SCRIPTS/build-module.sh" "$kver")"
  # Each build replaces the cached one: keep a copy per checkout.
  keep="$VM_DIR/idle-cpu/$(cache_key "$r" "$ko")"
  mkdir -p "$keep" && cp "$(dirname "$ko")"/*.ko "$keep/"
  args+=("$r" "$keep")
done
export MLP_VM_RUN_NAME="idle-cpu-$(date +%Y%m%d-%H%M%S)-$$"
run="$VM_DIR/runs/$MLP_VM_RUN_NAME"
echo "load before: $(cat /proc/loadavg)"
bash "$VM_SCRIPTS/run-in-guest.sh" --quiet --no-insmod --timeout $((200 + 2 * (seconds + 40) * $#)) -- \
  sh "$VM_SCRIPTS/idle-cpu-guest.sh" "$seconds" "$window" "${args[@]}"
echo "load after: $(cat /proc/loadavg)"
cat "$run/idle-cpu.md"
