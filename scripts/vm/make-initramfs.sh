#!/usr/bin/env bash
# Usage: make-initramfs.sh <kver>   prints the path of the (cached) initramfs.
# A busybox-static initramfs with guest-init.sh as /init and the guest kernel's
# virtio-pci, 9p and virtio-rng modules (dependencies first, builtins skipped,
# compressed modules decompressed because busybox insmod cannot read them).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kver="$1"
# MLP_GUEST_MODROOT: the INSTALL_MOD_PATH of a kernel that is not installed.
modroot="${MLP_GUEST_MODROOT:-}"
depmod_root=()
[[ -z "$modroot" ]] || depmod_root=(-d "$modroot")
busybox="$(command -v busybox || true)"
[[ -n "$busybox" ]] || die "busybox not found (install busybox-static)"
file -L "$busybox" | grep 'statically linked' >/dev/null || die "$busybox is not static (install busybox-static)"

wanted=(virtio_pci 9pnet_virtio 9p virtio_rng)
key="$(cache_key "$kver" "$VM_SCRIPTS/guest-init.sh" "$VM_SCRIPTS/make-initramfs.sh" "$busybox" "${wanted[*]}" "${modroot}/lib/modules/$kver/modules.dep")"
out="$VM_DIR/cache/$kver/initramfs-$key.cpio"
if [[ -s "$out" ]]; then
  echo "$out"
  exit 0
fi
log "building initramfs for $kver"
mkdir -p "$(dirname "$out")"
root="$(mktemp -d "$VM_DIR/cache/$kver/initramfs.XXXXXX")"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,proc,sys,dev,host,tmp,modules}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$VM_SCRIPTS/guest-init.sh" "$root/init"
chmod 755 "$root/init"

: >"$root/modules.list"
declare -A seen=()
for m in "${wanted[@]}"; do
  # "insmod /path.ko" for modules (dependencies first), "builtin name" otherwise.
  while read -r kind path _; do
    [[ "$kind" == insmod ]] || continue
    [[ -z "${seen[$path]:-}" ]] || continue
    seen[$path]=1
    name="$(basename "$path")"
    case "$name" in
    *.ko.xz) xz -dc "$path" >"$root/modules/${name%.xz}" && name="${name%.xz}" ;;
    *.ko.zst) zstd -dcq "$path" >"$root/modules/${name%.zst}" && name="${name%.zst}" ;;
    *.ko.gz) gzip -dc "$path" >"$root/modules/${name%.gz}" && name="${name%.gz}" ;;
    *.ko) cp "$path" "$root/modules/$name" ;;
    *) die "unexpected module file $path" ;;
    esac
    echo "$name" >>"$root/modules.list"
  done < <(modprobe "${depmod_root[@]}" -S "$kver" --show-depends "$m" 2>/dev/null || die "modprobe cannot resolve $m for $kver")
done
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
find "$(dirname "$out")" -maxdepth 1 -name 'initramfs-*.cpio' ! -path "$out" -delete
log "initramfs: $out ($(du -h "$out" | cut -f1), modules: $(tr '\n' ' ' <"$root/modules.list"))"
echo "$out"
