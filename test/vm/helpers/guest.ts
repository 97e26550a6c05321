/**
 * The guest side of the VM harness: loading and unloading mlproxy.ko, and the
 * kernel log checks. Only meaningful inside the QEMU guest that
 * scripts/vm/run-in-guest.sh boots (MLP_GUEST=1, MLP_KO = the module's path).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

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

export function moduleLoaded(): boolean {
  return readFileSync('/proc/modules', 'utf8')
    .split('\n')
    .some((l) => l.startsWith('mlproxy '));
}

/** Module parameters that make the synthetic ladder fast enough for tests. */
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

/** (Re)loads mlproxy.ko with the given parameters; /dev/mlproxy exists afterwards. */
export function loadModule(params: Readonly<Record<string, number | string>> = {}): void {
  const ko = requireGuest();
  if (moduleLoaded()) unloadModule();
  const args = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  execFileSync('insmod', [ko, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (!existsSync(DEVICE_PATH)) throw new Error(`insmod succeeded but ${DEVICE_PATH} is missing`);
}

/** rmmod mlproxy; returns its status and stderr instead of throwing. */
export function tryUnload(): { ok: boolean; stderr: string } {
  const r = spawnSync('rmmod', ['mlproxy'], { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: r.stderr.trim() };
}

export function unloadModule(): void {
  const r = tryUnload();
  if (!r.ok) throw new Error(`rmmod mlproxy failed: ${r.stderr}`);
  if (moduleLoaded()) throw new Error('rmmod succeeded but mlproxy is still in /proc/modules');
  if (existsSync(DEVICE_PATH)) throw new Error(`rmmod succeeded but ${DEVICE_PATH} remains`);
}

/** Kernel log lines that mean the kernel is unhealthy: oopses, BUGs, WARNs, splats. */
export const KERNEL_PROBLEM =
  /\b(Oops|BUG:|kernel BUG|WARNING:|Call Trace|general protection fault|RIP:|UBSAN|KASAN|refcount_t:|list_(add|del) corruption|stack-protector|segfault at .* in \[?mlproxy)/;

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
