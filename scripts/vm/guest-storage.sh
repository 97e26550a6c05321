#!/bin/sh
# Sourced in the guest (by the cmd.sh run-in-guest.sh writes when it was given --disk),
# in the chroot, as root: brings up the data disk of the storage profile MLP_STORAGE
# (scripts/vm/storage.sh) and exports
#   MLP_DATA_DEV    the block device to mount or read (/dev/vda, /dev/mapper/mlp-data)
#   MLP_DATA_KNAME  its kernel name (vda, dm-0): the mlproxy module's ra_dev
modprobe virtio_blk || { echo "guest-storage: modprobe virtio_blk failed" >&2; exit 3; }
i=0
while [ ! -b /dev/vda ]; do
  i=$((i + 1))
  [ "$i" -lt 200 ] || { echo "guest-storage: no /dev/vda after 20 s: was the disk attached?" >&2; exit 3; }
  sleep 0.1
done
case "${MLP_STORAGE:-host}" in
netdisk)
  modprobe dm_delay || { echo "guest-storage: modprobe dm_delay failed" >&2; exit 3; }
  sectors="$(blockdev --getsz /dev/vda)"
  # No udev in the guest: create the node ourselves.
  echo "0 $sectors delay /dev/vda 0 ${MLP_NETDISK_DELAY_MS:-5}" |
    DM_DISABLE_UDEV=1 dmsetup create mlp-data --noudevsync ||
    { echo "guest-storage: dmsetup create failed" >&2; exit 3; }
  DM_DISABLE_UDEV=1 dmsetup mknodes mlp-data >/dev/null 2>&1
  MLP_DATA_DEV=/dev/mapper/mlp-data
  MLP_DATA_KNAME="$(basename "$(readlink -f /sys/dev/block/"$(DM_DISABLE_UDEV=1 dmsetup info -c --noheadings -o major,minor mlp-data | tr -d ' ')")")"
  [ -b "$MLP_DATA_DEV" ] || { echo "guest-storage: $MLP_DATA_DEV missing after dmsetup" >&2; exit 3; }
  ;;
*)
  MLP_DATA_DEV=/dev/vda
  MLP_DATA_KNAME=vda
  ;;
esac
export MLP_DATA_DEV MLP_DATA_KNAME
echo "guest-storage: profile ${MLP_STORAGE:-host}: data disk $MLP_DATA_DEV ($MLP_DATA_KNAME), read_ahead_kb $(cat "/sys/block/$MLP_DATA_KNAME/queue/read_ahead_kb")"
