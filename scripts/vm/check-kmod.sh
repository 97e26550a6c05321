#!/usr/bin/env bash
# Usage: check-kmod.sh [SERIES...]   (default: 6.1 6.12)
# The kernel code's static checks, failing on any finding: kmod/ built with W=1 and
# sparse (C=2) against the newest installed kernel of each series, and checkpatch
# --strict on every module, header and selftest source (checkpatch.pl from
# Debian's linux-source-6.1 tarball, taken once into .vm/ksft/).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if (($#)); then series=("$@"); else series=(6.1 6.12); fi
need_command sparse
bash "$VM_SCRIPTS/install-deps.sh" "${series[@]}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mlproxy-check.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
failed=0
for s in "${series[@]}"; do
  kver="$(kver_of_series "$s")"
  rm -rf "$tmp/kmod" && cp -a "$REPO/kmod" "$tmp/kmod"
  make -C "/lib/modules/$kver/build" M="$tmp/kmod" W=1 C=2 modules >"$tmp/build-$kver.log" 2>&1 ||
    { cat "$tmp/build-$kver.log" >&2; die "kmod does not build against $kver"; }
  if grep -E 'warning|error|\.c:[0-9]+:[0-9]+: ' "$tmp/build-$kver.log" >&2; then
    log "FAILED: W=1 / sparse findings against $kver (above)"
    failed=1
  else
    log "W=1 and sparse (C=2) clean against $kver"
  fi
done

# checkpatch.pl with its data files, from the kernel source tarball.
bash "$VM_SCRIPTS/build-selftests.sh" >/dev/null # makes sure the tarball is there
tarball=/usr/src/linux-source-6.1.tar.xz
cp_dir="$VM_DIR/ksft/checkpatch-$(cache_key "$tarball")"
if [[ ! -x "$cp_dir/scripts/checkpatch.pl" ]]; then
  rm -rf "$cp_dir" && mkdir -p "$cp_dir"
  tar -xJf "$tarball" -C "$cp_dir" --strip-components=1 --wildcards \
    '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
fi
# Run from kmod/, so that the paths are the ones of a kernel tree (include/uapi/...,
# tools/testing/...) and checkpatch applies its rules for them (e.g. BIT() is not
# exported to uapi).
mapfile -t files < <(cd "$REPO/kmod" && git ls-files '*.c' '*.h' | LC_ALL=C sort)
if ! (cd "$REPO/kmod" && "$cp_dir/scripts/checkpatch.pl" --no-tree --strict --terse -q -f "${files[@]}") >"$tmp/checkpatch.log" 2>&1; then
  cat "$tmp/checkpatch.log" >&2
  log "FAILED: checkpatch --strict findings (above)"
  failed=1
elif grep -qE 'ERROR|WARNING|CHECK' "$tmp/checkpatch.log"; then
  cat "$tmp/checkpatch.log" >&2
  log "FAILED: checkpatch --strict findings (above)"
  failed=1
else
  log "checkpatch --strict: no errors, warnings or checks in ${#files[@]} files"
fi
exit "$failed"
