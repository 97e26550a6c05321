#!/bin/sh
# Guest side of idle-cpu.sh: idle-cpu-guest.sh SECONDS WINDOW_MS (REPO KO_DIR NODE_ARGS)...
# Environment: MLP_IDLE_SUBSYSTEM (synthetic|readahead), MLP_IDLE_PARAMS (more
# mlproxy.ko parameters), MLP_IDLE_BARE (1: measure a bare node timer first),
# MLP_IDLE_PROF (1: one more run of the first checkout under the profiler, sampling every
# MLP_IDLE_PROF_INTERVAL us, default 1000).
seconds=$1
window=$2
shift 2
subsystem=${MLP_IDLE_SUBSYSTEM:-synthetic}
tck=$(getconf CLK_TCK)
out="$MLP_VM_OUT/idle-cpu.md"
{
	echo "| run | CPU s in ${seconds} s | CPU % | main thread % | other threads % | read()/s | failed read()/s (EAGAIN) | ioctl()/s | write()/s | RSS MiB |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"

# ticks PID [TID]: utime + stime of a process (or one of its threads).
ticks() {
	f=/proc/$1/stat
	[ -z "$2" ] || f=/proc/$1/task/$2/stat
	# comm may hold spaces: fields after the closing parenthesis.
	sed 's/.*) //' "$f" | awk '{ print $12 + $13 }'
}

load() { # KO_DIR
	for m in mlproxy_selftest mlproxy_synthetic mlproxy; do
		grep -q "^$m " /proc/modules && rmmod $m
	done
	if [ "$subsystem" = readahead ]; then
		grep -q '^brd ' /proc/modules || modprobe brd rd_nr=1 rd_size=65536 max_part=0 || return 1
		# shellcheck disable=SC2086
		insmod "$1/mlproxy.ko" ra_dev=ram0 ra_window_ms="$window" $MLP_IDLE_PARAMS
	elif [ -e "$1/mlproxy_synthetic.ko" ]; then
		# shellcheck disable=SC2086
		insmod "$1/mlproxy.ko" $MLP_IDLE_PARAMS && insmod "$1/mlproxy_synthetic.ko" window_ms="$window"
	else
		# shellcheck disable=SC2086
		insmod "$1/mlproxy.ko" synth_window_ms="$window" $MLP_IDLE_PARAMS
	fi
}

# measure LABEL PID STATE_DIR: CPU over $seconds after 10 s, then 20 s of strace.
measure() {
	label=$1 pid=$2 state=$3
	sleep 10
	t0=$(ticks $pid)
	m0=$(ticks $pid $pid)
	sleep "$seconds"
	t1=$(ticks $pid)
	m1=$(ticks $pid $pid)
	rss=$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status)
	for t in /proc/$pid/task/*; do
		echo "$(basename $t) $(cat $t/comm) $(ticks $pid $(basename $t))"
	done >"$state/threads.txt"
	# The system calls afterwards (a tracer slows the traced process: not during the
	# CPU measurement), 20 s of them.
	traced=20
	timeout -s INT $traced strace -f -c -e trace=read,ioctl,write -p $pid -o "$state/strace.txt"
	kill -TERM $pid
	wait $pid
	reads=$(awk '$NF == "read" { print $4 }' "$state/strace.txt")
	rerr=$(awk '$NF == "read" { print ($5 ~ /^[0-9]+$/ ? $5 : 0) }' "$state/strace.txt")
	ioctls=$(awk '$NF == "ioctl" { print $4 }' "$state/strace.txt")
	writes=$(awk '$NF == "write" { print $4 }' "$state/strace.txt")
	awk -v r="$label" -v a="$t0" -v b="$t1" -v ma="$m0" -v mb="$m1" -v t="$tck" -v s="$seconds" \
		-v d=$traced -v n="${reads:-0}" -v e="${rerr:-0}" -v i="${ioctls:-0}" -v w="${writes:-0}" \
		-v rss="${rss:-0}" \
		'BEGIN { c = (b - a) / t; m = (mb - ma) / t
			printf "| %s | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %.1f | %.1f | %.0f |\n",
				r, c, 100 * c / s, 100 * m / s, 100 * (c - m) / s, n / d, e / d, i / d, w / d, rss / 1024 }' >>"$out"
	echo "== $label: threads (tid comm ticks at the end)" >&2
	cat "$state/threads.txt" >&2
	cat "$state/strace.txt" >&2
}

# daemon LABEL REPO NODE_ARGS [PROFILE_NAME]
daemon() {
	label=$1 repo=$2 nodeargs=$3 profname=$4
	state=$(mktemp -d /tmp/idle-cpu.XXXXXX)
	if [ "$subsystem" = readahead ]; then
		printf '{"subsystems": [{"name": "synthetic", "enabled": false}, {"name": "readahead"}]}\n' >"$state/config.json"
	else
		printf '{}\n' >"$state/config.json"
	fi
	prof=""
	# The CLI's entry point (cli/ since the layout change; dist/src/cli/ in older checkouts).
	main="$repo/dist/cli/main.js"
	[ -e "$main" ] || main="$repo/dist/src/cli/main.js"
	# The profile covers the measured seconds (scripts/vm/cpu-prof.ts).
	[ -z "$profname" ] || prof="--import $MLP_REPO/dist/scripts/vm/cpu-prof.js"
	# shellcheck disable=SC2086
	MLP_PROF_OUT="${profname:+$MLP_VM_OUT/$profname}" MLP_PROF_AFTER_S=10 MLP_PROF_FOR_S="$seconds" \
		MLP_PROF_INTERVAL_US="${MLP_IDLE_PROF_INTERVAL:-1000}" \
		node $nodeargs $prof "$main" run --config "$state/config.json" \
		--device /dev/mlproxy --state-dir "$state" --log-dir "$state" --no-pretty --progress 0 \
		>"$state/daemon.log" 2>&1 &
	pid=$!
	# Start-up (loading and compiling the JavaScript, up to 20 s under TCG) is not the idle
	# cost: the settling of measure() counts from the daemon's first log line of its state.
	n=0
	until grep -q -e 'starting fresh' -e 'resumed from checkpoint' "$state/daemon.log" || [ $n -ge 120 ]; do
		sleep 1
		n=$((n + 1))
	done
	echo "== $label: ready after ${n} s" >&2
	measure "$label" $pid "$state"
	tail -n 4 "$state/daemon.log" >&2
	cp "$state/daemon.log" "$MLP_VM_OUT/daemon-$(echo "$label" | tr -c 'A-Za-z0-9\n' _).log"
}

first=""
[ "${MLP_IDLE_BARE:-0}" != 1 ] || {
	state=$(mktemp -d /tmp/idle-cpu.XXXXXX)
	node -e "setInterval(() => {}, $window)" &
	measure "bare node, setInterval $window ms" $! "$state"
}
while [ $# -ge 3 ]; do
	repo=$1 ko=$2 nodeargs=$3
	shift 3
	[ -n "$first" ] || first="$repo|$ko|$nodeargs"
	load "$ko" || exit 1
	daemon "$repo${nodeargs:+ ($nodeargs)}" "$repo" "$nodeargs"
done
if [ "${MLP_IDLE_PROF:-0}" = 1 ]; then
	repo=${first%%|*}
	rest=${first#*|}
	ko=${rest%%|*}
	nodeargs=${rest#*|}
	load "$ko" || exit 1
	daemon "$repo (profiled)" "$repo" "$nodeargs" "daemon-idle.cpuprofile"
fi
cat "$out"
