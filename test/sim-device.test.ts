import test from 'ava';
import {
  MODE_EMERGENCY,
  MODE_LEARNING,
  MODE_RECOMMENDATION,
  REASON_IDLE,
  REASON_OFF_GRID,
  REASON_OUT_OF_BOUNDS,
  REASON_STEP_LIMIT,
  REASON_UNRELIABLE,
  TRANS_BASELINE,
  VERDICT_CLAMPED,
  VERDICT_REJECTED,
} from '../src/abi/constants.js';
import type { Feedback } from '../src/transport/device.js';
import { simDevice } from '../src/transport/sim/fake-kernel.js';
import { SimKernel, type SimKernelOptions } from '../src/transport/sim/kernel.js';
import type { SubsystemModel } from '../src/transport/sim/model.js';
import { ReadaheadModel, WORKLOADS } from '../src/transport/sim/readahead.js';
import { SyntheticModel } from '../src/transport/sim/synthetic.js';

/** The simulated device (IoctlDevice over the fake kernel) and its kernel, to advance. */
function open(kernelOptions: SimKernelOptions = {}) {
  const kernel = new SimKernel(kernelOptions);
  return Object.assign(simDevice({ kernel, ownsKernel: true }), { kernel });
}

const syntheticOnly = (extra: SimKernelOptions = {}) =>
  open({ clock: 'manual', subsystems: ['synthetic'], ...extra });

test('synthetic landscape matches values computed by hand from docs/subsystems.md', (t) => {
  // Independent Python evaluation of the documented formulas, seed 42, period 100.
  const m = new SyntheticModel();
  const cases: [number, number, number, number, number, number][] = [
    // w, load, hint, noise, eff(w, 4), eff(w, opt)
    [0, 0, -19, 10718, 578718, 1010718],
    [1, 10, -11, -3872, 563128, 995128],
    [150, 500, 201, 11299, 913299, 961299],
    [250, 500, 497, -1885, 0, 948115],
    [399, 10, 754, 6891, 1005891, 1005891],
    [2 ** 32 + 5, 990, 218, -19411, 833589, 881589],
  ];
  for (const [w, load, hint, noise, eff4, effOpt] of cases) {
    t.deepEqual(
      [m.load(w), m.hint(w), m.noise(w), m.eff(w, 4), m.eff(w, m.opt(w))],
      [load, hint, noise, eff4, effOpt],
      `window ${w}`,
    );
  }
});

test('synthetic features through the kernel: load, hint, last_eff / 1000', (t) => {
  const dev = syntheticOnly();
  t.deepEqual(dev.getState(1).features, [0, -19, 0]);
  dev.kernel.advance(1);
  t.deepEqual(dev.getState(1).features, [10, -11, 578]);
  const [fb] = dev.readFeedback();
  t.is(fb.eff, 0.578718);
  t.is(fb.baselineEff, 0.578718, 'the first baseline window sets the reference');
  dev.kernel.advance(1);
  t.is(dev.readFeedback()[0].baselineEff, 0.563128, 'the reference is the last baseline window');
  dev.close();
});

test('off-grid knobs round down to the grid; strict rejects', (t) => {
  const stepped: SubsystemModel = {
    name: 'stepped',
    windowMs: 10,
    features: [],
    knobs: [{ name: 'k', unit: '', min: 1, max: 9, step: 2, def: 5, maxDelta: 4 }],
    featuresAt: () => [],
    endWindow: () => 1000000,
  };
  const dev = open({ clock: 'manual', subsystems: [], models: [stepped] });
  dev.setMode(1, MODE_RECOMMENDATION, true);
  const rec = (k: number, strict = false) =>
    dev.recommend({
      subsysId: 1,
      epoch: dev.getState(1).epoch,
      modelVersion: 1,
      propensity: 1,
      knobs: [k],
      strict,
    });
  let r = rec(6, true);
  t.deepEqual([r.verdict, r.reasons, r.applied], [VERDICT_REJECTED, REASON_OFF_GRID, [5]]);
  r = rec(12);
  t.deepEqual(
    [r.verdict, r.reasons, r.applied],
    [VERDICT_CLAMPED, REASON_OUT_OF_BOUNDS, [9]],
    '12 -> 9, within max_delta 4 of the default 5',
  );
  dev.kernel.advance(2);
  r = rec(0);
  t.deepEqual(
    [r.verdict, r.reasons, r.applied],
    [VERDICT_CLAMPED, REASON_OUT_OF_BOUNDS | REASON_STEP_LIMIT, [5]],
    '0 -> 1 (bounds) -> 5 (4 below the last advice, 9)',
  );
  dev.close();
});

