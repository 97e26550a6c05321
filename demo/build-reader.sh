#!/usr/bin/env bash
# Usage: build-reader.sh   prints the path of mlp-reader (demo/reader.c), built
# with the host's gcc into .vm/build/ (the guest runs the host's root, so the binary
# runs there as is); rebuilt only when the source changes.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/vm/lib.sh"

src="$REPO/demo/reader.c"
command -v gcc >/dev/null || die "gcc not found (scripts/vm/install-deps.sh installs it)"
out="$VM_DIR/build/mlp-reader-$(cache_key "$src")"
if [[ ! -x "$out" ]]; then
  mkdir -p "$VM_DIR/build"
  gcc -O2 -Wall -Wextra -Werror -o "$out.tmp" "$src" >&2 || die "building $src failed"
  mv "$out.tmp" "$out"
  find "$VM_DIR/build" -maxdepth 1 -name 'mlp-reader-*' ! -path "$out" -delete
fi
echo "$out"
