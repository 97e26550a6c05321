#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# docs/readahead.md's guest check: loads mlproxy.ko with ra_dev=vda (a virtio disk
# with some 300 MB of data, e.g. QEMU -drive file=disk.img,if=virtio,format=raw,
# readonly=on), reads 4 MiB sequential dd jobs from cold cache in the background
# and runs mlproxy_readahead_test, then checks that unloading restored the
# device's read-ahead and that the kernel log is clean. MLPROXY_KO_DIR as for
# mlproxy.sh.
ksft_skip=4
dir=$(dirname "$0")
ko=${MLPROXY_KO_DIR:-}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit $ksft_skip; }
[ -e "$ko/mlproxy.ko" ] || { echo "SKIP: set MLPROXY_KO_DIR"; exit $ksft_skip; }
modprobe virtio_blk 2>/dev/null
[ -b /dev/vda ] || { echo "SKIP: no /dev/vda"; exit $ksft_skip; }
before=$(cat /sys/block/vda/queue/read_ahead_kb)
echo "# read-ahead before: $before KiB"
for m in mlproxy_selftest mlproxy_synthetic mlproxy; do
	grep -q "^$m " /proc/modules && rmmod $m
done
insmod "$ko/mlproxy.ko" ra_dev=vda ra_window_ms=200 || exit 1
(
	i=0
	while [ $i -lt 60 ]; do
		echo 3 >/proc/sys/vm/drop_caches
		dd if=/dev/vda of=/dev/null bs=4k count=1024 \
			skip=$((i * 1024 % 70000)) 2>/dev/null
		i=$((i + 1))
	done
) &
"$dir/mlproxy_readahead_test"
status=$?
wait
rmmod mlproxy || exit 1
after=$(cat /sys/block/vda/queue/read_ahead_kb)
echo "# read-ahead after unload: $after KiB"
[ "$after" = "$before" ] || { echo "# read-ahead not restored"; exit 1; }
if dmesg | grep -E 'Oops|BUG:|WARNING:'; then exit 1; fi
exit $status
