#!/usr/bin/env bash
# Installs what the VM harness needs (Debian/Ubuntu, as root): QEMU, Debian's
# kernel image and headers, busybox-static, cpio, kmod. Fast when all are present.
set -euo pipefail

packages=(qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio kmod xz-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# build-essential pieces the module build needs (make, gcc) come with the headers'
# dependencies only partly; check the commands themselves.
for c in make gcc; do
  command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if ((${#missing[@]} == 0)); then
  echo "[vm] dependencies present"
  exit 0
fi
echo "[vm] installing: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "[vm] error: installing packages needs root (run as root or install: ${missing[*]})" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
