/**
 * The guest side of the VM harness: loading and unloading mlproxy.ko, and the
 * kernel log checks. Only meaningful inside the QEMU guest that
 * scripts/vm/run-in-guest.sh boots (MLP_GUEST=1, MLP_KO = the module's path).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const DEVICE_PATH = '/dev/mlproxy';

/** Throws unless running in the test guest, where loading modules is safe. */
export function requireGuest(): string {
  const ko = process.env.MLP_KO;
  if (process.env.MLP_GUEST !== '1' || !ko) {
    throw new Error(
      'the test/vm suites load kernel modules and run only in the QEMU guest: run `npm run test:vm`',
    );
  }
  if (!existsSync(ko)) throw new Error(`MLP_KO=${ko} does not exist: rebuild with npm run test:vm`);
  return ko;
}

export function moduleLoaded(name = 'mlproxy'): boolean {
  return readFileSync('/proc/modules', 'utf8')
    .split('\n')
    .some((l) => l.startsWith(`${name} `));
}

/** A module built next to mlproxy.ko (mlproxy_synthetic, mlproxy_selftest). */
export function koPath(name: string): string {
  return join(dirname(requireGuest()), `${name}.ko`);
}

/** insmod of a module built next to mlproxy.ko. */
export function insmod(name: string, params: Readonly<Record<string, number | string>> = {}): void {
  const args = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  execFileSync('insmod', [koPath(name), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** rmmod of one module, refusing to fail silently. */
export function rmmod(name: string): void {
  const r = spawnSync('rmmod', [name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rmmod ${name} failed: ${r.stderr.trim()}`);
}

/**
 * Module parameters that make the synthetic ladder fast enough for tests. The synth_*
 * ones go to mlproxy_synthetic.ko (as seed, period, window_ms), the rest to mlproxy.ko.
 */
export const FAST_PARAMS = {
  synth_window_ms: 25,
  synth_period: 1000000, // phase 0 for the whole test: opt = 10
  learning_period: 2,
  promote_windows: 3,
  promote_margin_pct: 2,
  demote_margin_pct: 5,
  collapse_pct: 50,
  emergency_hold_windows: 2,
  heartbeat_ms: 1000, // a stalled guest must not miss heartbeats by accident
  max_epoch_lag: 1,
} as const;

/** The test modules that use mlproxy's symbols (unloaded before it). */
export const TEST_MODULES = ['mlproxy_selftest', 'mlproxy_synthetic'] as const;

export interface LoadOptions {
  /** Load mlproxy_synthetic.ko with the synth_* parameters (default true). */
  synthetic?: boolean;
  /** Also load mlproxy_selftest.ko with these parameters. */
  selftest?: Readonly<Record<string, number | string>>;
}

/**
 * (Re)loads mlproxy.ko with the given parameters and, unless told not to, the
 * synthetic subsystem's module; /dev/mlproxy exists afterwards.
 */
export function loadModule(
  params: Readonly<Record<string, number | string>> = {},
  opts: LoadOptions = {},
): void {
  const ko = requireGuest();
  if (moduleLoaded()) unloadModule();
  const core: Record<string, number | string> = {};
  const synth: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k.startsWith('synth_')) synth[k.slice('synth_'.length)] = v;
    else core[k] = v;
  }
  const args = Object.entries(core).map(([k, v]) => `${k}=${v}`);
  execFileSync('insmod', [ko, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (!existsSync(DEVICE_PATH)) throw new Error(`insmod succeeded but ${DEVICE_PATH} is missing`);
  if (opts.synthetic ?? true) insmod('mlproxy_synthetic', synth);
  if (opts.selftest) insmod('mlproxy_selftest', opts.selftest);
}

/** rmmod of one module (default mlproxy); returns its status and stderr instead of throwing. */
export function tryUnload(name = 'mlproxy'): { ok: boolean; stderr: string } {
  const r = spawnSync('rmmod', [name], { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: r.stderr.trim() };
}

/** Unloads the test modules, then mlproxy.ko; throws when anything stays. */
export function unloadModule(): void {
  for (const m of TEST_MODULES) if (moduleLoaded(m)) rmmod(m);
  const r = tryUnload();
  if (!r.ok) throw new Error(`rmmod mlproxy failed: ${r.stderr}`);
  if (moduleLoaded()) throw new Error('rmmod succeeded but mlproxy is still in /proc/modules');
  if (existsSync(DEVICE_PATH)) throw new Error(`rmmod succeeded but ${DEVICE_PATH} remains`);
}

/** Kernel log lines that mean the kernel is unhealthy: oopses, BUGs, WARNs, splats. */
export const KERNEL_PROBLEM =
  /\b(Oops|BUG:|kernel BUG|WARNING:|Call Trace|general protection fault|RIP:|UBSAN|KASAN|KCSAN|refcount_t:|list_(add|del) corruption|stack-protector|possible (circular|recursive) locking|inconsistent lock state|suspicious RCU usage|ODEBUG|blocked for more than|soft lockup|segfault at .* in \[?mlproxy)/;

export function kernelLog(): string[] {
  return execFileSync('dmesg', [], { encoding: 'utf8' }).split('\n');
}

export function kernelProblems(): string[] {
  return kernelLog().filter((l) => KERNEL_PROBLEM.test(l));
}

/** Writes a line into the kernel log, so a failure's dmesg shows which test ran. */
export function kernelMark(text: string): void {
  try {
    execFileSync('sh', ['-c', 'echo "$1" > /dev/kmsg', 'mark', `mlproxy-test: ${text}`]);
  } catch {
    // a log marker is a convenience only
  }
}
