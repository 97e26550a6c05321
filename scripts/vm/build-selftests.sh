#!/usr/bin/env bash
# Usage: build-selftests.sh   prints the folder of the built C selftests.
# Builds kmod/tools/testing/selftests/mlproxy (the kselftest layout) on the host,
# against the kselftest harness of Debian's linux-source-6.1 (kselftest_harness.h,
# kselftest.h and lib.mk, taken from the source tarball once, apt-installed when
# missing), into .vm/build/selftests-<hash of the sources>/ with mlproxy.sh next to
# the binaries. The guest runs them (test/vm/selftests.test.ts).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src="$REPO/kmod/tools/testing/selftests/mlproxy"
tarball=/usr/src/linux-source-6.1.tar.xz
ksft="$VM_DIR/ksft/$(cache_key "$tarball")"
if [[ ! -e "$ksft/.extracted" ]]; then
  if [[ ! -r "$tarball" ]]; then
    log "installing linux-source-6.1 (for the kselftest harness)"
    [[ $(id -u) -eq 0 ]] || die "$tarball missing: install linux-source-6.1 (needs root)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-source-6.1 >&2
    ksft="$VM_DIR/ksft/$(cache_key "$tarball")"
  fi
  log "extracting the kselftest harness from $tarball"
  rm -rf "$ksft" && mkdir -p "$ksft"
  tar -xJf "$tarball" -C "$ksft" --strip-components=4 --wildcards \
    '*/tools/testing/selftests/kselftest_harness.h' '*/tools/testing/selftests/kselftest.h' \
    '*/tools/testing/selftests/lib.mk'
  [[ -e "$ksft/kselftest_harness.h" && -e "$ksft/lib.mk" ]] || die "no kselftest harness in $tarball"
  touch "$ksft/.extracted"
fi

mapfile -t sources < <(find "$src" -type f | LC_ALL=C sort)
key="$(cache_key "${sources[@]}" "$REPO/kmod/include/uapi/linux/mlproxy.h" "$ksft/kselftest_harness.h")"
out="$VM_DIR/build/selftests-$key"
if [[ -x "$out/mlproxy.sh" ]]; then
  echo "$out"
  exit 0
fi
rm -rf "$VM_DIR"/build/selftests-*
mkdir -p "$out"
log "building the C selftests into $out"
if ! make -C "$src" KSFT_DIR="$ksft" OUTPUT="$out" >"$out/build.log" 2>&1; then
  cat "$out/build.log" >&2
  rm -rf "$out"
  die "the selftests did not build"
fi
if grep -qE 'warning:|error:' "$out/build.log"; then grep -E -A3 'warning:|error:' "$out/build.log" >&2; fi
cp "$src/mlproxy.sh" "$out/"
echo "$out"
