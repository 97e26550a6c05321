#!/usr/bin/env bash
# `npm run test:vm` (after `npm run build`): the real-kernel tests. Installs what
# it needs, builds mlproxy.ko against Debian's kernel (MLP_GUEST_KVER: a version or
# a series, default 6.1; see lib.sh) and the C selftests, boots that kernel once in
# QEMU and runs every in-guest suite (or those given as arguments;
# dist/test/vm/*.test.js, node:test, one file at a time) in it, then checks the
# guest's kernel log on the host as well.
# Exits non-zero, with the guest console printed, on any failure.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$VM_SCRIPTS/install-deps.sh"
cd "$REPO"
MLP_SELFTESTS="$(bash "$VM_SCRIPTS/build-selftests.sh")"
export MLP_SELFTESTS
[[ -d dist/test/vm ]] || die "dist/test/vm is missing: run \`npm run build\` first (npm run test:vm does)"
# Arguments select suites (e.g. dist/test/vm/fuzz.test.js); default: all of them.
if (($#)); then suites=("$@"); else mapfile -t suites < <(ls dist/test/vm/*.test.js); fi
((${#suites[@]})) || die "no in-guest suites in dist/test/vm"

# The read workload tool the readahead suite drives (demo/reader.c).
reader="$(bash "$REPO/demo/build-reader.sh")"
start=$(date +%s)
if [[ -n "${MLP_GUEST_IMAGE:-}" ]]; then
  log "guest kernel: $MLP_GUEST_KVER ($MLP_GUEST_IMAGE)"
else
  log "guest kernel: $(guest_kver) (MLP_GUEST_KVER=${MLP_GUEST_KVER:-, default $DEFAULT_GUEST_SERIES})"
fi
export MLP_VM_RUN_NAME="test-vm-$(date +%Y%m%d-%H%M%S)-$$"
run="$VM_DIR/runs/$MLP_VM_RUN_NAME"
set +e
# The suites load mlproxy.ko themselves, each with the parameters it needs.
bash "$VM_SCRIPTS/run-in-guest.sh" --no-insmod --timeout "${MLP_VM_TIMEOUT:-900}" -- \
  env MLP_READER="$reader" node --test --test-concurrency=1 --test-reporter=spec "${suites[@]}"
status=$?
set -e
# MLP_VM_SPLAT: what counts as a kernel problem (test-vm-debug.sh adds its checkers').
splat="${MLP_VM_SPLAT:-Oops|BUG:|kernel BUG|WARNING:|Call Trace|general protection fault}"
if [[ -e "$run/dmesg.txt" ]] && problems="$(grep -E "$splat" "$run/dmesg.txt")"; then
  echo "$problems" >&2
  log "FAILED: the guest kernel log has Oops/BUG/WARN lines (full log: $run/dmesg.txt)"
  exit 1
fi
if ((status != 0)); then
  log "FAILED: in-guest suites (status $status; console: $run/console.log)"
  exit "$status"
fi
log "in-guest suites passed in $(($(date +%s) - start)) s (${#suites[@]} files; console: $run/console.log)"
