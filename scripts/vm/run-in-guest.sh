#!/usr/bin/env bash
# Usage: run-in-guest.sh [options] -- <command> [args...]
# Boots Debian's kernel in QEMU with a busybox initramfs, mounts this machine's root
# read-only over virtio-9p, insmods mlproxy.ko and runs <command> in a chroot of
# the host root, with the repository as working directory. Exits with the
# command's status (0..127), 124 when the guest timed out, 125 when the guest never
# reported (kernel panic, QEMU failure), 2 on a setup error.
#
# Options:
#   --insmod-args "a=1 b=2"  module parameters for mlproxy.ko (default: none)
#   --no-insmod              build the module but do not load it at boot
#   --timeout SECONDS        kill QEMU after this long (default 300)
#   --memory MB              guest memory (default 1024)
#   --smp N                  guest CPUs (default 1, MLP_VM_SMP)
#   --quiet                  do not stream the guest console (printed on failure)
#   --disk IMAGE             attach IMAGE (raw) read-only as the guest's data disk, /dev/vda
#   --storage PROFILE        how the data disk behaves (scripts/vm/storage.sh): host
#                            (default), cloud-small (QEMU throttling), netdisk (dm-delay)
#
# In the guest the command sees: MLP_GUEST=1, MLP_KO (the module's path),
# MLP_VM_OUT (a folder writable by the guest, kept on the host after the run),
# MLP_REPO, MLP_GUEST_KVER; /tmp and /run are tmpfs, the rest is read-only. With --disk
# also MLP_STORAGE, MLP_DATA_DEV (the device to mount: /dev/vda, or /dev/mapper/mlp-data
# under netdisk) and MLP_DATA_KNAME (its kernel name, vda or dm-N), set up by
# scripts/vm/guest-storage.sh before the command runs.
# Environment: MLP_GUEST_KVER (guest kernel: a version or a series such as 6.1 or
# 6.12; default 6.1, see lib.sh), MLP_VM_DIR (caches, default .vm/), MLP_VM_ACCEL
# (default tcg), MLP_VM_CPU (default max,-erms,-fsrm under TCG, max otherwise; see
# below), MLP_KMOD_SRC (module sources, default
# kmod/), MLP_VM_RUN_NAME (the run folder's name under .vm/runs/), MLP_SELFTESTS
# (a folder of built C selftests, passed to the guest). A kernel that is not
# installed (the debug kernel of test-vm-debug.sh): MLP_GUEST_IMAGE (its bzImage,
# booted as it is), MLP_GUEST_KDIR (its build tree), MLP_GUEST_MODROOT (the
# INSTALL_MOD_PATH of its modules), with MLP_GUEST_KVER its release.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$VM_SCRIPTS/storage.sh"

insmod=1
insmod_args=""
timeout_s=300
memory=1024
smp="${MLP_VM_SMP:-1}"
quiet=0
disk=""
storage=host
while (($#)); do
  case "$1" in
  --insmod-args)
    insmod_args="${2?--insmod-args needs a value}"
    shift 2
    ;;
  --no-insmod)
    insmod=0
    shift
    ;;
  --timeout)
    timeout_s="${2?--timeout needs a value}"
    shift 2
    ;;
  --memory)
    memory="${2?--memory needs a value}"
    shift 2
    ;;
  --smp)
    smp="${2?--smp needs a value}"
    shift 2
    ;;
  --quiet)
    quiet=1
    shift
    ;;
  --disk)
    disk="${2?--disk needs an image}"
    shift 2
    ;;
  --storage)
    storage="${2?--storage needs a profile}"
    shift 2
    ;;
  --)
    shift
    break
    ;;
  *) die "unknown option '$1' (usage: run-in-guest.sh [--insmod-args ARGS] [--no-insmod] [--timeout S] [--memory MB] [--smp N] [--quiet] [--disk IMAGE [--storage PROFILE]] -- COMMAND...)" ;;
  esac
