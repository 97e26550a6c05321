import test from 'ava';
import { REASON_IDLE, REASON_UNRELIABLE } from '../src/abi/constants.js';
import { settingsFor, loadConfig } from '../src/config/load.js';
import { ArmGrid } from '../src/loop/arms.js';
import { contextDimension, contextOf, rewardFrom } from '../src/loop/features.js';
import { PAIR_GAP, WindowPairing } from '../src/loop/pairing.js';
import type { SameWorkload } from '../src/loop/pairing.js';
import { profileFor } from '../src/loop/profiles.js';
import type { Feedback, SubsystemInfo } from '../src/transport/device.js';
import { simDevice } from '../src/transport/sim/fake-kernel.js';
import { simulate } from '../demo/simulate.js';

const rec = (epoch: number, applied: boolean, eff: number, reasons = 0): Feedback => ({
  subsysId: 1,
  recId: applied ? epoch : 0,
  epoch,
  windowStartNs: epoch * 1e8,
  windowNs: 1e8,
  mode: 1,
  applied,
  verdict: applied ? 1 : 0,
  reasons,
  baselineEff: 0,
  eff,
  knobs: [applied ? 12 : 7],
});

/** Feeds records and resolves after each, as the learner does; returns what was paired. */
function feed(p: WindowPairing, recs: Feedback[], similar?: SameWorkload) {
  const paired: [number, number, string][] = [];
  const unpaired: number[] = [];
  for (const r of recs) {
    p.take(r);
    const out = p.resolve(similar);
    paired.push(
      ...out.paired.map((x) => [x.fb.epoch, x.reference, x.how] as [number, number, string]),
    );
    unpaired.push(...out.unpaired.map((x) => x.epoch));
  }
  return { paired, unpaired };
}

test('pairing (the kernel rule): advice windows against the mean of the baseline windows around them', (t) => {
  const r = feed(new WindowPairing(), [
    rec(0, false, 10),
    rec(1, true, 30),
    rec(2, true, 32),
    rec(3, false, 14),
  ]);
  t.deepEqual(r.paired, [
    [1, 12, 'both'],
    [2, 12, 'both'],
  ]);
});

test('pairing: idle and unreliable windows are skipped; a baseline too far away pairs nothing', (t) => {
  const p = new WindowPairing();
  const r = feed(p, [
    rec(0, false, 10),
    rec(1, false, 0, REASON_IDLE),
    rec(2, true, 5, REASON_UNRELIABLE),
    rec(3, true, 30),
    rec(4, false, 12),
  ]);
  t.deepEqual(r.paired, [[3, 11, 'both']], 'the unreliable advice window is not paired');
  // A pause: idle windows 5..10, advice at 11: the last baseline window (4) is too far.
  const idle = Array.from({ length: 6 }, (_, i) => rec(5 + i, false, 0, REASON_IDLE));
  const far = feed(p, [...idle, rec(11, true, 30), rec(12, false, 12)]);
  t.deepEqual(far.paired, []);
  t.deepEqual(far.unpaired, [11]);
  t.true(11 - 4 > PAIR_GAP);
});

test('pairing with contexts: the nearest baseline window of the same workload, before (at once) or after', (t) => {
  // Windows 0..4 sequential, 5.. mmap; the workload of each window is known right away here.
  const kind = (e: number) => (e < 5 ? 'seq' : 'mmap');
  const similar: SameWorkload = (a, b) => kind(a) === kind(b);
  const p = new WindowPairing();
  const r = feed(
    p,
    [rec(0, false, 12), rec(1, true, 36), rec(2, true, 38), rec(3, true, 37), rec(4, true, 36)],
    similar,
  );
  t.deepEqual(
    r.paired.map(([e, ref, how]) => [e, ref, how]),
    [
      [1, 12, 'before'],
      [2, 12, 'before'],
      [3, 12, 'before'],
      [4, 12, 'before'],
    ],
    'rewarded at once, against the sequential baseline before them',
  );
  // The workload changes at 5: advice windows 5..6 wait for the mmap baseline window 7.
  const m = feed(p, [rec(5, true, 0.39), rec(6, true, 0.4), rec(7, false, 0.41)], similar);
  t.deepEqual(m.paired, [
    [5, 0.41, 'after'],
    [6, 0.41, 'after'],
  ]);
  // Not known yet: wait.
  const q = new WindowPairing();
  q.take(rec(0, false, 10));
  q.take(rec(1, true, 20));
  t.deepEqual(
    q.resolve(() => undefined),
    { paired: [], unpaired: [] },
  );
});

