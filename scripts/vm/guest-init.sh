#!/bin/sh
# /init of the test initramfs (busybox sh, runs as PID 1 in the QEMU guest).
#  1. mounts proc, sys, devtmpfs and loads the virtio, 9p and virtio-rng modules;
#  2. mounts the host's root read-only over virtio-9p (tag hostroot) at /host, and
#     the run's writable folder (tag results) at the same path inside it, and
#     the module tree of a kernel the host has not installed (the debug kernel)
#     at /lib/modules/<rel>;
#  3. insmods mlproxy.ko with the run's arguments (unless told not to);
#  4. runs the run's cmd.sh in a chroot of the host root, with tmpfs /tmp and /run
#     and the guest's own /dev, /proc, /sys;
#  5. saves the exit status and dmesg into the run folder, prints dmesg to the
#     console and reports the status to the host through isa-debug-exit (port 0xf4:
#     QEMU exits with (status << 1) | 1).
# Parameters come on the kernel command line: mlp.run=<run folder on the host>.

export PATH=/bin:/sbin
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /host /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "[guest-init] $*" >/dev/console; }

report() { # <status 0..127>: tell QEMU to exit; never returns
  s="$1"
  [ "$s" -gt 127 ] && s=127
  printf "\\$(printf %o "$s")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  say "isa-debug-exit did not stop QEMU; powering off"
  poweroff -f
  sleep 1000
}

run=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in
  mlp.run=*) run="${arg#mlp.run=}" ;;
  esac
done
[ -n "$run" ] || {
  say "no mlp.run= on the kernel command line"
  report 120
}

for m in $(cat /modules.list); do
  insmod "/modules/$m" || {
    say "insmod $m failed"
    report 121
  }
done

mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host || {
  say "mounting the host root over 9p failed"
  report 122
}
mkdir -p /hostro
mount -o bind /host /hostro
mount -t tmpfs -o mode=1777 tmpfs /host/tmp
mount -t tmpfs -o mode=755 tmpfs /host/run
# A checkout under /tmp or /run (a CI clone, say) must stay visible above the tmpfs:
# bind its top folder back from the untouched view of the host root.
case "$run" in
/tmp/?*/* | /run/?*/*)
  top="/${run#/}"
  top="${top%"${run#/*/*/}"}"
  top="${top%/}"
  mkdir -p "/host$top"
  mount -o bind "/hostro$top" "/host$top" || {
    say "binding $top back over the tmpfs failed"
    report 122
  }
  ;;
esac
mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=512000 results "/host$run" || {
  say "mounting the results folder over 9p failed"
  report 122
}
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm 2>/dev/null
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys

# shellcheck disable=SC1091
. "/host$run/guest.env"
# A kernel that is not installed on the host (the debug kernel): its module tree
# goes where modprobe looks, over a tmpfs on the chroot's /lib/modules (the host's
# own trees are for other kernels).
if [ -n "${MLP_GUEST_MODDIR:-}" ]; then
  rel="$(uname -r)"
  if ! mount -t tmpfs -o mode=755 tmpfs /host/lib/modules ||
    ! mkdir -p "/host/lib/modules/$rel" ||
    ! mount -o bind,ro "/hostro$MLP_GUEST_MODDIR" "/host/lib/modules/$rel"; then
    say "mounting $MLP_GUEST_MODDIR at /lib/modules/$rel failed"
    report 122
  fi
fi
if [ -n "$MLP_INSMOD" ]; then
  # shellcheck disable=SC2086
  if ! insmod "/host$MLP_KO" $MLP_INSMOD_ARGS; then
    say "insmod $MLP_KO $MLP_INSMOD_ARGS failed"
    dmesg | tail -n 20 >/dev/console
    report 123
  fi
fi

say "running $run/cmd.sh"
chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8 MLP_GUEST=1 MLP_KO="$MLP_KO" MLP_VM_OUT="$run" \
  MLP_REPO="$MLP_REPO" MLP_GUEST_KVER="$(uname -r)" MLP_SELFTESTS="${MLP_SELFTESTS:-}" \
  /bin/sh -c "cd \"\$MLP_REPO\" && exec /bin/sh \"\$MLP_VM_OUT/cmd.sh\"" </dev/console >/dev/console 2>&1
status=$?
say "command exited with status $status"

echo "$status" >"/host$run/status"
dmesg >"/host$run/dmesg.txt"
echo "----- guest dmesg since /init (full: $run/dmesg.txt) -----" >/dev/console
sed -n '/Run \/init as init process/,$p' "/host$run/dmesg.txt" >/dev/console
echo "----- guest dmesg (end) -----" >/dev/console
sync
umount "/host$run" 2>/dev/null
report "$status"
