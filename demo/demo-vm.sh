#!/usr/bin/env bash
# `npm run demo:vm`: the read-ahead demo on a real kernel. Installs what it needs, builds
# the project and mlp-reader, makes (once) the data disk (demo/make-disk.sh),
# boots Debian's kernel in QEMU with the disk under a storage profile
# (scripts/vm/storage.sh), runs every workload at the kernel default, at every fixed
# read-ahead setting of the grid and under the daemon with each policy
# (demo/bench.ts), then writes docs/results.md, docs/results/summary.json
# and docs/results/*.svg from the measurements. The host's load average, and how long
# QEMU's threads waited for a host CPU, are sampled every 5 s meanwhile, so that every
# run's figures carry the load they were measured under.
#
# Environment (defaults: well over an hour of guest time on a 2-core host with TCG):
#   DEMO_STORAGE (cloud-small; host, netdisk)   DEMO_REPEATS (3)
#   DEMO_FIXED_SECONDS (6)   DEMO_DAEMON_SECONDS (180)   DEMO_COST_SECONDS (20)
#   (a daemon run is 180 s because a daemon runs for hours: in a 60 s run its start-up and
#   V8's one-time heap reduction about 50 s after the start weigh three times as much on
#   the CPU share as in 180 s, see docs/benchmarks.md, "What a window costs")
#   DEMO_PHASE_CYCLES (1: cycles of the phase job in a fixed run; from 2 on, the cycles
#     after the first are measured, as in the daemon runs)
#   DEMO_GRID (4,5,...,12: ra_kb_log2 of the fixed arms, 16 KiB .. 4 MiB)
#   DEMO_POLICIES (linucb; also ucb1, lints, conservative)
#   DEMO_WORKLOADS (seq,mmap,mixed,phase,pread; or a script's path)
#   DEMO_PHASES (cost,fixed,daemon)   DEMO_FIXED_VIA (mlproxy; or sysfs)
#   DEMO_KERNEL_STACKS_MS (0: off; e.g. 250: sample where the bench's and the daemon's
#     threads are in the kernel, for the stall table; it costs 2-3% of the guest's vCPU under TCG)
#   DEMO_PERF_HZ (0: off; e.g. 49: perf samples the whole guest, kernel and user call
#     chains, while the bench runs; perf.data and the guest's kallsyms land next to the
#     results, with the perf report command in the log; needs the host's perf, Debian's
#     linux-perf, which the guest runs from the chroot)
#   DEMO_MEMORY_MB (512)   DEMO_MODULE_PARAMS (see below)
#   DEMO_REPORT (docs/results.md; "none" skips the report)   DEMO_TIMEOUT (7200 s)
#   DEMO_DAEMON_NODE_ARGS (node flags of the daemon runs; to profile the daemon from 25 s
#     into its run for 30 s: "--env-file=$PWD/prof.env --import=$PWD/dist/scripts/vm/cpu-prof.js"
#     with MLP_PROF_OUT=daemon.cpuprofile, MLP_PROF_AFTER_S=25, MLP_PROF_FOR_S=30 in prof.env
#     (scripts/vm/cpu-prof.ts: the profile lands in the run folder, the one place in the
#     guest where host files are writable; node --cpu-prof writes only at exit and slows
#     the daemon's start-up past the bench's minute under TCG))
#   SEQ_FILES, SEQ_MB, BIG_FILES, BIG_MB: the data disk (demo/make-disk.sh)
# The whole script is one function, parsed before it runs: bash reads a script as it goes,
# so an edit of this file during a run (it lasts most of an hour) would otherwise make the
# rest of the run execute whatever now sits at the old byte offset (it happened once).
main() {
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/vm/lib.sh"
DEMO="$REPO/demo"

storage="${DEMO_STORAGE:-cloud-small}"
repeats="${DEMO_REPEATS:-3}"
fixed_s="${DEMO_FIXED_SECONDS:-6}"
daemon_s="${DEMO_DAEMON_SECONDS:-180}"
cost_s="${DEMO_COST_SECONDS:-20}"
phase_cycles="${DEMO_PHASE_CYCLES:-1}"
grid="${DEMO_GRID:-4,5,6,7,8,9,10,11,12}"
policies="${DEMO_POLICIES:-linucb}"
workloads="${DEMO_WORKLOADS:-seq,mmap,mixed,phase,pread}"
phases="${DEMO_PHASES:-cost,fixed,daemon}"
fixed_via="${DEMO_FIXED_VIA:-mlproxy}"
memory="${DEMO_MEMORY_MB:-512}"
report="${DEMO_REPORT:-docs/results.md}"
perf_hz="${DEMO_PERF_HZ:-0}"
[[ "$perf_hz" =~ ^[0-9]+$ ]] || die "DEMO_PERF_HZ must be a whole number of samples a second (0: off), got '$perf_hz'"
if ((perf_hz > 0)) && ! command -v perf >/dev/null; then
  die "DEMO_PERF_HZ=$perf_hz needs perf on the host, which the guest runs from the chroot (Debian: apt-get install linux-perf)"
fi
# Module parameters of the daemon runs (the fixed and default runs add check_period=0 and
# the longest heartbeat_ms; the idle-daemon cost runs at 100 ms windows): 400 ms windows of
# which the first 200 ms are not counted (on cloud-small a 4 MiB read-ahead takes 100 ms to
# arrive, and the one in flight 200 ms to drain after a switch), and a faster ladder than
# the defaults (advice in 1 of 3 windows while learning, promotion after 3 good judgements,
# EMERGENCY -> LEARNING after 2 windows, a check window every 32 in RECOMMENDATION: every
# 12.8 s; at 16 the check windows cost a sequential reader at the disk's limit 4 % of its
# time, and the daemon's reference probe measures the baseline of a new workload anyway).
module_params="${DEMO_MODULE_PARAMS:-ra_window_ms=400 ra_settle_ms=200 learning_period=3 promote_windows=3 emergency_hold_windows=2 check_period=32}"

bash "$VM_SCRIPTS/install-deps.sh"
missing=()
command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
command -v dmsetup >/dev/null || missing+=(dmsetup)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  [[ $(id -u) -eq 0 ]] || die "installing ${missing[*]} needs root"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cd "$REPO"
# Build; type errors elsewhere in a shared tree must not stop the demo when tsc emitted.
npx tsc -p tsconfig.json >/dev/null 2>&1 || log "warning: tsc reported errors (see npm run build); using what it emitted"
needed=(dist/demo/bench.js dist/cli/main.js)
[[ "$report" == none ]] || needed+=(dist/demo/report.js)
for f in "${needed[@]}"; do
  [[ -s "$f" ]] || die "$f was not built: run npm run build and fix its errors"
done

reader="$(bash "$DEMO/build-reader.sh")"
pin="$(bash "$DEMO/build-reader.sh" pin)"
disk="$(bash "$DEMO/make-disk.sh")"
kver="$(guest_kver)"
log "demo: $storage storage, $repeats repeats, fixed runs ${fixed_s}s (grid $grid, via $fixed_via), daemon runs ${daemon_s}s, policies $policies, workloads $workloads"
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
export MLP_VM_RUN_NAME="demo-vm-$(date +%Y%m%d-%H%M%S)-$$"
run="$VM_DIR/runs/$MLP_VM_RUN_NAME"
mkdir -p "$VM_DIR/demo/results"
loadfile="$VM_DIR/demo/results/load-$(date -u +%Y%m%d-%H%M%S).txt"
# Each line: time, the 1/5/15-minute load, and the nanoseconds QEMU's threads have waited
# for a host CPU so far (/proc/<pid>/task/*/schedstat, field 2: the guest's emulated CPU
# stalls whenever they wait, and the guest cannot tell; 0 before QEMU runs).
qemu_wait() {
  local pid t w=0
  pid="$(pgrep -n -x qemu-system-x86 2>/dev/null || pgrep -n qemu-system-x86_64 2>/dev/null || true)"
  if [[ -n "$pid" ]]; then
    for t in /proc/"$pid"/task/*/schedstat; do
      read -r _ d _ <"$t" 2>/dev/null && w=$((w + d))
    done
  fi
  echo "$w"
}
(while :; do echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg) $(qemu_wait)"; sleep 5; done) >"$loadfile" &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT
set +e
bash "$VM_SCRIPTS/run-in-guest.sh" --no-insmod --memory "$memory" --timeout "${DEMO_TIMEOUT:-7200}" \
  --disk "$disk" --storage "$storage" -- \
  sh demo/guest-main.sh --perf-hz "$perf_hz" --reader "$reader" --pin "$pin" --module-params "$module_params" --repeats "$repeats" \
  --fixed-seconds "$fixed_s" --daemon-seconds "$daemon_s" --cost-seconds "$cost_s" --phase-cycles "$phase_cycles" --grid "$grid" \
  --policies "$policies" --workloads "$workloads" --phases "$phases" --fixed-via "$fixed_via" \
  --guest-memory-mb "$memory" --seq-files "${SEQ_FILES:-80}" --big-files "${BIG_FILES:-8}" \
  "--daemon-node-args=${DEMO_DAEMON_NODE_ARGS:-}" --kernel-stacks-ms "${DEMO_KERNEL_STACKS_MS:-0}"
status=$?
set -e
kill "$sampler" 2>/dev/null || true
[[ -s "$run/results.json" ]] || die "the guest wrote no results.json (status $status; see the console above)"
((status == 0)) || die "the guest bench failed (status $status; console: $run/console.log)"
saved="$VM_DIR/demo/results/results-$(date -u +%Y%m%d-%H%M%S).json"
cp "$run/results.json" "$saved"
cp "$run/dmesg.txt" "${saved%.json}.dmesg.txt" 2>/dev/null || true
cp "$loadfile" "${saved%.json}.load.txt"
if ((perf_hz > 0)); then
  cp "$run/perf.data" "${saved%.json}.perf.data"
  cp "$run/kallsyms.txt" "${saved%.json}.kallsyms.txt"
  cp "$run/perf-clock.txt" "${saved%.json}.perf-clock.txt"
  log "perf: perf report -i ${saved%.json}.perf.data --kallsyms ${saved%.json}.kallsyms.txt --no-children --sort comm,sym --stdio; one stretch: perf script ... --time START,END, in the guest's CLOCK_MONOTONIC seconds, which ${saved%.json}.perf-clock.txt pairs with the wall clock the runs in results.json start by"
fi
log "results: $saved"
if [[ "$report" != none ]]; then
  # docs/results.md -> docs/results/{summary.json,*.svg}; docs/results-netdisk.md -> docs/results-netdisk/
  node dist/demo/report.js --results "$saved" --out "$report" \
    --svg-dir "${report%.md}" --command "npm run demo:vm" \
    --host-load-file "${saved%.json}.load.txt" --host-cpus "$(nproc)" --started "$started"
  log "wrote $report and ${report%.md}/summary.json"
fi
}
main "$@"
exit
