// The demo bench's CPU diagnostics (demo/guest.ts): which tasks used the guest's CPU over
// a run, from /proc/<pid>/stat, to find what stalls a guest (issue 10).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {
  KernelStackSampler,
  Pin,
  procUsage,
  stringOpFlags,
  taskTicks,
  threadDelta,
  threadTicks,
  topTasks,
  vmCounters,
} from '../demo/guest.js';

test('topTasks: the largest users first, in ms, a task that started meanwhile from 0, none under 1% of the interval', (t) => {
  const a = new Map([
    ['1 init', 5],
    ['40 kswapd0', 100],
    ['114 node', 300],
  ]);
  const b = new Map([
    ['1 init', 5], // idle: left out
    ['40 kswapd0', 150], // 50 ticks
    ['114 node', 320], // 20 ticks
    ['200 mlp-reader', 80], // new: 80 ticks
    ['201 sh', 1], // 10 ms of a 10 s run: under 1%, left out
  ]);
  t.deepEqual(topTasks(a, b, 100, 10_000), [
    { task: '200 mlp-reader', cpuMs: 800 },
    { task: '40 kswapd0', cpuMs: 500 },
    { task: '114 node', cpuMs: 200 },
  ]);
  t.is(topTasks(a, b, 100, 10_000, 1).length, 1);
});

test.serial('taskTicks sees this process, and its ticks grow with the CPU it uses', (t) => {
  if (process.platform !== 'linux') {
    t.pass('no /proc');
    return;
  }
  const mine = () => [...taskTicks()].find(([k]) => k.startsWith(`${process.pid} `));
  const before = mine();
  t.truthy(before, 'this process is listed as "pid comm"');
  burnCpu(300);
  const after = mine();
  t.true(after![1] > before![1], `${before![1]} -> ${after![1]} ticks`);
});

test("vmCounters carries the guest's CPU split from /proc/stat", (t) => {
  if (process.platform !== 'linux') {
    t.pass('no /proc');
    return;
  }
  const c = vmCounters();
  for (const k of ['user', 'system', 'idle', 'iowait', 'softirq']) {
    t.true(Number.isInteger(c[`cpu_${k}_ticks`]), `cpu_${k}_ticks`);
  }
});

/**
 * Spins until this process has used `ms` more of CPU (getrusage, all threads): a busy loop
 * timed by the wall clock gets less than its length on a loaded host, this does not.
 */
function burnCpu(ms: number): number {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const start = cpu();
  let x = 0;
  while (cpu() - start < ms) x += Math.sqrt(x + 1);
  return x > 0 ? cpu() - start : NaN;
}

// Serial: a concurrent test's busy loop or worker thread would share this process's CPU.
test.serial(
  'procUsage: CPU time by the tick and on the CPU (exact, where the kernel keeps it), per thread and all',
  (t) => {
    if (process.platform !== 'linux') {
      t.pass('no /proc');
      return;
    }
    const hz = 100; // CLK_TCK on every Linux this project supports
    const before = procUsage(process.pid, hz)!;
    const used = burnCpu(400);
    const after = procUsage(process.pid, hz)!;
    t.true(
      after.cpuMs - before.cpuMs >= 100,
      `${after.cpuMs - before.cpuMs} ms by the tick for 400 ms of work`,
    );
    t.true(after.mainThreadMs > before.mainThreadMs);
    t.true(after.mainThreadMs <= after.cpuMs);
    if (Number.isNaN(after.runMs)) {
      t.log('this kernel keeps no schedstat (or shows 0): runMs is NaN');
    } else {
      const run = after.runMs - before.runMs;
      // The scheduler's exact time and getrusage measure the same CPU.
      t.true(
        run >= 0.8 * used && run <= 1.25 * used + 50,
        `${run} ms on the CPU by schedstat, ${used} ms by getrusage`,
      );
    }
    t.true(after.voluntarySwitches >= before.voluntarySwitches);
    t.true(after.rssKb > 0 && after.hwmKb >= after.rssKb);
    t.is(procUsage(2 ** 22 + 1, hz), null, 'a process that does not exist');
  },
);

test.serial(
  'KernelStackSampler: finds a busy thread runnable, names its stacks, and counts afresh after a take',
  async (t) => {
    const sampler = new KernelStackSampler([process.pid], 10);
    // The main thread spins (state R) until the sampler, once started, has seen it so.
    let got = await sampler.take();
    const deadline = Date.now() + 60_000;
    while (got.hits === 0 && Date.now() < deadline) {
      const end = Date.now() + 100;
      while (Date.now() < end); // busy: runnable throughout
      got = await sampler.take();
    }
    t.true(got.hits > 0, 'a spinning main thread is found runnable');
    t.true(got.samples > 0);
    t.true(got.maxGapMs >= 0);
    // Every stack names its state; the counts add up to at most the hits (a stack that
    // could not be read, without root, is a hit without a stack).
    for (const s of got.top) t.regex(s.stack, /^[RD] \S/);
    t.true(got.top.reduce((a, s) => a + s.n, 0) <= got.hits);
    const last = await sampler.take(true);
    t.true(last.samples < 1000, 'counted afresh since the previous take');
  },
);

