#!/usr/bin/env bash
# Usage: build-reader.sh [reader|pin]   prints the path of mlp-reader (demo/reader.c, the
# default) or mlp-pin (demo/pin.c, built against the module's UAPI header), built with
# the host's gcc into .vm/build/ (the guest runs the host's root, so the binary runs
# there as is); rebuilt only when its sources change.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/vm/lib.sh"

name="${1:-reader}"
case "$name" in
  reader) sources=("$REPO/demo/reader.c") ;;
  pin) sources=("$REPO/demo/pin.c" "$REPO/kmod/include/uapi/linux/mlproxy.h") ;;
  *) die "usage: build-reader.sh [reader|pin], got '$name'" ;;
esac
command -v gcc >/dev/null || die "gcc not found (scripts/vm/install-deps.sh installs it)"
out="$VM_DIR/build/mlp-$name-$(cache_key "${sources[@]}")"
if [[ ! -x "$out" ]]; then
  mkdir -p "$VM_DIR/build"
  gcc -O2 -Wall -Wextra -Werror -I "$REPO/kmod/include/uapi" -o "$out.tmp" "${sources[0]}" >&2 ||
    die "building ${sources[0]} failed"
  mv "$out.tmp" "$out"
  find "$VM_DIR/build" -maxdepth 1 -name "mlp-$name-*" ! -path "$out" -delete
fi
echo "$out"
