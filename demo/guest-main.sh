#!/bin/sh
# In the QEMU guest (run by demo-vm.sh through scripts/vm/run-in-guest.sh --disk, as
# root, in a chroot of the host root): scripts/vm/guest-storage.sh has brought up the
# data disk of the storage profile (MLP_DATA_DEV, MLP_DATA_KNAME); this mounts it
# read-only and runs the read-ahead bench, which writes results.json into the run
# folder ($MLP_VM_OUT). Arguments go to the bench, after an optional `--perf-hz N`: then
# perf (the host's binary, from the chroot) samples the whole guest N times a second with
# kernel and user call chains while the bench runs, into tmpfs (about 0.4 MB a minute at
# 49 Hz), and perf.data, the guest's kallsyms and perf-clock.txt are copied to the run
# folder after it.
set -eu
perf_hz=0
if [ "${1:-}" = --perf-hz ]; then
  perf_hz=$2
  shift 2
fi
[ -n "${MLP_DATA_DEV:-}" ] || { echo "guest-main: no data disk (run-in-guest.sh --disk)" >&2; exit 3; }
modprobe ext4
mkdir -p /tmp/data
mount -o ro,noload "$MLP_DATA_DEV" /tmp/data
echo "guest-main: $MLP_STORAGE storage, $MLP_DATA_DEV ($MLP_DATA_KNAME): $(ls /tmp/data/seq | wc -l) + $(ls /tmp/data/big | wc -l) files, read_ahead_kb $(cat "/sys/block/$MLP_DATA_KNAME/queue/read_ahead_kb"), max_sectors_kb $(cat "/sys/block/$MLP_DATA_KNAME/queue/max_sectors_kb"), $(grep MemTotal /proc/meminfo)"
# A private copy of the module: the harness deletes a build when kmod/ changes on the host.
cp "$MLP_KO" /tmp/mlproxy.ko
bench() {
  node dist/demo/bench.js --data /tmp/data --out "$MLP_VM_OUT" --ko /tmp/mlproxy.ko \
    --data-dev "$MLP_DATA_KNAME" --storage "$MLP_STORAGE" "$@"
}
[ "$perf_hz" -gt 0 ] || { bench "$@"; exit; }
# Samples carry CLOCK_MONOTONIC (= /proc/uptime here): perf-clock.txt pairs it with the wall
# clock, which results.json's runs start by.
perf record -a -g -F "$perf_hz" -k CLOCK_MONOTONIC -o /tmp/perf.data >/tmp/perf.log 2>&1 &
perf=$!
sleep 2
kill -0 "$perf" 2>/dev/null || { cat /tmp/perf.log >&2; echo "guest-main: perf record did not start" >&2; exit 3; }
echo "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ) $(cut -d' ' -f1 /proc/uptime)" >"$MLP_VM_OUT/perf-clock.txt"
status=0
bench "$@" || status=$?
kill -INT "$perf" 2>/dev/null || true
wait "$perf" || true
cat /proc/kallsyms >"$MLP_VM_OUT/kallsyms.txt"
cp /tmp/perf.data "$MLP_VM_OUT/perf.data"
echo "guest-main: $(tail -n 1 /tmp/perf.log)"
exit "$status"
