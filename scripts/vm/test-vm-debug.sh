#!/usr/bin/env bash
# `npm run test:vm:debug` (after `npm run build`): the in-guest suites on a debug
# kernel. Builds (once, cached under .vm/debug-kernel/) Debian's linux-source-6.1
# as a tinyconfig kernel with KASAN, UBSAN, lockdep (PROVE_LOCKING, PROVE_RCU),
# DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS, DEBUG_LIST, HARDENED_USERCOPY and
# FORTIFY_SOURCE (MLP_DEBUG_VARIANT=kcsan: KCSAN instead of KASAN; the configs are
# debug-kernel*.config), boots it with 2 CPUs and runs the suites (default: all of
# them; arguments select some), failing on any KASAN, KCSAN, UBSAN, lockdep, RCU,
# hung-task or "BUG:"/"WARNING:" line. Not part of CI: the first build takes
# 15-26 minutes of both cores, and the kernel runs the suites 3-4 times slower.
#
# The traps of such a kernel under TCG, and what this script does about them:
#  - the KASAN kernel does not start through the PVH entry: the bzImage is booted;
#  - with -cpu max TCG offers LA57 and the kernel then reports a KASAN wild
#    access before any module loads: -cpu max,la57=off (and X86_5LEVEL=n);
#  - SeaBIOS without ACPI announces one CPU: the config has ACPI for -smp 2;
#  - but ACPI's PCI interrupt routing method (_PRT, a 128-step AML loop) runs past
#    ACPICA's 30 s loop limit under TCG with KASAN and lockdep (AE_AML_LOOP_TIMEOUT,
#    boot stalls): acpi=noirq routes PCI interrupts by the BIOS table ($PIR) and ACPI
#    still enumerates the CPUs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

variant="${MLP_DEBUG_VARIANT:-kasan}"
bash "$VM_SCRIPTS/install-deps.sh"
out="$(bash "$VM_SCRIPTS/build-debug-kernel.sh" "$variant")"
export MLP_GUEST_IMAGE="$out/build/arch/x86/boot/bzImage"
export MLP_GUEST_KDIR="$out/build"
export MLP_GUEST_MODROOT="$out/mods"
MLP_GUEST_KVER="$(cat "$out/release")"
export MLP_GUEST_KVER
export MLP_VM_SMP="${MLP_VM_SMP:-2}"
export MLP_VM_CPU="${MLP_VM_CPU:-max,la57=off}"
export MLP_VM_TIMEOUT="${MLP_VM_TIMEOUT:-5400}"
export MLP_VM_APPEND="${MLP_VM_APPEND:-acpi=noirq }"
export MLP_VM_SPLAT='Oops|BUG:|kernel BUG|WARNING:|Call Trace|general protection fault|KASAN|KCSAN|UBSAN|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|blocked for more than|soft lockup|hard LOCKUP|rcu_.*detected stall|ODEBUG|list_(add|del) corruption'
log "debug kernel $MLP_GUEST_KVER ($variant), $MLP_VM_SMP CPUs, -cpu $MLP_VM_CPU"
exec bash "$VM_SCRIPTS/test-vm.sh" "$@"
