#!/usr/bin/env bash
# Usage: extract-vmlinux.sh <bzImage> <out-vmlinux>
# Extracts the uncompressed ELF vmlinux from a bzImage, so that QEMU can boot it
# through its PVH entry point and skip the decompression (slow under TCG). Looks
# for each compressor's magic (xz, zstd, gzip) and keeps the first candidate that
# decompresses to an ELF file; the same idea as the kernel's scripts/extract-vmlinux.
set -euo pipefail
img="$1"
out="$2"
tmp="$(mktemp "${out}.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

is_elf() { [[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" == '177ELF' ]]; }

try() { # <magic as grep -P pattern> <decompress command...>
  local magic="$1"
  shift
  local off
  for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1 | head -n 5); do
    tail -c "+$((off + 1))" "$img" | "$@" >"$tmp" 2>/dev/null || true
    if [[ -s "$tmp" ]] && is_elf "$tmp"; then
      mv "$tmp" "$out"
      return 0
    fi
  done
  return 1
}

try '\xfd\x37\x7a\x58\x5a\x00' xz -dc --single-stream && exit 0
try '\x28\xb5\x2f\xfd' zstd -dcq && exit 0
try '\x1f\x8b\x08' gzip -dcq && exit 0
echo "[vm] error: no xz, zstd or gzip payload with an ELF kernel found in $img" >&2
exit 1
