#!/bin/sh
# In the QEMU guest (run by demo-vm.sh through scripts/vm/run-in-guest.sh, as root, in a
# chroot of the host root): loads the virtio-blk and ext4 modules of the guest kernel,
# mounts the data disk /dev/vda read-only and runs the read-ahead bench, which writes
# results.json into the run folder ($MLP_VM_OUT). Arguments go to the bench.
set -eu
modprobe virtio_blk
modprobe ext4
i=0
while [ ! -b /dev/vda ]; do
  i=$((i + 1))
  [ "$i" -lt 100 ] || { echo "guest-main: no /dev/vda: was the data disk attached?" >&2; exit 3; }
  sleep 0.1
done
mkdir -p /tmp/data
mount -o ro,noload /dev/vda /tmp/data
echo "guest-main: data disk: $(ls /tmp/data/g0 | wc -l) + $(ls /tmp/data/g1 | wc -l) files, read_ahead_kb $(cat /sys/block/vda/queue/read_ahead_kb), $(grep MemTotal /proc/meminfo)"
# A private copy of the module: the harness deletes a build when kmod/ changes on the host.
cp "$MLP_KO" /tmp/mlproxy.ko
exec node dist/experiments/readahead/bench.js --data /tmp/data --out "$MLP_VM_OUT" --ko /tmp/mlproxy.ko "$@"
