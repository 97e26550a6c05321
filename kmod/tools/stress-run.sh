#!/bin/sh
# Runs kmod/tools/mlproxy-stress.c (built as /var/tmp/mlp-stress) in a guest for 20 s
# with 5 ms windows, a 4-record ring and a 50 ms heartbeat, unloading and reloading
# mlproxy_selftest.ko meanwhile; fails on any Oops/BUG/WARN in dmesg.
D=$(dirname $MLP_KO)
rmmod mlproxy
insmod $MLP_KO synth_window_ms=5 ring_records=4 heartbeat_ms=50 emergency_hold_windows=1 promote_windows=1 learning_period=2 || exit 1
insmod $D/mlproxy_selftest.ko window_ms=5 idle_every=3 || exit 2
( /var/tmp/mlp-stress 20 ) &
sleep 5; rmmod mlproxy_selftest; sleep 2; insmod $D/mlproxy_selftest.ko window_ms=7 || echo reinsert failed
wait
rmmod mlproxy_selftest || exit 3
rmmod mlproxy || exit 4
dmesg | grep -E 'Oops|BUG|WARN|Call Trace|lockdep|circular' && exit 5
dmesg | grep mlproxy | tail -5
echo STRESS OK
