#!/usr/bin/env bash
# Usage: idle-cpu.sh [options] RUN...   (a benchmark, not a test)
# The daemon's CPU time while it follows the windows of the real module with no
# workload, for each RUN: one guest boot; per RUN its checkout's own mlproxy.ko
# (and mlproxy_synthetic.ko when it has one), `mlproxy run` on /dev/mlproxy, and
# utime + stime from /proc/<pid>/stat over S seconds after 10 s of settling, counted from
# the daemon's log line that it has loaded its state (start-up is not the idle cost) (also
# per thread: the main thread against V8's and libuv's helpers); then the daemon's
# system calls over 20 s by strace -c. Prints a markdown table (also in the run
# folder, idle-cpu.md).
#
# RUN is REPO (a built checkout: dist/ and node_modules/ present, e.g. this one
# and a clone of an older commit) or REPO::NODE_ARGS (node flags for the daemon,
# e.g. '.::--max-semi-space-size=1'; several flags separated by spaces).
# Options:
#   --seconds S          measured seconds per run (default 60)
#   --window-ms W        window length (default 100)
#   --subsystem NAME     synthetic (default: mlproxy_synthetic's windows, the daemon's
#                        default policy) or readahead (a 64 MiB brd ram disk as ra_dev,
#                        the daemon's built-in readahead settings: linucb, as the demo)
#   --module-params P    more mlproxy.ko parameters (readahead default: the demo's,
#                        learning_period=3 promote_windows=3 emergency_hold_windows=2
#                        check_period=16)
#   --bare               also measure `node -e 'setInterval(() => {}, W)'`: the floor
#   --cpu-prof           one more run of the first RUN with a CPU profile of its measured
#                        seconds (scripts/vm/cpu-prof.ts, sampling every
#                        MLP_IDLE_PROF_INTERVAL us, default 1000: a finer one slows the
#                        emulated guest many times over), daemon-idle.cpuprofile in the
#                        run folder
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
seconds=60
window=100
subsystem=synthetic
params=""
bare=0
prof=0
while (($#)); do
  case "$1" in
  --seconds) seconds="$2"; shift 2 ;;
  --window-ms) window="$2"; shift 2 ;;
  --subsystem) subsystem="$2"; shift 2 ;;
  --module-params) params="$2"; shift 2 ;;
  --bare) bare=1; shift ;;
  --cpu-prof) prof=1; shift ;;
  *) break ;;
  esac
done
(($#)) || die "usage: idle-cpu.sh [--seconds S] [--window-ms W] [--subsystem synthetic|readahead] [--module-params P] [--bare] [--cpu-prof] RUN..."
[[ "$subsystem" == synthetic || "$subsystem" == readahead ]] || die "--subsystem: synthetic or readahead, got '$subsystem'"
if [[ "$subsystem" == readahead && -z "$params" ]]; then
  params="learning_period=3 promote_windows=3 emergency_hold_windows=2 check_period=16"
fi
bash "$VM_SCRIPTS/install-deps.sh"
kver="$(guest_kver)"
args=()
n=0
for spec in "$@"; do
  r="${spec%%::*}"
  nodeargs=""
  [[ "$spec" != *::* ]] || nodeargs="${spec#*::}"
  r="$(cd "$r" && pwd)"
  [[ -e "$r/dist/cli/main.js" || -e "$r/dist/src/cli/main.js" ]] || die "$r has no dist/: run npm run build there"
  ko="$(MLP_KMOD_SRC="$r/kmod" bash "$VM_SCRIPTS/build-module.sh" "$kver")"
  # Each build replaces the cached one: keep a copy per checkout.
  keep="$VM_DIR/idle-cpu/$(cache_key "$r" "$ko")"
  mkdir -p "$keep" && cp "$(dirname "$ko")"/*.ko "$keep/"
  args+=("$r" "$keep" "$nodeargs")
  n=$((n + 1))
done
n=$((n + bare + prof))
export MLP_VM_RUN_NAME="idle-cpu-$(date +%Y%m%d-%H%M%S)-$$"
run="$VM_DIR/runs/$MLP_VM_RUN_NAME"
echo "load before: $(cat /proc/loadavg)"
bash "$VM_SCRIPTS/run-in-guest.sh" --quiet --no-insmod --timeout $((200 + 2 * (seconds + 50) * n)) -- \
  env MLP_IDLE_PROF_INTERVAL="${MLP_IDLE_PROF_INTERVAL:-1000}" MLP_IDLE_SUBSYSTEM="$subsystem" MLP_IDLE_PARAMS="$params" MLP_IDLE_BARE="$bare" MLP_IDLE_PROF="$prof" \
  sh "$VM_SCRIPTS/idle-cpu-guest.sh" "$seconds" "$window" "${args[@]}"
echo "load after: $(cat /proc/loadavg)"
cat "$run/idle-cpu.md"
ls "$run"/*.cpuprofile 2>/dev/null || true
