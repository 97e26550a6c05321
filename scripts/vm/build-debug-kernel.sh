#!/usr/bin/env bash
# Usage: build-debug-kernel.sh [kasan|kcsan]   prints the build folder of the kernel.
# Builds the debug guest kernel of `npm run test:vm:debug` from Debian's
# linux-source-6.1 (apt-installed when missing): `make tinyconfig`, the options of
# debug-kernel.config (plus debug-kernel-kcsan.config for the kcsan variant), `make
# olddefconfig`, then bzImage and modules at -j$(nproc) under `nice -n 19`. Every option
# of the fragments is checked in the final .config (Kconfig drops an option whose
# dependencies are missing without a word). The result is cached under
# .vm/debug-kernel/<variant>-<key>/ (key: the source tarball, the fragments, this
# script), so a second run costs nothing. The folder holds:
#   build/                  the kernel build tree (KDIR for the module build)
#   build/arch/x86/boot/bzImage, build/vmlinux
#   mods/lib/modules/<rel>/ modules.dep, modules.builtin (for the initramfs)
#   release                 the kernel release string
# Building takes ~15 min of both cores on an idle 2-core machine (~26 min loaded):
# hold /work/coord/vm.lock (or your machine's equivalent) while it runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

variant="${1:-kasan}"
case "$variant" in
kasan) fragments=("$VM_SCRIPTS/debug-kernel.config" "$VM_SCRIPTS/debug-kernel-kasan.config") ;;
kcsan) fragments=("$VM_SCRIPTS/debug-kernel.config" "$VM_SCRIPTS/debug-kernel-kcsan.config") ;;
*) die "unknown debug kernel variant '$variant' (kasan or kcsan)" ;;
esac

tarball=/usr/src/linux-source-6.1.tar.xz
if [[ ! -r "$tarball" ]]; then
  log "installing linux-source-6.1 (Debian's kernel source)"
  [[ $(id -u) -eq 0 ]] || die "$tarball missing: install linux-source-6.1 (needs root)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-source-6.1 >&2
fi
missing=()
for c in flex bison bc gcc make; do command -v "$c" >/dev/null || missing+=("$c"); done
[[ -e /usr/include/libelf.h ]] || missing+=(libelf-dev)
[[ -e /usr/include/openssl/ssl.h ]] || missing+=(libssl-dev)
if ((${#missing[@]})); then
  log "installing the kernel build tools: ${missing[*]}"
  [[ $(id -u) -eq 0 ]] || die "missing build tools: ${missing[*]} (install them, needs root)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

key="$(cache_key "$tarball" "${fragments[@]}" "$VM_SCRIPTS/build-debug-kernel.sh")"
top="$VM_DIR/debug-kernel"
out="$top/$variant-$key"
if [[ -s "$out/release" && -s "$out/build/arch/x86/boot/bzImage" ]]; then
  echo "$out"
  exit 0
fi

# The source, extracted once per tarball.
src_key="$(cache_key "$tarball")"
src="$top/src-$src_key"
if [[ ! -e "$src/.extracted" ]]; then
  log "extracting $tarball"
  rm -rf "$src" && mkdir -p "$src"
  nice -n 19 tar -xJf "$tarball" -C "$src" --strip-components=1
  touch "$src/.extracted"
fi

rm -rf "$out"
mkdir -p "$out/build"
b="$out/build"
start=$(date +%s)
log "configuring the $variant debug kernel in $b"
make -s -C "$src" O="$b" tinyconfig >/dev/null
{
  cat "${fragments[@]}"
  echo "CONFIG_LOCALVERSION=\"-mlp-$variant\""
  echo "CONFIG_LOCALVERSION_AUTO=n"
} | sed 's/=n$/ is not set/; s/^\(CONFIG_[A-Z0-9_]*\) is not set$/# \1 is not set/' >"$out/fragment.config"
(cd "$src" && KCONFIG_CONFIG="$b/.config" scripts/kconfig/merge_config.sh -m -O "$b" "$b/.config" "$out/fragment.config" >"$out/merge.log" 2>&1) ||
  die "merge_config failed (see $out/merge.log)"
make -s -C "$src" O="$b" olddefconfig >/dev/null

# Every option asked for must be in the final config as asked.
bad=()
while read -r line; do
  case "$line" in
  CONFIG_*=*)
    opt="${line%%=*}"
    val="${line#*=}"
    if [[ "$val" == n ]]; then
      grep -qx "$opt=[ym]" "$b/.config" && bad+=("$line (got $(grep -x "$opt=.*" "$b/.config"))")
    else
      grep -qxF "$line" "$b/.config" || bad+=("$line (got $(grep -E "^$opt=|^# $opt is not set" "$b/.config" || echo absent))")
    fi
    ;;
  esac
done < <(cat "${fragments[@]}" | sed 's/#.*//' | sed '/^\s*$/d')
((${#bad[@]} == 0)) || die "the $variant kernel config lacks options (missing dependencies?): ${bad[*]}"

log "building the $variant debug kernel (nice -n 19, -j$(nproc)); log: $out/build.log"
if ! nice -n 19 make -C "$src" O="$b" -j"$(nproc)" bzImage modules >"$out/build.log" 2>&1; then
  tail -n 40 "$out/build.log" >&2
  die "the debug kernel build failed (log: $out/build.log)"
fi
make -s -C "$src" O="$b" INSTALL_MOD_PATH="$out/mods" modules_install >>"$out/build.log" 2>&1 ||
  die "modules_install failed (log: $out/build.log)"
make -s -C "$src" O="$b" kernelrelease >"$out/release"
cp "$b/.config" "$out/config"
log "built $(cat "$out/release") in $(($(date +%s) - start)) s: $out"
# Older builds of this variant are obsolete.
find "$top" -maxdepth 1 -name "$variant-*" ! -path "$out" -exec rm -rf {} +
echo "$out"