test('rewards: 0.5 is the baseline; the log ratio tells 2x from 3x and 1/4 from 1/10', (t) => {
  t.is(rewardFrom(10, 10, 'log-ratio'), 0.5);
  t.is(rewardFrom(20, 10, 'log-ratio'), 0.75);
  t.true(rewardFrom(30, 10, 'log-ratio')! > rewardFrom(20, 10, 'log-ratio')!);
  t.is(rewardFrom(2.5, 10, 'log-ratio'), 0);
  t.is(rewardFrom(0, 10, 'log-ratio'), 0);
  t.is(rewardFrom(100, 10, 'log-ratio'), 1);
  t.is(rewardFrom(30, 10, 'ratio'), 1, 'the ratio saturates at 2x');
  t.is(rewardFrom(5, 0, 'log-ratio'), 1, 'better than a baseline that delivered nothing');
  t.is(rewardFrom(0, 0, 'ratio'), 0.5);
  t.is(rewardFrom(Number.NaN, 1, 'ratio'), undefined);
});

test('readahead profile: two context features, arms 128 KiB, 512 KiB, 1 MiB, the default among them', (t) => {
  const info = simDevice({ kernelOptions: { subsystems: ['readahead'] } }).listSubsystems()[0];
  const p = profileFor(info);
  t.deepEqual(
    p.features!.map((i) => info.features[i].name),
    ['seq_read_share', 'fault_share'],
  );
  t.deepEqual(p.values, [[7, 9, 10]]);
  t.is(p.reward, 'log-ratio');
  t.is(contextDimension(info, p), 3);
  const grid = new ArmGrid(info.knobs, 256, p.values);
  t.deepEqual(grid.arms, [[7], [9], [10]]);
  t.is(grid.baselineArm, 0);
  const x = contextOf(
    info,
    { ...stateOf(info), features: info.features.map((f) => (f.name === 'fault_share' ? 1000 : 0)) },
    p,
  );
  t.deepEqual(Array.from(x), [0, Math.tanh(1), 1]);
  // An administrator's 256 KiB (def 8) becomes an arm too; a foreign schema gets the default profile.
  const def8 = { ...info, knobs: [{ ...info.knobs[0], def: 8 }] };
  t.deepEqual(profileFor(def8).values, [[7, 8, 9, 10]]);
  t.is(profileFor({ ...info, name: 'other' }).features, null);
  t.throws(() => new ArmGrid(info.knobs, 256, [[4, 5.5]]), { message: /not on its grid/ });
  t.throws(() => new ArmGrid(info.knobs, 256, [[4, 12]]), { message: /include the default 7/ });
});

function stateOf(info: SubsystemInfo) {
  return {
    subsysId: info.id,
    epoch: 0,
    timeNs: 0,
    mode: 0 as const,
    nextAdvice: false,
    features: info.features.map(() => 0),
    knobs: info.knobs.map((k) => k.def),
    baselineEff: 0,
  };
}

test('readahead config: built-in settings under the subsystem entry, over the defaults', (t) => {
  const cfg = loadConfig(undefined, { stateDir: '/tmp/s', logDir: '/tmp/l' });
  const ra = settingsFor(cfg, 'readahead')!;
  t.is(ra.policy, 'linucb:alpha=0.6');
  t.is(ra.conservative, false);
  t.is(ra.safety.maxStep, 0);
  t.is(
    settingsFor(cfg, 'synthetic')!.policy,
    cfg.defaults.policy,
    'other subsystems: the defaults',
  );
  cfg.subsystems = [{ name: 'readahead', policy: 'ucb1' }];
  t.is(settingsFor(cfg, 'readahead')!.policy, 'ucb1', "the subsystem's entry wins");
  t.is(settingsFor(cfg, 'readahead')!.safety.maxStep, 0);
});

test('the daemon learns read-ahead on the simulated cloud-small disk: near the best setting of each phase within a few windows', async (t) => {
  // Virtual time, the model's phases of 30..120 windows (sequential, random mmap, mixed),
  // the demo's ladder parameters; deterministic for the seeds.
  const phases = (
    await Promise.all(
      [1, 2].map((seed) =>
        simulate({
          policy: '',
          conservative: false,
          seed,
          windows: 2000,
          windowMs: 100,
          params: {
            learningPeriod: 4,
            promoteWindows: 3,
            emergencyHoldWindows: 2,
            checkPeriod: 32,
          },
        }),
      ),
    )
  ).flat();
  const share = (kind: string) => {
    const ph = phases.filter((p) => p.kind === kind);
    return (
      ph.reduce((a, p) => a + p.mibs * p.windows, 0) /
      ph.reduce((a, p) => a + p.best * p.windows, 0)
    );
  };
  t.true(share('sequential') >= 0.8, `sequential: ${share('sequential')} of the best`);
  t.true(share('mixed') >= 0.8, `mixed: ${share('mixed')} of the best`);
  t.true(share('random') >= 0.9, `random: ${share('random')} of the best (the default's)`);
  const settled = phases.filter((p) => p.settle !== null && p.settle <= 10).length;
  t.true(
    settled >= 0.8 * phases.length,
    `${settled} of ${phases.length} phases settled within 10 windows`,
  );
});
