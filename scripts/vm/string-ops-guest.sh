#!/bin/sh
# Guest side of string-ops.sh: one table row (features | seconds ...) in
# $MLP_VM_OUT/string-ops.txt. Each figure is the best of 3 runs of dd.
set -eu
best() { # best of 3 wall-clock runs of "$@", in seconds
  b=""
  for _ in 1 2 3; do
    s=$(date +%s%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s%N)
    d=$((e - s))
    if [ -z "$b" ] || [ "$d" -lt "$b" ]; then b=$d; fi
  done
  echo "$b" | awk '{ printf "%.2f", $1 / 1e9 }'
}
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'erms|fsrm|rep_good' | tr '\n' ' ')
# clear_user into a reused 1 MiB buffer.
cu=$(best dd if=/dev/zero of=/dev/null bs=1M count=512)
# One 256 MiB buffer: every page is a fresh anonymous fault (zeroed), then clear_user.
ft=$(best dd if=/dev/zero of=/dev/null bs=256M count=1)
# tmpfs pages are allocated (zeroed: Debian's init_on_alloc=1) and filled by
# copy_from_user; reading them back is copy_to_user.
tw=$(best sh -c 'rm -f /tmp/so; dd if=/dev/zero of=/tmp/so bs=1M count=128')
tr=$(best dd if=/tmp/so of=/dev/null bs=1M)
rm -f /tmp/so
echo "${flags:-none} | $cu | $ft | $tw | $tr" >"$MLP_VM_OUT/string-ops.txt"
cat "$MLP_VM_OUT/string-ops.txt"
