#!/usr/bin/env bash
# Usage: scripts/build-wasm.sh [--check]        (npm run build:wasm)
# Compiles the kernel's rules (kmod/mlproxy_rules.c), the synthetic landscape
# (kmod/mlproxy_landscape.c) and their WebAssembly glue (kmod/wasm/mlproxy_wasm.c)
# into src/transport/sim/rules.wasm, which SimKernel runs. The .wasm is committed,
# so `npm ci && npm test` needs no clang; after a change to those C files, run
# this and commit the result. --check builds into a temporary file and fails when
# it differs from the committed one (CI runs it: .ci/run). The output depends
# only on the sources and on clang/lld 14 (no debug info, no paths).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$repo/src/transport/sim/rules.wasm"
check=0
[[ "${1:-}" == --check ]] && check=1
clang="${CLANG:-}"
if [[ -z "$clang" ]]; then
  for c in clang-14 clang; do command -v "$c" >/dev/null && { clang="$c"; break; }; done
fi
[[ -n "$clang" ]] || { echo "build-wasm: clang not found: apt-get install clang-14 lld-14 (Debian 12)" >&2; exit 1; }
command -v wasm-ld >/dev/null || command -v wasm-ld-14 >/dev/null ||
  { echo "build-wasm: wasm-ld not found: apt-get install lld-14 (Debian 12)" >&2; exit 1; }
ver="$("$clang" --version | head -1)"
[[ "$ver" == *"version 14."* ]] || echo "build-wasm: warning: $ver is not clang 14; the committed rules.wasm is clang 14's, so --check may differ" >&2
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mlproxy-wasm.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# -mbulk-memory: struct copies and zeroing become memory.copy/fill, not libc calls.
(cd "$repo/kmod" && "$clang" --target=wasm32 -O2 -std=gnu11 -nostdlib -ffreestanding -mbulk-memory \
  -fno-ident -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter -Werror \
  -Iwasm/include -Iinclude \
  -Wl,--no-entry -Wl,--strip-all -Wl,--export-dynamic -Wl,-z,stack-size=16384 \
  -o "$tmp/rules.wasm" mlproxy_rules.c mlproxy_landscape.c wasm/mlproxy_wasm.c)
if ((check)); then
  if ! cmp -s "$tmp/rules.wasm" "$out"; then
    echo "build-wasm: src/transport/sim/rules.wasm differs from a build of kmod/mlproxy_rules.c," \
      "kmod/mlproxy_landscape.c and kmod/wasm/: run npm run build:wasm and commit it" >&2
    exit 1
  fi
  echo "build-wasm: src/transport/sim/rules.wasm matches its sources ($(stat -c %s "$out") bytes)"
else
  cp "$tmp/rules.wasm" "$out"
  echo "build-wasm: wrote src/transport/sim/rules.wasm ($(stat -c %s "$out") bytes)"
fi
