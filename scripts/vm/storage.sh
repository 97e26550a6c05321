# shellcheck shell=bash
# Storage profiles of the guest's data disk (sourced by run-in-guest.sh). The data disk
# is a raw image on the host, attached read-only as virtio-blk /dev/vda. Served from
# the host's page cache, it is as fast as the emulated guest can copy (TCG is CPU-bound),
# which hides what real storage does to read-ahead; the other profiles model storage
# explicitly:
#
#   host         the image as is (no model: the host's page cache)
#   cloud-small  QEMU block throttling of 100 requests/s and 40 MiB/s in total, a small
#                cloud volume or an HDD, scaled to the guest's speed: small requests are
#                bound by the request rate, large ones by the bandwidth
#   netdisk      dm-delay in the guest: every read waits MLP_NETDISK_DELAY_MS (default 5)
#                before it goes to the unthrottled disk, a network block device on a fast
#                link: bound by latency, not by requests or bandwidth; the data disk is
#                then /dev/mapper/mlp-data (a dm-N device)
#
# One definition per profile: storage_drive_opts gives the QEMU -drive options, the
# guest side (scripts/vm/guest-storage.sh) reads MLP_STORAGE.

STORAGE_PROFILES=(host cloud-small netdisk)

storage_check() { # <profile>
  local p
  for p in "${STORAGE_PROFILES[@]}"; do [[ "$1" == "$p" ]] && return 0; done
  die "unknown storage profile '$1' (known: ${STORAGE_PROFILES[*]})"
}

storage_drive_opts() { # <profile> <image>: the value of QEMU's -drive
  local opts="file=$2,if=virtio,format=raw,readonly=on"
  case "$1" in
  cloud-small) opts+=",throttling.iops-total=100,throttling.bps-total=41943040" ;;
  host | netdisk) ;;
  esac
  echo "$opts"
}
