#!/usr/bin/env bash
# Usage: build-module.sh <kver>   prints the path of the built mlproxy.ko.
# Builds kmod/ against the guest kernel's headers in a copy under
# .vm/build/<kver>/, keyed by the sources' content (an unchanged module is not
# rebuilt), so the working tree gets no build products. MLP_KMOD_SRC overrides the
# source folder, MLP_KO_NAME the module file name.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kver="$1"
src="$(cd "${MLP_KMOD_SRC:-$REPO/kmod}" && pwd)"
ko_name="${MLP_KO_NAME:-mlproxy.ko}"
# MLP_GUEST_KDIR: the build tree of a kernel that is not installed (the debug kernel).
kdir="${MLP_GUEST_KDIR:-/lib/modules/$kver/build}"
[[ -e "$kdir/Makefile" ]] || die "no kernel headers at $kdir (run scripts/vm/install-deps.sh)"
[[ -e "$src/Makefile" || -e "$src/Kbuild" ]] || die "no Makefile or Kbuild in $src: the kernel module is not there yet"

# The sources: everything but build products (the same patterns as .gitignore).
mapfile -d '' sources < <(cd "$src" && find . -type f ! -name '*.o' ! -name '*.ko' ! -name '*.cmd' \
  ! -name '*.mod' ! -name '*.mod.c' ! -name 'modules.order' ! -name 'Module.symvers' \
  ! -name '*.log' -print0 | LC_ALL=C sort -z)
key="$(cd "$src" && cache_key "$kver" "$kdir" "${sources[@]}")"
dest="$VM_DIR/build/$kver/kmod-$key"
ko="$dest/$ko_name"
if [[ -s "$ko" ]]; then
  echo "$ko"
  exit 0
fi
rm -rf "$VM_DIR/build/$kver"/kmod-*
mkdir -p "$dest"
(cd "$src" && cp -a --parents "${sources[@]}" "$dest/")
log "building $ko_name from $src against $kver"
if ! make -C "$kdir" M="$dest" modules >"$dest/build.log" 2>&1; then
  cat "$dest/build.log" >&2
  rm -f "$ko"
  die "module build failed (log above, also in $dest/build.log)"
fi
if grep -qE 'warning:|error:' "$dest/build.log"; then
  grep -E -A3 'warning:|error:' "$dest/build.log" >&2
fi
[[ -s "$ko" ]] || die "the build produced no $ko_name in $dest (see $dest/build.log)"
echo "$ko"