done
(($#)) || die "no command given (usage: run-in-guest.sh [options] -- COMMAND...)"
[[ "$timeout_s" =~ ^[0-9]+$ ]] || die "--timeout must be whole seconds, got '$timeout_s'"
[[ "$smp" =~ ^[1-9][0-9]*$ ]] || die "--smp must be a CPU count, got '$smp'"
storage_check "$storage"
if [[ -n "$disk" ]]; then
  [[ -r "$disk" && -s "$disk" ]] || die "--disk $disk: no such (non-empty) image"
  disk="$(cd "$(dirname "$disk")" && pwd)/$(basename "$disk")"
elif [[ "$storage" != host ]]; then
  die "--storage $storage needs --disk IMAGE"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (run scripts/vm/install-deps.sh)"

if [[ -n "${MLP_GUEST_IMAGE:-}" ]]; then
  # A kernel of our own (the debug kernel): booted as the bzImage it is.
  [[ -n "${MLP_GUEST_KVER:-}" && -n "${MLP_GUEST_KDIR:-}" && -n "${MLP_GUEST_MODROOT:-}" ]] ||
    die "MLP_GUEST_IMAGE needs MLP_GUEST_KVER, MLP_GUEST_KDIR and MLP_GUEST_MODROOT"
  kver="$MLP_GUEST_KVER"
  kernel="$MLP_GUEST_IMAGE"
  [[ -r "$kernel" ]] || die "$kernel missing"
else
  kver="$(guest_kver)"
  cache="$VM_DIR/cache/$kver"
  mkdir -p "$cache"
  # The kernel: the uncompressed vmlinux (PVH entry, no decompression under TCG),
  # extracted once per image; the bzImage when extraction fails.
  bzimage="/boot/vmlinuz-$kver"
  [[ -r "$bzimage" ]] || die "$bzimage missing (run scripts/vm/install-deps.sh)"
  kernel="$cache/vmlinux-$(cache_key "$bzimage")"
  if [[ ! -s "$kernel" ]]; then
    log "extracting vmlinux from $bzimage"
    if ! bash "$VM_SCRIPTS/extract-vmlinux.sh" "$bzimage" "$kernel"; then
      log "warning: extraction failed; booting the compressed bzImage (slower)"
      kernel="$bzimage"
    fi
  fi
fi
initramfs="$(bash "$VM_SCRIPTS/make-initramfs.sh" "$kver")"
ko="$(bash "$VM_SCRIPTS/build-module.sh" "$kver")"

# The run folder: the command and its environment in, status and dmesg out.
run="$VM_DIR/runs/${MLP_VM_RUN_NAME:-$(date +%Y%m%d-%H%M%S)-$$}"
mkdir -p "$run"
# Keep the 20 newest run folders.
ls -1dt "$VM_DIR"/runs/*/ 2>/dev/null | tail -n +21 | xargs -r rm -rf
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; } # POSIX sh single quoting
{
  printf '# generated by run-in-guest.sh\n'
  if [[ -n "$disk" ]]; then
    printf 'MLP_STORAGE=%s; export MLP_STORAGE\n' "$(sq "$storage")"
    [[ -z "${MLP_NETDISK_DELAY_MS:-}" ]] || printf 'MLP_NETDISK_DELAY_MS=%s; export MLP_NETDISK_DELAY_MS\n' "$(sq "$MLP_NETDISK_DELAY_MS")"
    printf '. "$MLP_REPO/scripts/vm/guest-storage.sh"\n'
  fi
  for a in "$@"; do printf '%s ' "$(sq "$a")"; done
  printf '\n'
} >"$run/cmd.sh"
{
  echo "MLP_KO=$(sq "$ko")"
  echo "MLP_INSMOD=$( ((insmod)) && echo 1)"
  echo "MLP_INSMOD_ARGS=$(sq "$insmod_args")"
  echo "MLP_REPO=$(sq "$REPO")"
  echo "MLP_SELFTESTS=$(sq "${MLP_SELFTESTS:-}")"
  # A kernel of our own: its modules are not in the host root the guest chroots
  # into; guest-init.sh mounts this tree at /lib/modules/<rel> for modprobe.
  if [[ -n "${MLP_GUEST_IMAGE:-}" ]]; then
    echo "MLP_GUEST_MODDIR=$(sq "$(cd "$MLP_GUEST_MODROOT" && pwd)/lib/modules/$kver")"
  fi
} >"$run/guest.env"
console="$run/console.log"
: >"$console"

accel="${MLP_VM_ACCEL:-tcg}"
# The guest CPU. TCG's `max` offers ERMS and FSRM, so the guest kernel zeroes and copies
# pages with `rep stosb` / `rep movsb`, which QEMU 7.2's TCG runs one byte per pass
# through a translated block: measured in the 6.1 guest, 256 MiB of clear_user took
# 0.66 s with them and 0.24 s without, a 128 MiB tmpfs read 0.53 s and 0.29 s, and in the
# read-ahead demo's phase runs page zeroing alone was 28% of the guest's busy CPU (perf,
# docs/benchmarks.md). Real CPUs run these instructions at memory speed, so under TCG
# they weighed ~10x too much, and their bursts stalled the bench. Without the two
# features the kernel takes its `rep stosq` / `rep movsq` routines (REP_GOOD), the ones
# it runs on CPUs without ERMS. Under KVM the host's CPU is what it is.
if [[ "$accel" == tcg ]]; then cpu="${MLP_VM_CPU:-max,-erms,-fsrm}"; else cpu="${MLP_VM_CPU:-max}"; fi
qemu=(
  qemu-system-x86_64 -nodefaults -no-reboot -display none -monitor none
  -machine pc -accel "$accel" -cpu "$cpu" -smp "$smp" -m "$memory"
  -kernel "$kernel" -initrd "$initramfs"
  -append "console=ttyS0 panic=-1 quiet loglevel=4 mitigations=off ${MLP_VM_APPEND:-}mlp.run=$run"
  -chardev "file,id=con,path=$console" -serial chardev:con
  -device virtio-rng-pci
  -fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
  -fsdev "local,id=results,path=$run,security_model=none"
  -device virtio-9p-pci,fsdev=results,mount_tag=results
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
)
[[ -z "$disk" ]] || qemu+=(-drive "$(storage_drive_opts "$storage" "$disk")")
log "booting $kver ($(basename "$kernel"), $smp CPU), run folder $run${disk:+, data disk $(basename "$disk") ($storage)}"
start=$(date +%s.%N)
follower=""
if ((!quiet)); then
  tail -n +1 -F "$console" 2>/dev/null &
  follower=$!
fi
set +e
timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$run/qemu.log" 2>&1
qemu_status=$?
set -e
sleep 0.2
[[ -z "$follower" ]] || kill "$follower" 2>/dev/null || true
wait 2>/dev/null || true
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

fail() { # <status> <message>
  ((!quiet)) || {
    echo "----- guest console ($console, last 300 lines) -----" >&2
    tail -n 300 "$console" >&2
  }
  [[ ! -s "$run/qemu.log" ]] || {
    echo "----- qemu output -----" >&2
    cat "$run/qemu.log" >&2
  }
  log "FAILED after ${elapsed}s: $2 (console log: $console)"
  exit "$1"
}

if ((qemu_status == 124 || qemu_status == 137)); then
  fail 124 "the guest timed out after ${timeout_s}s"
fi
if ((qemu_status % 2 == 1 && qemu_status > 1 || qemu_status == 1)) && [[ -e "$run/status" ]]; then
  rc=$((qemu_status >> 1))
  reported="$(cat "$run/status")"
  ((reported > 127)) && reported=127
  ((rc == reported)) || fail 125 "QEMU reported status $rc, the guest wrote $reported"
  if ((rc != 0)); then
    fail "$rc" "the guest command exited with status $rc"
  fi
  log "guest command passed in ${elapsed}s"
  exit 0
fi
if ((qemu_status % 2 == 1)); then
  rc=$((qemu_status >> 1))
  fail 125 "the guest init failed with code $rc before the command ran (120: no run folder, 121: module load, 122: 9p mount, 123: insmod mlproxy)"
fi
fail 125 "QEMU exited with status $qemu_status without a report from the guest (kernel panic or QEMU error)"
