#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs the mlproxy selftests, each with the modules and parameters it needs, and
# fails on a kernel splat (Oops, BUG, WARNING, KASAN, KCSAN, lockdep) in between.
# Needs root and a kernel that may load modules (tools/testing/selftests style;
# in this repository, test/vm/selftests.test.ts runs it in the QEMU guest).
#   MLPROXY_KO_DIR   the folder of mlproxy.ko, mlproxy_selftest.ko and
#                    mlproxy_synthetic.ko (required)
#   MLPROXY_TESTS    space-separated run names to run only those (optional)
ksft_skip=4
dir=$(dirname "$0")
ko=${MLPROXY_KO_DIR:-}
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the mlproxy selftests load modules: run them as root"
	exit $ksft_skip
fi
if [ -z "$ko" ] || [ ! -e "$ko/mlproxy.ko" ]; then
	echo "SKIP: set MLPROXY_KO_DIR to the folder with mlproxy.ko"
	exit $ksft_skip
fi

fail=0
count=0
loaded() { grep -q "^$1 " /proc/modules; }
unload() {
	for m in mlproxy_selftest mlproxy_synthetic mlproxy; do
		if loaded $m && ! rmmod $m; then
			echo "# rmmod $m failed"
			fail=1
		fi
	done
}
splat() {
	dmesg | sed -n "/mlproxy-selftest: $1\$/,\$p" |
		grep -E 'Oops|BUG:|WARNING:|KASAN|KCSAN|UBSAN|possible circular|inconsistent lock state|suspicious RCU|Call Trace'
}

# run NAME PROGRAM MLPROXY_ARGS SELFTEST_ARGS SYNTHETIC_ARGS ("-": not loaded)
run() {
	name=$1 prog=$2 core=$3 st=$4 syn=$5
	if [ -n "${MLPROXY_TESTS:-}" ]; then
		case " $MLPROXY_TESTS " in *" $name "*) ;; *) return ;; esac
	fi
	count=$((count + 1))
	unload
	echo "mlproxy-selftest: $name" >/dev/kmsg
	# shellcheck disable=SC2086
	if ! insmod "$ko/mlproxy.ko" $core ||
		{ [ "$syn" != - ] && ! insmod "$ko/mlproxy_synthetic.ko" $syn; } ||
		{ [ "$st" != - ] && ! insmod "$ko/mlproxy_selftest.ko" $st; }; then
		echo "not ok $count $name # the modules did not load"
		fail=1
		return
	fi
	echo "# $name: mlproxy.ko $core; selftest $st; synthetic $syn"
	if MLPROXY_SELFTEST_KO="$ko/mlproxy_selftest.ko" MLPROXY_SELFTEST_ARGS="$st" \
		"$dir/$prog"; then
		echo "ok $count $name"
	else
		echo "not ok $count $name"
		fail=1
	fi
	unload
	if splat "$name"; then
		echo "not ok $count $name # the kernel log above"
		fail=1
	fi
}

ladder="learning_period=2 promote_windows=3 emergency_hold_windows=2 check_period=4"
run ladder mlproxy_ladder_test "$ladder" "idle_every=7" -
run abi mlproxy_abi_test "" "window_ms=20" -
run knob mlproxy_knob_test "" "wide=1 window_ms=20" -
run eff-zero mlproxy_eff_test "$ladder" "base_eff=0" -
run eff-negative mlproxy_eff_test "$ladder" "base_eff=-1000000" -
run lock mlproxy_lock_test "" "hold_ms=300 window_ms=20" -
run timing mlproxy_timing_test "" "window_ms=20" -
run bare mlproxy_bare_test "max_open=2" - -
run stress mlproxy_stress_test \
	"heartbeat_ms=50 ring_records=4 emergency_hold_windows=1 promote_windows=1 learning_period=2" \
	"window_ms=5 idle_every=3" "window_ms=5"
echo "# mlproxy selftests: $count runs, $([ $fail = 0 ] && echo passed || echo FAILED)"
exit $fail
