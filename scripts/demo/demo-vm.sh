#!/usr/bin/env bash
# `npm run demo:vm`: the read-ahead demo on a real kernel. Installs what it needs, builds
# the project, makes (once) the data disk (scripts/demo/make-disk.sh), boots Debian's kernel in QEMU with the disk
# as /dev/vda, runs every workload at the kernel default, at every fixed read-ahead
# setting and under the daemon with each policy (experiments/readahead/bench.ts), then
# writes docs/results.md and docs/results/*.svg from the measurements.
#
# Environment (defaults give a run of about 20-25 min on a 2-core host with TCG):
#   DEMO_REPEATS (3)  DEMO_FIXED_SECONDS (3)  DEMO_DAEMON_SECONDS (12)
#   DEMO_POLICIES (ucb1,conservative; also: linucb)  DEMO_WORKLOADS (seq,rand,mixed,phase)
#   DEMO_PHASES (fixed,daemon)  DEMO_MEMORY_MB (512)  DEMO_WINDOW_MS (100)
#   DEMO_REPORT (docs/results.md; "none" skips the report)
source "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"
DEMO="$VM_SCRIPTS/../demo"

repeats="${DEMO_REPEATS:-3}"
fixed_s="${DEMO_FIXED_SECONDS:-3}"
daemon_s="${DEMO_DAEMON_SECONDS:-12}"
policies="${DEMO_POLICIES:-ucb1,conservative}"
workloads="${DEMO_WORKLOADS:-seq,rand,mixed,phase}"
phases="${DEMO_PHASES:-fixed,daemon}"
memory="${DEMO_MEMORY_MB:-512}"
window_ms="${DEMO_WINDOW_MS:-100}"
report="${DEMO_REPORT:-docs/results.md}"
# Module parameters of the demo: the data disk, its window length, and a faster ladder
# than the defaults (advice in 1 of 4 windows while learning, promotion after 4 good
# advice windows, EMERGENCY -> LEARNING after 2 windows) so that a short run can climb
# it; the synthetic subsystem is slowed to one window a minute so it costs nothing.
module_params="ra_dev=vda ra_window_ms=$window_ms learning_period=4 promote_windows=4 emergency_hold_windows=2 synth_window_ms=60000"

bash "$VM_SCRIPTS/install-deps.sh"
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  [[ $(id -u) -eq 0 ]] || die "installing ${missing[*]} needs root"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cd "$REPO"
# Build; type errors elsewhere in a shared tree must not stop the demo when tsc emitted.
npx tsc -p tsconfig.json >/dev/null 2>&1 || log "warning: tsc reported errors (see npm run build); using what it emitted"
needed=(dist/experiments/readahead/bench.js dist/src/cli/main.js)
[[ "$report" == none ]] || needed+=(dist/experiments/readahead/report.js)
for f in "${needed[@]}"; do
  [[ -s "$f" ]] || die "$f was not built: run npm run build and fix its errors"
done

disk="$(bash "$DEMO/make-disk.sh")"
kver="$(guest_kver)"
log "demo: $repeats repeats, fixed runs ${fixed_s}s, daemon runs ${daemon_s}s, policies $policies, workloads $workloads, guest ${memory} MiB"
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
export MLP_VM_RUN_NAME="demo-vm-$(date +%Y%m%d-%H%M%S)-$$"
run="$VM_DIR/runs/$MLP_VM_RUN_NAME"
set +e
PATH="$DEMO/bin:$PATH" MLP_DEMO_QEMU_ARGS="-drive file=$disk,if=virtio,format=raw,readonly=on" \
  bash "$VM_SCRIPTS/run-in-guest.sh" --no-insmod --memory "$memory" --timeout "${DEMO_TIMEOUT:-3600}" -- \
  sh scripts/demo/guest-main.sh --module-params "$module_params" --repeats "$repeats" \
  --fixed-seconds "$fixed_s" --daemon-seconds "$daemon_s" --policies "$policies" \
  --workloads "$workloads" --phases "$phases" --guest-memory-mb "$memory"
status=$?
set -e
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
[[ -s "$run/results.json" ]] || die "the guest wrote no results.json (status $status; see the console above)"
((status == 0)) || die "the guest bench failed (status $status; console: $run/console.log)"
mkdir -p "$VM_DIR/demo/results"
saved="$VM_DIR/demo/results/results-$(date -u +%Y%m%d-%H%M%S).json"
cp "$run/results.json" "$saved"
cp "$run/dmesg.txt" "${saved%.json}.dmesg.txt" 2>/dev/null || true
log "results: $saved"
if [[ "$report" != none ]]; then
  node dist/experiments/readahead/report.js --results "$saved" --out "$report" --svg-dir "$(dirname "$report")/results" \
    --command "npm run demo:vm" --host-load "$load_before -> $load_after" --host-cpus "$(nproc)" --started "$started" \
    --kernel "$kver"
  log "wrote $report"
fi
