#!/usr/bin/env bash
# Usage: install-deps.sh [SERIES...]   (default: the series of MLP_GUEST_KVER, else 6.1)
# Installs what the VM harness needs (Debian, as root): QEMU, busybox-static, cpio,
# kmod, xz, make, gcc, and for each kernel series (6.1, 6.12) an image and its headers
# unless an installed kernel of that series has both. Kernels are chosen by
# major.minor through Debian's metapackages (linux-image-6.12-amd64, or
# linux-image-amd64 when it is of that series), never by an ABI number. One
# `apt-get update` at most; nothing when all is present.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if (($#)); then series=("$@"); else series=("$(guest_series)"); fi
packages=(qemu-system-x86 busybox-static cpio kmod xz-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# build-essential pieces the module build needs (make, gcc) come with the headers'
# dependencies only partly; check the commands themselves.
for c in make gcc; do
  command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
kernels=()
for s in "${series[@]}"; do
  [[ "$s" =~ ^[0-9]+\.[0-9]+$ ]] || die "kernel series must look like 6.1 or 6.12, got '$s'"
  [[ -n "$(kver_of_series "$s")" ]] || kernels+=("$s")
done
if ((${#missing[@]} == 0 && ${#kernels[@]} == 0)); then
  echo "[vm] dependencies present" >&2
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  die "installing packages needs root (run as root or install: ${missing[*]} ${kernels[*]/#/kernel series })"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
for s in "${kernels[@]}"; do
  # Debian's per-series metapackages, else the default ones when they are this series.
  if apt-cache show "linux-image-$s-amd64" >/dev/null 2>&1; then
    missing+=("linux-image-$s-amd64" "linux-headers-$s-amd64")
  # (grep without -q: under pipefail, grep -q's early exit can kill apt-cache with SIGPIPE
  # and fail the test even when the line is there; seen on a fresh machine.)
  elif apt-cache show linux-image-amd64 2>/dev/null | grep -E "^Depends: linux-image-$s[.-]" >/dev/null; then
    missing+=(linux-image-amd64 linux-headers-amd64)
  else
    die "no Debian package for kernel series $s (looked for linux-image-$s-amd64 and linux-image-amd64)"
  fi
done
echo "[vm] installing: ${missing[*]}" >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
for s in "${kernels[@]}"; do
  [[ -n "$(kver_of_series "$s")" ]] || die "installed the $s kernel packages, but no usable $s kernel (image, modules, headers) appeared"
done
