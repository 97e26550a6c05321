# shellcheck shell=bash
# Shared helpers of the VM harness (sourced, not run). Every path derives from the
# repository this file lives in, so a fresh clone in any folder works.

set -euo pipefail

VM_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$VM_SCRIPTS/../.." && pwd)"
# Build products and caches (gitignored). MLP_VM_DIR overrides.
VM_DIR="${MLP_VM_DIR:-$REPO/.vm}"

log() { printf '[vm] %s\n' "$*" >&2; }
die() {
  printf '[vm] error: %s\n' "$*" >&2
  exit 2
}

# The guest kernel: MLP_GUEST_KVER, or the newest version that has an image in /boot,
# a module tree and a build (headers) directory. Debian's linux-image-amd64 moves
# on, so the version is discovered, never hard-coded.
guest_kver() {
  if [[ -n "${MLP_GUEST_KVER:-}" ]]; then
    echo "$MLP_GUEST_KVER"
    return
  fi
  local best="" v
  for img in /boot/vmlinuz-*; do
    [[ -e "$img" ]] || continue
    v="${img#/boot/vmlinuz-}"
    [[ -d "/lib/modules/$v/kernel" && -e "/lib/modules/$v/build/Makefile" ]] || continue
    best="$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n 1)"
  done
  [[ -n "$best" ]] || die "no guest kernel found: need /boot/vmlinuz-<v>, /lib/modules/<v>/kernel and /lib/modules/<v>/build (run scripts/vm/install-deps.sh)"
  echo "$best"
}

# A short content hash of the given files and strings, for cache keys.
cache_key() {
  { for x in "$@"; do if [[ -f "$x" ]]; then sha256sum "$x"; else echo "$x"; fi; done; } |
    sha256sum | cut -c1-16
}