test('threadDelta: most system time first, in ms, with minor faults and the exact run and wait; a new thread from 0, an idle one left out', (t) => {
  const ms = 1e6; // ns
  const a = new Map([
    ['100 node', { utime: 50, stime: 10, minflt: 1000, runNs: 600 * ms, waitNs: 10 * ms }],
    ['101 libuv-worker', { utime: 1, stime: 5, minflt: 10, runNs: 60 * ms, waitNs: 1 * ms }],
    ['102 V8 worker', { utime: 3, stime: 3, minflt: 50, runNs: 60 * ms, waitNs: 2 * ms }],
  ]);
  const b = new Map([
    // 100 ms user, 20 ms system by the tick; 118 ms on the CPU, 30 ms waiting for it
    ['100 node', { utime: 60, stime: 12, minflt: 1100, runNs: 718 * ms, waitNs: 40 * ms }],
    // 400 ms of system time charged, but only 5 ms run: charged, not run
    ['101 libuv-worker', { utime: 1, stime: 45, minflt: 10, runNs: 65 * ms, waitNs: 1 * ms }],
    ['102 V8 worker', { utime: 3, stime: 3, minflt: 50, runNs: 60 * ms, waitNs: 2 * ms }], // idle
    ['103 node', { utime: 2, stime: 1, minflt: 7, runNs: 31 * ms, waitNs: 4 * ms }], // new
  ]);
  t.deepEqual(threadDelta(a, b, 100), [
    { thread: '101 libuv-worker', userMs: 0, systemMs: 400, minorFaults: 0, runMs: 5, waitMs: 0 },
    { thread: '100 node', userMs: 100, systemMs: 20, minorFaults: 100, runMs: 118, waitMs: 30 },
    { thread: '103 node', userMs: 20, systemMs: 10, minorFaults: 7, runMs: 31, waitMs: 4 },
  ]);
  t.is(threadDelta(a, b, 100, 1).length, 1);
  // A kernel without schedstat: no run or wait (JSON has no NaN).
  const none = (m: typeof a) =>
    new Map([...m].map(([k, v]) => [k, { ...v, runNs: NaN, waitNs: NaN }]));
  t.deepEqual(threadDelta(none(a), none(b), 100)[0], {
    thread: '101 libuv-worker',
    userMs: 0,
    systemMs: 400,
    minorFaults: 0,
  });
});

test.serial(
  'threadTicks sees this process main thread, and its ticks grow with the CPU it uses',
  (t) => {
    const main = (m: Map<string, { utime: number; stime: number }>) =>
      [...m].find(([k]) => k.startsWith(`${process.pid} `))?.[1];
    const a = threadTicks(process.pid);
    t.truthy(main(a), 'the main thread is listed by "tid comm"');
    burnCpu(300); // 30 ticks at USER_HZ 100, nearly all on the main thread
    const b = threadTicks(process.pid);
    t.true(main(b)!.utime + main(b)!.stime > main(a)!.utime + main(a)!.stime);
    t.is(threadTicks(2 ** 30).size, 0, 'a process that does not exist has no threads');
  },
);

test('stringOpFlags: ERMS, FSRM and REP_GOOD from the first flags line, in that order, nothing else', (t) => {
  const cpuinfo = [
    'processor\t: 0',
    'flags\t\t: fpu vme rep_good nopl xtopology erms fsrm_x ssse3',
    'bugs\t\t: spectre_v1',
    'flags\t\t: fsrm',
  ].join('\n');
  t.deepEqual(stringOpFlags(cpuinfo), ['erms', 'rep_good']);
  t.deepEqual(stringOpFlags('flags\t: fpu fsrm rep_good erms\n'), ['erms', 'fsrm', 'rep_good']);
  t.deepEqual(stringOpFlags('processor : 0\n'), []);
});

/** A stand-in for mlp-pin (same protocol); `$UP` is a file it may create once it is up. */
function fakePin(t: { teardown(f: () => void): void }, body: string): { bin: string; up: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-pin-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'mlp-pin');
  const up = path.join(dir, 'up');
  fs.writeFileSync(bin, `#!/bin/sh\nUP='${up}'\n${body}\n`, { mode: 0o755 });
  return { bin, up };
}

/** Waits (at most 30 s: a loaded machine starts a shell slowly) until `done()` holds. */
async function until(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 600 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  return done();
}

test.serial('Pin: runs until stop(), which sends SIGTERM and returns its last line', async (t) => {
  const { bin, up } = fakePin(
    t,
    [
      'trap \'echo "{\\"recs\\":7,\\"refused\\":1,\\"repins\\":2}"; exit 0\' TERM',
      '[ "$*" = "3 9" ] || exit 9',
      'echo ready',
      'echo "mlp-pin: recommendation based on window 4 for window 5 rejected, reasons 0x10" >&2',
      ': >"$UP"',
      'while :; do sleep 0.05; done',
    ].join('\n'),
  );
  const pin = new Pin(bin, 3, [9]);
  t.true(await until(() => fs.existsSync(up)));
  t.notThrows(() => pin.check());
  t.deepEqual(await pin.stop(), {
    recs: 7,
    refused: 1,
    repins: 2,
    messages: ['mlp-pin: recommendation based on window 4 for window 5 rejected, reasons 0x10'],
  });
});

test.serial('Pin: an exit before stop() is an error naming what it said', async (t) => {
  const { bin } = fakePin(t, 'echo "mlp-pin: MLP_IOC_CLAIM: Device or resource busy" >&2; exit 2');
  const pin = new Pin(bin, 1, [7]);
  const exited = () => {
    try {
      pin.check();
      return false;
    } catch {
      return true;
    }
  };
  t.true(await until(exited));
  t.throws(() => pin.check(), {
    message: /exited 2: mlp-pin: MLP_IOC_CLAIM: Device or resource busy/,
  });
  await t.throwsAsync(pin.stop(), { message: /exited 2/ });
});

test.serial('Pin: a binary that is not there is an error, not a hang', async (t) => {
  const pin = new Pin('/nonexistent/mlp-pin', 1, [7]);
  await t.throwsAsync(pin.stop(), { message: /spawn \/nonexistent\/mlp-pin ENOENT/ });
});
