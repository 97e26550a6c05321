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

# The default guest kernel series: Debian 12's own kernel (what linux-image-amd64
# installs on bookworm). MLP_GUEST_KVER=6.12 (or any installed series) picks another.
DEFAULT_GUEST_SERIES=6.1

# Whether a kernel version has everything the harness needs: an image in /boot, a
# module tree and a build (headers) directory.
kver_usable() {
  [[ -e "/boot/vmlinuz-$1" && -d "/lib/modules/$1/kernel" && -e "/lib/modules/$1/build/Makefile" ]]
}

# The newest usable installed kernel of a series ("6.1", "6.12"), generic amd64
# flavour (not -rt or -cloud); empty when none. Versions are discovered, never
# hard-coded: Debian moves its ABI numbers (6.1.0-57, 6.12.107+deb12) on.
kver_of_series() {
  local series="$1" best="" v img
  for img in /boot/vmlinuz-"$series".*; do
    [[ -e "$img" ]] || continue
    v="${img#/boot/vmlinuz-}"
    [[ "$v" == *-amd64 && "$v" != *-rt-amd64 && "$v" != *-cloud-amd64 ]] || continue
    kver_usable "$v" || continue
    best="$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n 1)"
  done
  echo "$best"
}

# The guest series asked for: MLP_GUEST_KVER when it names a series, else the default.
guest_series() {
  local want="${MLP_GUEST_KVER:-$DEFAULT_GUEST_SERIES}"
  if [[ "$want" =~ ^[0-9]+\.[0-9]+$ ]]; then echo "$want"; else echo "$want" | grep -oE '^[0-9]+\.[0-9]+'; fi
}

# The guest kernel version. MLP_GUEST_KVER may be a full version (6.1.0-57-amd64,
# used as it is) or a series (6.1, 6.12: its newest installed kernel); unset, the
# default series. Never "the newest kernel on the machine": installing another kernel
# must not silently change what the tests run on.
guest_kver() {
  local want="${MLP_GUEST_KVER:-$DEFAULT_GUEST_SERIES}" v
  if [[ "$want" =~ ^[0-9]+\.[0-9]+$ ]]; then
    v="$(kver_of_series "$want")"
    [[ -n "$v" ]] || die "no installed $want kernel with headers (want /boot/vmlinuz-$want.*-amd64, its /lib/modules/<v>/kernel and /lib/modules/<v>/build): run scripts/vm/install-deps.sh, or set MLP_GUEST_KVER to an installed version"
    echo "$v"
    return
  fi
  kver_usable "$want" || die "MLP_GUEST_KVER=$want: need /boot/vmlinuz-$want, /lib/modules/$want/kernel and /lib/modules/$want/build (install linux-image-$want and linux-headers-$want, or name a series such as 6.1)"
  echo "$want"
}

# Installs a Debian package when its command is missing (as root; else names it).
need_command() { # <command> [package, default: the command's name]
  local cmd="$1" pkg="${2:-$1}"
  command -v "$cmd" >/dev/null && return 0
  [[ $(id -u) -eq 0 ]] || die "$cmd not found (install Debian's $pkg package, needs root)"
  log "installing $pkg"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >&2
}

# A short content hash of the given files and strings, for cache keys.
cache_key() {
  { for x in "$@"; do if [[ -f "$x" ]]; then sha256sum "$x"; else echo "$x"; fi; done; } |
    sha256sum | cut -c1-16
}
