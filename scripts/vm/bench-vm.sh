#!/usr/bin/env bash
# `bash scripts/vm/bench-vm.sh` (after `npm run build`): a benchmark, not a test.
# Boots the guest once and times, on the real module, the daemon's round trip
# (GET_STATE + RECOMMEND + read() of one feedback record) against MLP_IOC_VERSION,
# a near no-op ioctl. Prints a markdown table (also saved in the run folder).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$VM_SCRIPTS/install-deps.sh"
cd "$REPO"
[[ -e dist/scripts/vm/bench-guest.js ]] || die "dist/scripts/vm/bench-guest.js missing: run \`npm run build\` first"
export MLP_VM_RUN_NAME="bench-vm-$(date +%Y%m%d-%H%M%S)-$$"
run="$VM_DIR/runs/$MLP_VM_RUN_NAME"
bash "$VM_SCRIPTS/run-in-guest.sh" --quiet --no-insmod --timeout 600 -- node dist/scripts/vm/bench-guest.js "$@"
cat "$run/bench.md"