test('selftest model: eff = base_eff + 50000 x, clamped at 0; idle_every windows are idle', (t) => {
  const dev = open({
    clock: 'manual',
    subsystems: ['selftest'],
    selftest: { idleEvery: 3, baseEff: 100000 },
  });
  dev.claim(1);
  dev.setMode(1, MODE_RECOMMENDATION, true);
  const records: Feedback[] = [];
  for (const x of [2, -2, -12, 4]) {
    const st = dev.getState(1);
    dev.recommend({ subsysId: 1, epoch: st.epoch, modelVersion: 1, propensity: 1, knobs: [x] });
    dev.kernel.advance(1);
    records.push(...dev.readFeedback());
  }
  t.deepEqual(
    records.map((f) => [f.epoch, f.applied, f.knobs[0], f.eff, (f.reasons & REASON_IDLE) !== 0]),
    [
      [0, false, 0, 0.1, false],
      [1, true, 2, 0.2, false],
      [2, true, -2, 0.1, true], // epoch % 3 == 2: idle, eff = the reference
      [3, true, -12, 0, false], // 100000 - 600000, clamped
    ],
  );
  t.deepEqual(dev.getState(1).features, [4, 5], 'the epoch and the windows begun');
  t.throws(() => new SimKernel({ subsystems: ['selftest'], selftest: { windowMs: 4 } }), {
    message: /selftest windowMs must be an integer in \[5, 60000\], got 4/,
  });
  dev.close();
});

test('same seeds and actions give identical feedback; another seed differs', (t) => {
  const run = (seed: number) => {
    const dev = open({ clock: 'manual', synthetic: { seed }, readahead: { seed, windowMs: 100 } });
    dev.claim(1);
    dev.setMode(1, MODE_LEARNING, false);
    const out: Feedback[] = [];
    for (let i = 0; i < 300; i++) {
      const st = dev.getState(1);
      dev.recommend({
        subsysId: 1,
        epoch: st.epoch,
        modelVersion: 1,
        propensity: 1,
        knobs: [i % 16],
      });
      dev.kernel.advance(1);
      out.push(...dev.readFeedback());
    }
    dev.close();
    return out;
  };
  const a = run(5);
  t.true(
    a.some((f) => f.subsysId === 2),
    'readahead records too',
  );
  t.deepEqual(run(5), a);
  t.notDeepEqual(run(6), a);
});

test('auto clock: waitFeedback advances one window at once; manual clock times out', async (t) => {
  const auto = open({ clock: 'auto', subsystems: ['synthetic'] });
  for (let i = 0; i < 1000; i++) {
    const got = await auto.waitFeedback(60000);
    t.is(got.length, 1);
    t.is(got[0].epoch, i);
  }
  auto.close();
  const manual = syntheticOnly();
  t.deepEqual(await manual.waitFeedback(5), [], 'timeout path: nothing queued');
  const pending = manual.waitFeedback(60000);
  manual.kernel.advance(1);
  t.is((await pending).length, 1, 'a waiter wakes when a window ends');
  const orphan = manual.waitFeedback(60000);
  manual.close();
  t.deepEqual(await orphan, [], 'close() releases a waiter');
  t.throws(() => manual.getState(1), { code: 'EBADF' } as never);
});

test('real clock: windows end on timers and waitFeedback wakes up', async (t) => {
  const dev = open({ clock: 'real', subsystems: ['synthetic'], synthetic: { windowMs: 5 } });
  const got = await dev.waitFeedback(10000);
  t.true(got.length >= 1);
  t.is(got[0].epoch, 0);
  t.throws(() => dev.kernel.advance(1), { message: /virtual clock/ });
  dev.close();
});

test('readahead model: the best read-ahead depends on the workload', (t) => {
  // The smallest read-ahead within 0.1 % of the best.
  const best = (w: (typeof WORKLOADS)[number]) => {
    let arg = 4;
    for (let k = 4; k <= 12; k++)
      if (ReadaheadModel.idealEff(w, k) > ReadaheadModel.idealEff(w, arg) * 1.001) arg = k;
    return arg;
  };
  // Sequential: the bandwidth from 512 KiB on; random mmap: the request rate, so up to
  // 128 KiB (the default) is as good as 16 KiB; mixed: 512 KiB..1 MiB (docs/subsystems.md).
  t.deepEqual(WORKLOADS.map(best), [9, 4, 9]);
  t.is(ReadaheadModel.idealEff('random', 7), ReadaheadModel.idealEff('random', 4));
  t.true(ReadaheadModel.idealEff('random', 12) < ReadaheadModel.idealEff('random', 7) / 5);
  const m = new ReadaheadModel();
  const kinds = new Set(Array.from({ length: 2000 }, (_, w) => m.workload(w)));
  t.is(kinds.size, 3, 'all three workloads occur');
  const info = open({ subsystems: ['readahead'] }).listSubsystems()[0];
  t.deepEqual(info.knobs[0], {
    name: 'ra_kb_log2',
    unit: 'log2(KiB)',
    min: 4,
    max: 12,
    step: 1,
    def: 7,
    maxDelta: 0,
  });
  t.deepEqual(
    info.features.map((f) => f.name),
    [
      'read_kbps',
      'mean_read_kb',
      'read_latency_us',
      'busy',
      'merged_reads',
      'ra_kb',
      'delivered_kbps',
      'delivered_per_read',
      'fault_share',
      'seq_read_share',
      'major_fault_share',
      'baseline_ra_kb',
      'own_ra_share',
      'missed_calls',
    ],
    'the kernel subsystem’s features (docs/readahead.md)',
  );
});

