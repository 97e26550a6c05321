#!/bin/sh
# In the QEMU guest (run by demo-vm.sh through scripts/vm/run-in-guest.sh --disk, as
# root, in a chroot of the host root): scripts/vm/guest-storage.sh has brought up the
# data disk of the storage profile (MLP_DATA_DEV, MLP_DATA_KNAME); this mounts it
# read-only and runs the read-ahead bench, which writes results.json into the run
# folder ($MLP_VM_OUT). Arguments go to the bench.
set -eu
[ -n "${MLP_DATA_DEV:-}" ] || { echo "guest-main: no data disk (run-in-guest.sh --disk)" >&2; exit 3; }
modprobe ext4
mkdir -p /tmp/data
mount -o ro,noload "$MLP_DATA_DEV" /tmp/data
echo "guest-main: $MLP_STORAGE storage, $MLP_DATA_DEV ($MLP_DATA_KNAME): $(ls /tmp/data/seq | wc -l) + $(ls /tmp/data/big | wc -l) files, read_ahead_kb $(cat "/sys/block/$MLP_DATA_KNAME/queue/read_ahead_kb"), max_sectors_kb $(cat "/sys/block/$MLP_DATA_KNAME/queue/max_sectors_kb"), $(grep MemTotal /proc/meminfo)"
# A private copy of the module: the harness deletes a build when kmod/ changes on the host.
cp "$MLP_KO" /tmp/mlproxy.ko
exec node dist/demo/bench.js --data /tmp/data --out "$MLP_VM_OUT" --ko /tmp/mlproxy.ko \
  --data-dev "$MLP_DATA_KNAME" --storage "$MLP_STORAGE" "$@"
