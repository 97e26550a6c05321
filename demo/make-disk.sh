#!/usr/bin/env bash
# Usage: make-disk.sh   prints the path of the demo's data disk (a raw ext4 image).
# The image holds the files the read-ahead workloads read, of random bytes
# (incompressible, so no layer can shortcut them), made with mkfs.ext4 -d:
#   seq/f000.bin ...  SEQ_FILES files of SEQ_MB MiB (default 80 x 8 MiB = 640 MiB), read
#                     sequentially with read(2), each opened as it is read;
#   big/b0.bin ...    BIG_FILES files of BIG_MB MiB (default 8 x 128 MiB = 1 GiB), mapped
#                     with mmap and touched at random pages (and the pread control).
# Each group is larger than the guest's page cache (512 MiB of guest memory), so a
# reader looping over it keeps reading from the disk. Created once and cached under
# .vm/demo/ (gitignored; one image per size, delete old ones by hand), keyed by this
# script's content and the sizes.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/vm/lib.sh"

seq_files="${SEQ_FILES:-80}"
seq_mb="${SEQ_MB:-8}"
big_files="${BIG_FILES:-8}"
big_mb="${BIG_MB:-128}"
image_mb=$(((seq_files * seq_mb + big_files * big_mb) * 105 / 100 + 64))
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 not found (apt-get install -y --no-install-recommends e2fsprogs)"
key="$(cache_key "${BASH_SOURCE[0]}" "$seq_files" "$seq_mb" "$big_files" "$big_mb")"
out="$VM_DIR/demo/data-$key.img"
if [[ -s "$out" ]]; then
  echo "$out"
  exit 0
fi
mkdir -p "$VM_DIR/demo"
stage="$(mktemp -d "$VM_DIR/demo/stage.XXXXXX")"
trap 'rm -rf "$stage" "$out.tmp"' EXIT
log "making the data disk: $seq_files x $seq_mb MiB + $big_files x $big_mb MiB in a $image_mb MiB ext4 image"
mkdir -p "$stage/seq" "$stage/big"
for i in $(seq 0 $((seq_files - 1))); do
  head -c "$((seq_mb * 1024 * 1024))" /dev/urandom >"$stage/seq/f$(printf %03d "$i").bin"
done
for i in $(seq 0 $((big_files - 1))); do
  head -c "$((big_mb * 1024 * 1024))" /dev/urandom >"$stage/big/b$i.bin"
done
rm -f "$out.tmp"
# -E root_owner: files readable by anyone; -m 0: no reserved blocks; no journal (read-only use).
mkfs.ext4 -q -F -m 0 -O ^has_journal -L mlpdata -E root_owner=0:0 -d "$stage" "$out.tmp" "${image_mb}M" >&2
mv "$out.tmp" "$out"
echo "$out"