test('bad kernel options are refused clearly', (t) => {
  t.throws(() => new SimKernel({ params: { learningPeriod: 0 } }), {
    message:
      /parameter learningPeriod \(the module's learning_period\) must be an integer in 2\.\.1000, got 0/,
  });
  t.throws(() => new SimKernel({ params: { bogus: 1 } as never }), {
    message: /unknown kernel parameter "bogus"/,
  });
  t.throws(() => new SimKernel({ clock: 'fast' as never }), { message: /clock must be/ });
});

/**
 * A scripted subsystem for the ladder's rules: eff(w) and the baseline change come from
 * the test (null: idle; {eff, unreliable}: unreliable); LEARNING advises every 2nd window.
 */
function scripted(
  effOf: (w: number, knobs: readonly number[]) => ReturnType<SubsystemModel['endWindow']>,
) {
  let changed: number[] | null = null;
  const model: SubsystemModel = {
    name: 'scripted',
    windowMs: 10,
    features: [],
    knobs: [{ name: 'k', unit: '', min: 0, max: 10, step: 1, def: 5, maxDelta: 0 }],
    featuresAt: () => [],
    endWindow: (w, knobs) => effOf(w, knobs),
    baselineChanged: () => {
      const c = changed;
      changed = null;
      return c;
    },
  };
  const dev = open({
    clock: 'manual',
    subsystems: [],
    models: [model],
    params: { learningPeriod: 2, promoteWindows: 100, emergencyHoldWindows: 1 },
  });
  dev.claim(1);
  dev.setMode(1, MODE_LEARNING, true);
  /** Runs one window, advising `level` when the next one is an advice window. */
  const step = (level: number) => {
    const st = dev.getState(1);
    if (st.nextAdvice) {
      dev.recommend({
        subsysId: 1,
        epoch: st.epoch,
        modelVersion: 1,
        propensity: 1,
        knobs: [level],
      });
    } else {
      dev.heartbeat(1);
    }
    dev.kernel.advance(1);
    return dev.readFeedback();
  };
  return { dev, step, changeBaseline: (defs: number[]) => (changed = defs) };
}

test('paired judgement: a reference from before a pause (more than 4 windows away) judges nothing', (t) => {
  // Windows 3..9 are idle; advice at level 0 runs in window 10 right after the pause.
  const { dev, step } = scripted((w, knobs) =>
    w >= 3 && w < 10 ? null : knobs[0] === 0 ? 1000 : 1_000_000,
  );
  while (dev.getState(1).epoch < 9) step(5);
  const applied: Feedback[] = [];
  while (dev.getState(1).epoch < 12) applied.push(...step(0));
  t.true(
    applied.some((f) => f.epoch === 10 && f.applied && f.knobs[0] === 0),
    'advice ran at 10',
  );
  t.is(dev.getMode(1).mode, MODE_LEARNING, 'window 2 is too far from window 10: no judgement');
  t.is(dev.getStatus(1).emergencies, 0);
  dev.close();
});

test('unreliable windows feed neither the reference nor the ladder', (t) => {
  // Every baseline window is unreliable: advice can never be judged.
  const { dev, step } = scripted((w, knobs) =>
    knobs[0] === 5 ? { eff: 1_000_000, unreliable: true } : 1000,
  );
  const fbs: Feedback[] = [];
  for (let i = 0; i < 12; i++) fbs.push(...step(0));
  t.is(dev.getMode(1).mode, MODE_LEARNING);
  t.is(dev.getStatus(1).baselineEff, 0, 'no reference');
  t.true(fbs.filter((f) => !f.applied).every((f) => (f.reasons & REASON_UNRELIABLE) !== 0));
  t.true(
    fbs.some((f) => f.applied && f.eff === 0.001),
    'an unreliable window still reports its eff',
  );
  dev.close();
});

test('a baseline changed by someone else is adopted: EMERGENCY (baseline), new def, reference restarts', (t) => {
  const { dev, step, changeBaseline } = scripted(() => 1_000_000);
  for (let i = 0; i < 4; i++) step(5);
  t.true(dev.getStatus(1).baselineEff > 0);
  changeBaseline([7.6]); // off the grid: rounded down to 7
  const [fb] = step(5);
  t.true((fb.reasons & REASON_UNRELIABLE) !== 0, 'the window of the change measured a mix');
  const st = dev.getStatus(1);
  t.is(st.mode, MODE_EMERGENCY);
  t.is(st.lastTransition, TRANS_BASELINE);
  t.false(st.pinned);
  t.is(st.baselineEff, 0);
  t.is(dev.listSubsystems()[0].knobs[0].def, 7);
  step(5);
  t.is(dev.readFeedback().length, 0);
  t.true(dev.getState(1).knobs[0] === 7, 'baseline windows now run the new default');
  // From EMERGENCY too, the transition is recorded.
  changeBaseline([3]);
  step(5);
  t.is(dev.getStatus(1).lastTransition, TRANS_BASELINE);
  dev.close();
});
