#!/bin/sh
# Reproduces docs/readahead.md's guest check. Needs a guest with a virtio disk as
# vda (e.g. QEMU -drive file=disk.img,if=virtio,format=raw,readonly=on with 300 MB
# of data), root, mlproxy.ko at $MLP_KO, and mlproxy-readahead-check built from
# kmod/tools/mlproxy-readahead-check.c at $CHECK (default /var/tmp/...).
CHECK=${CHECK:-/var/tmp/mlproxy-readahead-check}
modprobe virtio_blk || exit 1
sleep 0.5
echo "read-ahead before: $(cat /sys/block/vda/queue/read_ahead_kb) KiB"
rmmod mlproxy 2>/dev/null
insmod "$MLP_KO" ra_dev=vda ra_window_ms=200 || exit 2
# The workload: 4 MiB sequential dd jobs from cold cache, each a new open.
(
  i=0
  while [ $i -lt 60 ]; do
    echo 3 >/proc/sys/vm/drop_caches
    dd if=/dev/vda of=/dev/null bs=4k count=1024 skip=$((i * 1024 % 70000)) 2>/dev/null
    i=$((i + 1))
  done
) &
"$CHECK"
status=$?
wait
rmmod mlproxy || exit 3
echo "read-ahead after unload: $(cat /sys/block/vda/queue/read_ahead_kb) KiB"
if dmesg | grep -E 'Oops|BUG|WARN'; then exit 4; fi
exit $status
