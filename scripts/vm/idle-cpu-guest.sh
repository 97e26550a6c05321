#!/bin/sh
# Guest side of idle-cpu.sh: idle-cpu-guest.sh SECONDS WINDOW_MS (REPO KO_DIR)...
seconds=$1
window=$2
shift 2
tck=$(getconf CLK_TCK)
out="$MLP_VM_OUT/idle-cpu.md"
{
	echo "| checkout | CPU s in ${seconds} s | CPU % | read()/s | failed read()/s (EAGAIN) | ioctl()/s |"
	echo "|---|---:|---:|---:|---:|---:|"
} >"$out"
while [ $# -ge 2 ]; do
	repo=$1 ko=$2
	shift 2
	for m in mlproxy_selftest mlproxy_synthetic mlproxy; do
		grep -q "^$m " /proc/modules && rmmod $m
	done
	if [ -e "$ko/mlproxy_synthetic.ko" ]; then
		insmod "$ko/mlproxy.ko" && insmod "$ko/mlproxy_synthetic.ko" window_ms="$window"
	else
		insmod "$ko/mlproxy.ko" synth_window_ms="$window"
	fi || exit 1
	state=$(mktemp -d /tmp/idle-cpu.XXXXXX)
	node "$repo/dist/cli/main.js" run --device /dev/mlproxy --state-dir "$state" \
		--log-dir "$state" --no-pretty --progress 0 >"$state/daemon.log" 2>&1 &
	pid=$!
	sleep 10
	t0=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
	sleep "$seconds"
	t1=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
	# The system calls afterwards (a tracer slows the traced process: not during the
	# CPU measurement), 20 s of them.
	traced=20
	timeout -s INT $traced strace -f -c -e trace=read,ioctl -p $pid -o "$state/strace.txt"
	kill -TERM $pid
	wait $pid
	reads=$(awk '$NF == "read" { print $4 }' "$state/strace.txt")
	rerr=$(awk '$NF == "read" { print ($5 ~ /^[0-9]+$/ ? $5 : 0) }' "$state/strace.txt")
	ioctls=$(awk '$NF == "ioctl" { print $4 }' "$state/strace.txt")
	awk -v r="$repo" -v a="$t0" -v b="$t1" -v t="$tck" -v s="$seconds" -v d=$traced \
		-v n="${reads:-0}" -v e="${rerr:-0}" -v i="${ioctls:-0}" \
		'BEGIN { c = (b - a) / t; printf "| %s | %.2f | %.2f | %.1f | %.1f | %.1f |\n", r, c, 100 * c / s, n / d, e / d, i / d }' >>"$out"
	cat "$state/strace.txt" >&2
done
cat "$out"
