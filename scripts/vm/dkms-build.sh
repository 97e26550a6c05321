#!/usr/bin/env bash
# Usage: dkms-build.sh [SERIES...]   (default: 6.1 6.12)
# `dkms build` of kmod/ (kmod/dkms.conf) for the newest installed kernel of each
# series, the way a Debian user installs the module, in private source and dkms
# trees (--sourcetree, --dkmstree) so the machine's /var/lib/dkms stays untouched.
# Fails unless mlproxy.ko comes out for every kernel.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if (($#)); then series=("$@"); else series=(6.1 6.12); fi
need_command dkms
bash "$VM_SCRIPTS/install-deps.sh" "${series[@]}"
version="$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$REPO/kmod/dkms.conf")"
[[ -n "$version" ]] || die "no PACKAGE_VERSION in kmod/dkms.conf"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mlproxy-dkms.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/mlproxy-$version" "$tmp/tree"
cp -a "$REPO/kmod/." "$tmp/src/mlproxy-$version/"
for s in "${series[@]}"; do
  kver="$(kver_of_series "$s")"
  [[ -n "$kver" ]] || die "no installed $s kernel"
  log "dkms build mlproxy/$version for $kver"
  if ! dkms build -m mlproxy -v "$version" -k "$kver" --sourcetree "$tmp/src" \
    --dkmstree "$tmp/tree" >"$tmp/dkms-$kver.log" 2>&1; then
    cat "$tmp/dkms-$kver.log" >&2
    find "$tmp/tree" -name make.log -exec cat {} + >&2
    die "dkms build failed for $kver"
  fi
  ko="$(find "$tmp/tree/mlproxy/$version/$kver" -name 'mlproxy.ko*' | head -n 1)"
  [[ -n "$ko" ]] || die "dkms build for $kver produced no mlproxy.ko"
  log "dkms build for $kver: $(basename "$ko")"
done
