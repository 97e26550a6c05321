#!/usr/bin/env bash
# Usage: string-ops.sh [CPU...]   (a benchmark, not a test)
# How fast the guest kernel zeroes and copies memory under each QEMU -cpu model (default:
# TCG's full `max`, and the harness's default `max,-erms,-fsrm`): one guest boot per model
# (no module), scripts/vm/string-ops-guest.sh inside, a markdown table on stdout. With
# ERMS the kernel uses `rep stosb` / `rep movsb`, which TCG runs a byte at a time
# (docs/benchmarks.md, "The guest's string instructions").
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
(($#)) || set -- max max,-erms,-fsrm
echo "| -cpu | string-op features | clear_user 512 MiB s | first touch 256 MiB s | tmpfs write 128 MiB s | tmpfs read 128 MiB s |"
echo "|---|---|---|---|---|---|"
for cpu in "$@"; do
  export MLP_VM_RUN_NAME="string-ops-$(date +%Y%m%d-%H%M%S)-$$"
  MLP_VM_CPU="$cpu" bash "$VM_SCRIPTS/run-in-guest.sh" --no-insmod --quiet --timeout 600 \
    -- sh scripts/vm/string-ops-guest.sh >&2 || die "the guest failed with -cpu $cpu"
  row="$(cat "$VM_DIR/runs/$MLP_VM_RUN_NAME/string-ops.txt")"
  echo "| \`$cpu\` | $row |"
done
