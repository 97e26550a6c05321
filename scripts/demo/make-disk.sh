#!/usr/bin/env bash
# Usage: make-disk.sh   prints the path of the demo's data disk (a raw ext4 image).
# The image holds the files the read-ahead workloads read: two groups g0/ and g1/ of
# GROUP_FILES files f000.bin ... of FILE_MB MiB of random bytes (incompressible, so no
# layer can shortcut them), made with mkfs.ext4 -d from a staging folder. Each group
# (640 MiB by default) is larger than the guest's page cache, so a reader looping over
# it keeps reading from the disk. Created once and cached under .vm/demo/ (gitignored),
# keyed by this script's content and the sizes.
source "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

group_files="${GROUP_FILES:-80}"
file_mb="${FILE_MB:-8}"
image_mb=$((2 * group_files * file_mb * 105 / 100 + 64))
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 not found (apt-get install -y --no-install-recommends e2fsprogs)"
key="$(cache_key "${BASH_SOURCE[0]}" "$group_files" "$file_mb")"
out="$VM_DIR/demo/data-$key.img"
if [[ -s "$out" ]]; then
  echo "$out"
  exit 0
fi
mkdir -p "$VM_DIR/demo"
stage="$(mktemp -d "$VM_DIR/demo/stage.XXXXXX")"
trap 'rm -rf "$stage" "$out.tmp"' EXIT
log "making the data disk: 2 groups of $group_files files of $file_mb MiB in a $image_mb MiB ext4 image"
for g in 0 1; do
  mkdir -p "$stage/g$g"
  for i in $(seq 0 $((group_files - 1))); do
    head -c "$((file_mb * 1024 * 1024))" /dev/urandom >"$stage/g$g/f$(printf %03d "$i").bin"
  done
done
rm -f "$out.tmp"
# -E root_owner: files readable by anyone; -m 0: no reserved blocks; no journal (read-only use).
mkfs.ext4 -q -F -m 0 -O ^has_journal -L mlpdata -E root_owner=0:0 -d "$stage" "$out.tmp" "${image_mb}M" >&2
mv "$out.tmp" "$out"
find "$VM_DIR/demo" -maxdepth 1 -name 'data-*.img' ! -path "$out" -delete
echo "$out"
