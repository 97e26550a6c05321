/**
 * The device conformance suite: properties of the mlproxy ABI that must hold on
 * every MlpDevice: IoctlDevice over the simulator's fake kernel (SimKernel behind the
 * byte-level system calls, test/conformance-sim.test.ts) and IoctlDevice on the real
 * module in the QEMU guest (test/vm/conformance.test.ts), the same codec in both.
 *
 * Timing: on a virtual clock the target supplies `clock` and the suite closes
 * windows itself; on the real device windows pass in real time, and the suite only
 * ever waits for epochs and records with generous timeouts, never asserting a
 * duration. Where a real-time race could legitimately change an outcome (a window
 * ending between two ioctls), the check is retried or keyed on the epochs the kernel
 * reports. A test that takes control (Harness.control) keeps its controller alive:
 * every wait heartbeats the subsystems it controls, so a slow (emulated, loaded)
 * guest cannot miss a heartbeat by accident; only the heartbeat test goes silent on
 * purpose. Knob values that run on the synthetic subsystem are kept in 4..6, which can
 * never collapse its landscape (so pinned modes stay put).
 *
 * The ladder (promotion, regression, pin, collapse) is tested on `selftest`, the
 * noiseless subsystem of mlproxy_selftest.ko (SimKernel's model of it on the
 * simulator): eff = base_eff + 50000 * x, so good and bad advice need no statistics.
 * Every record of a ladder test is checked against docs/abi.md's ladder replayed over
 * the records (./ladder.ts): the mode of every next window, not only the end state.
 */
import assert from 'node:assert/strict';
import {
  MODE_COLLABORATION,
  MODE_EMERGENCY,
  MODE_LEARNING,
  MODE_RECOMMENDATION,
  REASON_BASELINE_WINDOW,
  REASON_EMERGENCY,
  REASON_EXPIRED,
  REASON_GONE,
  REASON_OUT_OF_BOUNDS,
  REASON_RATE_LIMIT,
  REASON_STALE,
  REASON_STEP_LIMIT,
  TRANS_ADMIN,
  TRANS_CLOSED,
  TRANS_COLLAPSE,
  TRANS_HEARTBEAT,
  TRANS_PROMOTE,
  TRANS_RECOVER,
  TRANS_REGRESSION,
  VERDICT_APPLIED,
  VERDICT_CLAMPED,
  VERDICT_REJECTED,
  VERDICT_SHADOWED,
} from '../../src/abi/constants.js';
import {
  DeviceError,
  type Feedback,
  type MlpDevice,
  type ModeValue,
  type RecommendResult,
  type Recommendation,
  type Status,
  type SubsystemInfo,
} from '../../src/transport/device.js';
import {
  adviceScheduled,
  judge,
  rawEff,
  replayLadder,
  type LadderParams,
  type Replay,
} from './ladder.js';

/** The module parameters the suite depends on (the ladder's in LadderParams). */
export interface ConformanceParams extends LadderParams {
  /** Windows per phase of the synthetic landscape (docs/subsystems.md). */
  syntheticPeriod: number;
  heartbeatMs: number;
  maxEpochLag: number;
  ringRecords: number;
}

export interface ConformanceTarget {
  /** Opens a new privileged file of the device. */
  open(): MlpDevice | Promise<MlpDevice>;
  /** Opens a file without CAP_SYS_ADMIN, when the harness can; else EPERM is skipped. */
  openUnprivileged?: () => MlpDevice | Promise<MlpDevice>;
  /** A virtual clock; absent on the real device (the suite waits in real time). */
  clock?: {
    advanceWindows(subsysId: number, n: number): void;
    advanceMs(ms: number): void;
  };
  /** Module parameters in effect (defaults of the module where absent). */
  params?: Partial<ConformanceParams>;
  /** Extra real-time slack per wait (default 5000 ms). */
  slackMs?: number;
  /**
   * A second subsystem (not synthetic) the suite may unregister and register again,
   * for the GONE record and the registry generation; absent: those checks are skipped.
   */
  removable?: {
    name: string;
    remove(): void | Promise<void>;
    restore(): void | Promise<void>;
  };
}

const DEFAULTS: ConformanceParams = {
  learningPeriod: 10,
  checkPeriod: 16,
  syntheticPeriod: 100,
  heartbeatMs: 2000,
  emergencyHoldWindows: 10,
  maxEpochLag: 1,
  ringRecords: 256,
  promoteWindows: 8,
  promoteMarginPct: 2,
  demoteMarginPct: 5,
  collapsePct: 50,
};

/** selftest's eff at x = 0 (its base_eff; both targets load the default). */
const SELFTEST_BASE_EFF = 1000000;
/** selftest's raw efficiency at x, as the kernel reports it (clamped into [0, 10^15]). */
const selftestEff = (x: number) => Math.max(0, SELFTEST_BASE_EFF + 50000 * x);
/** Knob values of selftest for the ladder tests (their kinds are checked against the params). */
const X_GOOD = 2;
const X_REGRESSING = -2;
const X_COLLAPSING = -12;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Per-test helpers bound to a target. */
class Harness {
  readonly p: ConformanceParams;
  /** Controllers kept alive during waits: file -> subsystem ids (see control()). */
  private readonly alive = new Map<MlpDevice, Set<number>>();
  constructor(readonly target: ConformanceTarget) {
    this.p = { ...DEFAULTS, ...target.params };
  }

  /** Heartbeats every subsystem a test took control of through control(). */
  keepAlive(): void {
    for (const [dev, ids] of this.alive) {
      for (const id of ids) {
        try {
          dev.heartbeat(id);
        } catch {
          // closed, released or fallen meanwhile: the test's own checks decide
        }
      }
    }
  }

  /** Forgets the controllers of a file (it is closing). */
  forget(dev: MlpDevice): void {
    this.alive.delete(dev);
  }

  get slack(): number {
    return this.target.slackMs ?? 5000;
  }

  async synthetic(dev: MlpDevice): Promise<SubsystemInfo> {
    const s = dev.listSubsystems().find((x) => x.name === 'synthetic');
    if (!s) throw new Error('the device has no "synthetic" subsystem');
    return s;
  }

  /** Returns once at least n more windows of the subsystem have begun. */
  async windows(dev: MlpDevice, s: SubsystemInfo, n: number): Promise<void> {
    if (this.target.clock) return this.target.clock.advanceWindows(s.id, n);
    const target = dev.getState(s.id).epoch + n;
    const deadline = Date.now() + n * s.windowMs * 4 + this.slack;
    while (dev.getState(s.id).epoch < target) {
      if (Date.now() > deadline) throw new Error(`epoch ${target} did not come in time`);
      this.keepAlive();
      await sleep(Math.max(1, s.windowMs / 4));
    }
  }

  /**
   * Waits window by window (at most maxWindows) until cond() holds; returns whether it
   * did. Counts windows, not time, so a slow guest only makes it slower.
   */
  async until(
    dev: MlpDevice,
    s: SubsystemInfo,
    maxWindows: number,
    cond: () => boolean,
  ): Promise<boolean> {
    for (let i = 0; i < maxWindows; i++) {
      if (cond()) return true;
      await this.windows(dev, s, 1);
    }
    return cond();
  }

  /** Passes ms of (virtual or real) time. */
  async pass(ms: number): Promise<void> {
    if (this.target.clock) return this.target.clock.advanceMs(ms);
    await sleep(ms);
  }

  /** Collects this file's records of subsystem s until one for `epoch` (or later) arrives. */
  async feedbackThrough(dev: MlpDevice, s: SubsystemInfo, epoch: number): Promise<Feedback[]> {
    const out: Feedback[] = [];
    const deadline = Date.now() + this.slack * 2;
    for (;;) {
      const got = dev.readFeedback().filter((f) => f.subsysId === s.id);
      out.push(...got);
      if (out.some((f) => f.epoch >= epoch)) return out;
      if (Date.now() > deadline) throw new Error(`no feedback for epoch ${epoch} in time`);
      this.keepAlive();
      if (this.target.clock) this.target.clock.advanceWindows(s.id, 1);
      else out.push(...(await dev.waitFeedback(s.windowMs * 4)).filter((f) => f.subsysId === s.id));
    }
  }

  /**
   * Takes control, sets a pinned mode and lets one window end, so that no
   * recommendation left pending by an earlier test targets the next window; then
   * empties the file's ring.
   */
  async control(dev: MlpDevice, s: SubsystemInfo, mode: ModeValue, pin = true): Promise<void> {
    dev.claim(s.id);
    const ids = this.alive.get(dev) ?? new Set<number>();
    ids.add(s.id);
    this.alive.set(dev, ids);
    dev.setMode(s.id, mode, pin);
    await this.windows(dev, s, 1);
    // Older records go: a ring filled while a slow guest got here would drop the
    // records the test is about to wait for (a full ring drops the newest).
    dev.readFeedback();
  }

  /**
   * Returns with the window after the one in progress scheduled for advice (in
   * RECOMMENDATION every check_period-th window is a check window that runs the baseline).
   */
  async untilNextAdvice(dev: MlpDevice, s: SubsystemInfo): Promise<void> {
    for (let i = 0; i < 4 && !dev.getState(s.id).nextAdvice; i++) await this.windows(dev, s, 1);
  }

  rec(s: SubsystemInfo, epoch: number, level: number, extra: Partial<Recommendation> = {}) {
    return { subsysId: s.id, epoch, modelVersion: 1, propensity: 0.5, knobs: [level], ...extra };
  }

  /**
   * Runs an advice window with `level` so that it becomes the kernel's last advised
   * value (the reference of the step limit). Needs a mode that advises every window.
   */
  async establishLastAdvised(dev: MlpDevice, s: SubsystemInfo, level: number): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const st = dev.getState(s.id);
      const r = dev.recommend(this.rec(s, st.epoch, level));
      if (r.verdict !== VERDICT_APPLIED) {
        await this.windows(dev, s, 1);
        continue;
      }
      const fb = await this.feedbackThrough(dev, s, r.targetEpoch);
      if (fb.some((f) => f.epoch === r.targetEpoch && f.applied && f.knobs[0] === level)) return;
    }
    throw new Error(`could not run level ${level} in an advice window`);
  }

  /** The `selftest` subsystem, with the schema of docs/kernel-module.md. */
  selftest(dev: MlpDevice): SubsystemInfo {
    const s = dev.listSubsystems().find((x) => x.name === 'selftest');
    if (!s) {
      throw new Error(
        'the device has no "selftest" subsystem: load mlproxy_selftest.ko, or give SimKernel ' +
          'subsystems [..., "selftest"]',
      );
    }
    assert.deepEqual(s.knobs, [
      { name: 'x', unit: '', min: -12, max: 12, step: 2, def: 0, maxDelta: 24 },
    ]);
    return s;
  }

  /** How advice at selftest's x is judged against its baseline (x = 0), with these params. */
  kindOf(x: number): ReturnType<typeof judge> {
    return judge(selftestEff(x), selftestEff(0), selftestEff(0), this.p);
  }

  /** Keeps a controller alive in every wait from now on (control() does it too). */
  adopt(dev: MlpDevice, subsysId: number): void {
    const ids = this.alive.get(dev) ?? new Set<number>();
    ids.add(subsysId);
    this.alive.set(dev, ids);
  }

  /**
   * Runs the windows of a subsystem under control(): before every advice window it
   * recommends x (none: silent), after every window it collects the file's records,
   * until done(status, records) holds (at most maxWindows rounds). Returns the records,
   * through the window before the status' epoch, and whether they are complete
   * (consecutive, none lost to a full ring: else the caller samples again).
   */
  async drive(
    dev: MlpDevice,
    s: SubsystemInfo,
    x: number | undefined,
    maxWindows: number,
    what: string,
    done: (st: Status, records: Feedback[]) => boolean,
  ): Promise<{ records: Feedback[]; status: Status; complete: boolean }> {
    const records: Feedback[] = [];
    const collect = (fb: Feedback[]) => records.push(...fb.filter((f) => f.subsysId === s.id));
    const dropped = dev.getStatus(s.id).feedbackDropped;
    for (let i = 0; i < maxWindows; i++) {
      if (x !== undefined) {
        const st = dev.getState(s.id);
        if (st.nextAdvice) dev.recommend(this.rec(s, st.epoch, x));
      }
      await this.windows(dev, s, 1);
      collect(dev.readFeedback());
      const status = dev.getStatus(s.id);
      if (!done(status, records)) continue;
      if (!records.some((f) => f.epoch >= status.epoch - 1)) {
        collect(await this.feedbackThrough(dev, s, status.epoch - 1));
      }
      const epochs = records.map((f) => f.epoch);
      const complete =
        dev.getStatus(s.id).feedbackDropped === dropped &&
        epochs.every((e, j) => j === 0 || e === epochs[j - 1] + 1);
      return { records, status, complete };
    }
    throw new Error(
      `${what}: not reached within ${maxWindows} windows; status ${JSON.stringify(dev.getStatus(s.id))}`,
    );
  }

  /**
   * One ladder test's sample on selftest, taken again (at most 3 times) when the file
   * lost records: control() in `start`, drive() advising x until `until` holds (with the
   * ladder replayed over the records so far), replay the ladder over all the records
   * and check every one of them (checkLadder); `verify` asserts the rest, given the
   * status before the drive.
   */
  async ladderSample(
    dev: MlpDevice,
    o: {
      start: { mode: ModeValue; pinned: boolean };
      x: number;
      maxWindows: number;
      what: string;
      until: (st: Status, st0: Status, replay: Replay) => boolean;
    },
    verify: (run: { records: Feedback[]; status: Status }, replay: Replay, st0: Status) => void,
  ): Promise<void> {
    const s = this.selftest(dev);
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.control(dev, s, o.start.mode, o.start.pinned);
      const st0 = dev.getStatus(s.id);
      const run = await this.drive(dev, s, o.x, o.maxWindows, o.what, (st, records) => {
        // The replay needs the baseline window before the first advice (it always comes).
        if (records.length === 0 || records[0].applied) return false;
        return o.until(st, st0, replayLadder(records, this.p, o.start));
      });
      if (!run.complete) continue;
      const replay = replayLadder(run.records, this.p, o.start);
      this.checkLadder(run.records, replay, o.x);
      verify(run, replay, st0);
      return;
    }
    assert.fail(`${o.what}: every sample lost records`);
  }

  /**
   * Checks a ladder test's records of selftest, advised with x: every window ran x (advice,
   * only where its mode schedules advice) or the default 0 (the baseline), with exactly
   * selftest's efficiency, and the mode of every next window is the replayed ladder's.
   */
  checkLadder(records: readonly Feedback[], replay: Replay, x: number): void {
    for (const f of records) {
      if (f.applied) {
        assert.ok(
          adviceScheduled(f.mode, f.epoch, this.p),
          `advice ran in window ${f.epoch}, which mode ${f.mode} does not schedule`,
        );
        assert.equal(f.verdict, VERDICT_APPLIED, `verdict of advice window ${f.epoch}`);
        assert.deepEqual(f.knobs, [x], `knobs of advice window ${f.epoch}`);
        assert.equal(rawEff(f), selftestEff(x), `eff of advice window ${f.epoch}`);
      } else {
        assert.deepEqual(f.knobs, [0], `baseline window ${f.epoch} runs the default`);
        assert.equal(rawEff(f), selftestEff(0), `eff of baseline window ${f.epoch}`);
      }
      if (f.next) {
        assert.equal(
          f.next.mode,
          replay.next.get(f.epoch),
          `the mode after window ${f.epoch} (judgements ${JSON.stringify(replay.judgements)})`,
        );
      }
    }
  }
}

async function withDevices<T>(
  n: number,
  h: Harness,
  fn: (...devs: MlpDevice[]) => Promise<T>,
): Promise<T> {
  const devs: MlpDevice[] = [];
  try {
    for (let i = 0; i < n; i++) devs.push(await h.target.open());
    return await fn(...devs);
  } finally {
    for (const d of devs.reverse()) {
      h.forget(d);
      d.close();
    }
  }
}

/** Asserts that fn throws a DeviceError with one of the codes (and text in its message). */
function isDeviceError(fn: () => unknown, codes: string[], text?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DeviceError, `a DeviceError, got ${String(err)}`);
    assert.ok(codes.includes(err.code), `code ${err.code} is one of ${codes.join('/')}`);
    if (text) assert.match(err.message, text);
    return true;
  });
}

/**
 * Registers one test; the suite runs its tests in order, one at a time. Adapters:
 * ava `(name, fn) => test.serial(name, async (t) => { await fn(); t.pass(); })`,
 * node:test `(name, fn) => test(name, fn)`.
 */
export type RegisterTest = (name: string, fn: () => Promise<void>) => void;

export function conformanceSuite(
  register: RegisterTest,
  target: ConformanceTarget,
  title: string,
): void {
  const h = new Harness(target);
  const it = (name: string, fn: () => Promise<void>) => register(`${title}: ${name}`, fn);

  it('version handshake', async () => {
    await withDevices(1, h, async (dev) => {
      const v = dev.version();
      assert.equal(v.abiMajor, 1);
      assert.ok(v.compatible);
      assert.equal(v.maxSubsys, 16);
      assert.equal(v.maxFeatures, 16);
      assert.equal(v.maxKnobs, 8);
      assert.ok(v.ringRecords > 0);
      assert.equal(v.nrSubsys, dev.listSubsystems().length);
    });
  });

  it('listing: synthetic present with its documented schema; every schema sane', async () => {
    await withDevices(1, h, async (dev) => {
      const subs = dev.listSubsystems();
      assert.equal(new Set(subs.map((s) => s.id)).size, subs.length, 'ids unique');
      const syn = await h.synthetic(dev);
      assert.deepEqual(syn.knobs, [
        { name: 'level', unit: '', min: 0, max: 15, step: 1, def: 4, maxDelta: 8 },
      ]);
      assert.deepEqual(
        syn.features.map((f) => [f.name, f.unit, f.scale]),
        [
          ['load', 'permille', 1000],
          ['phase_hint', 'permille', 1000],
          ['last_eff', 'permille', 1000],
        ],
      );
      for (const s of subs) {
        assert.ok(s.name.length > 0 && s.windowMs > 0, `${s.name}: name and window`);
        assert.ok(s.knobs.length >= 1 && s.knobs.length <= 8, `${s.name}: 1..8 knobs`);
        for (const k of s.knobs) {
          assert.ok(k.step > 0 && k.min <= k.def && k.def <= k.max, `${s.name}.${k.name} bounds`);
          assert.equal((k.def - k.min) % k.step, 0, `${s.name}.${k.name} default on grid`);
        }
        for (const f of s.features) assert.ok(f.scale > 0, `${s.name}.${f.name} scale`);
      }
    });
  });

  it('get_state: epochs advance, shapes match the schema', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      const a = dev.getState(s.id);
      assert.equal(a.features.length, s.features.length);
      assert.equal(a.knobs.length, s.knobs.length);
      await h.windows(dev, s, 3);
      const b = dev.getState(s.id);
      assert.ok(b.epoch >= a.epoch + 3);
      assert.ok(b.timeNs > a.timeNs);
      assert.equal(b.subsysId, s.id);
    });
  });

  it('errors: unknown ids and bad values are refused clearly', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      const bad = 999;
      isDeviceError(() => dev.getState(bad), ['ENOENT', 'EINVAL'], /999/);
      isDeviceError(() => dev.getStatus(bad), ['ENOENT', 'EINVAL'], /999/);
      isDeviceError(() => dev.recommend(h.rec(s, 0, 5, { subsysId: bad })), ['ENOENT', 'EINVAL']);
      const st = dev.getState(s.id);
      isDeviceError(() => dev.recommend({ ...h.rec(s, st.epoch, 5), knobs: [5, 5] }), ['EINVAL']);
      isDeviceError(() => dev.recommend(h.rec(s, st.epoch + 1000, 5)), ['EINVAL']);
      assert.throws(() => dev.setMode(s.id, 7 as ModeValue, false), /7/);
    });
  });

  it('mode get/set/pin', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      dev.setMode(s.id, MODE_COLLABORATION, true);
      assert.deepEqual(dev.getMode(s.id), { mode: MODE_COLLABORATION, pinned: true });
      const st = dev.getStatus(s.id);
      assert.ok(st.pinned);
      assert.equal(st.lastTransition, TRANS_ADMIN);
      assert.equal(dev.getState(s.id).mode, MODE_COLLABORATION);
      dev.setMode(s.id, MODE_LEARNING, false);
      assert.deepEqual(dev.getMode(s.id), { mode: MODE_LEARNING, pinned: false });
    });
  });

  it('recommend: applied, then rate-limited, and its feedback shows it ran', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      await h.control(dev, s, MODE_RECOMMENDATION);
      let first;
      let second;
      for (let attempt = 0; attempt < 20; attempt++) {
        await h.untilNextAdvice(dev, s);
        const st = dev.getState(s.id);
        first = dev.recommend(h.rec(s, st.epoch, 5));
        second = dev.recommend(h.rec(s, st.epoch, 6));
        // Else a window ended between the calls, the target was a check window, or a
        // stalled caller missed two.
        if (
          second.targetEpoch === first.targetEpoch &&
          first.verdict !== VERDICT_SHADOWED &&
          first.reasons !== REASON_STALE
        ) {
          break;
        }
        await h.windows(dev, s, 1);
      }
      if (!first || !second) throw new Error('unreachable');
      assert.equal(first.verdict, VERDICT_APPLIED);
      assert.equal(first.reasons, 0);
      assert.deepEqual(first.applied, [5]);
      assert.ok(first.recId > 0);
      assert.equal(second.verdict, VERDICT_REJECTED);
      assert.equal(second.reasons, REASON_RATE_LIMIT);
      assert.ok(second.recId > 0 && second.recId !== first.recId);
      const fb = await h.feedbackThrough(dev, s, first.targetEpoch);
      const mine = fb.find((f) => f.epoch === first.targetEpoch);
      assert.ok(mine, 'a record for the target window');
      assert.equal(mine?.recId, first.recId);
      assert.ok(mine?.applied);
      assert.equal(mine?.verdict, VERDICT_APPLIED);
      assert.equal(mine?.mode, MODE_RECOMMENDATION);
      assert.equal(mine?.knobs[0], 5);
    });
  });

  it('recommend: stale epochs are rejected', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      await h.control(dev, s, MODE_RECOMMENDATION);
      await h.windows(dev, s, h.p.maxEpochLag + 2);
      const st = dev.getState(s.id);
      const r = dev.recommend(h.rec(s, st.epoch - h.p.maxEpochLag - 1, 5));
      assert.equal(r.verdict, VERDICT_REJECTED);
      assert.equal(r.reasons, REASON_STALE);
      assert.ok(r.recId > 0);
      assert.ok(r.targetEpoch > st.epoch);
    });
  });

  it('recommend: bounds and step limit clamp, or reject when strict', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      await h.control(dev, s, MODE_RECOMMENDATION);
      for (let attempt = 0; attempt < 20; attempt++) {
        await h.establishLastAdvised(dev, s, 4);
        await h.untilNextAdvice(dev, s);
        const st = dev.getState(s.id);
        const strictStep = dev.recommend(h.rec(s, st.epoch, 15, { strict: true }));
        const strictBounds = dev.recommend(h.rec(s, st.epoch, -1, { strict: true }));
        const clamped = dev.recommend(h.rec(s, st.epoch, 20));
        const stale = [strictStep, strictBounds, clamped].some((r) => r.reasons === REASON_STALE);
        if (
          clamped.targetEpoch !== strictStep.targetEpoch ||
          clamped.verdict === VERDICT_SHADOWED ||
          stale
        ) {
          // A window ended meanwhile (or the target was a check window, or a stalled
          // caller missed several): let the targets pass and try again.
          await h.windows(dev, s, 2);
          continue;
        }
        assert.equal(strictStep.verdict, VERDICT_REJECTED);
        assert.equal(strictStep.reasons, REASON_STEP_LIMIT);
        assert.equal(strictBounds.verdict, VERDICT_REJECTED);
        assert.equal(strictBounds.reasons, REASON_OUT_OF_BOUNDS);
        assert.equal(
          clamped.verdict,
          VERDICT_CLAMPED,
          'strict rejections do not use up the window',
        );
        assert.equal(clamped.reasons, REASON_OUT_OF_BOUNDS | REASON_STEP_LIMIT);
        assert.deepEqual(clamped.applied, [4 + 8], '20 -> 15 (bounds) -> 12 (max_delta 8 from 4)');
        const fb = await h.feedbackThrough(dev, s, clamped.targetEpoch);
        const mine = fb.find((f) => f.epoch === clamped.targetEpoch);
        assert.equal(mine?.verdict, VERDICT_CLAMPED);
        assert.equal(mine?.knobs[0], 12);
        return;
      }
      assert.fail('windows kept ending between the calls');
    });
  });

  it('recommend: shadowed in emergency', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      await h.control(dev, s, MODE_EMERGENCY);
      let r: RecommendResult | undefined;
      for (let attempt = 0; attempt < 10; attempt++) {
        const st = dev.getState(s.id);
        assert.equal(st.nextAdvice, false);
        r = dev.recommend(h.rec(s, st.epoch, 5));
        if (r.reasons !== REASON_STALE) break; // else a stalled caller missed two windows
      }
      if (!r) throw new Error('unreachable');
      assert.equal(r.verdict, VERDICT_SHADOWED);
      assert.ok((r.reasons & REASON_EMERGENCY) !== 0);
      const fb = await h.feedbackThrough(dev, s, r.targetEpoch);
      const mine = fb.find((f) => f.epoch === r.targetEpoch);
      assert.equal(mine?.recId, r.recId);
      assert.equal(mine?.applied, false);
      assert.equal(mine?.verdict, VERDICT_SHADOWED);
      assert.equal(mine?.knobs[0], 4, 'the baseline ran');
    });
  });

  for (const [mode, name] of [
    [MODE_LEARNING, 'learning'],
    [MODE_COLLABORATION, 'collaboration'],
  ] as const) {
    it(`${name}: advice exactly in the scheduled windows, shadowed in the others`, async () => {
      await withDevices(1, h, async (dev) => {
        const s = await h.synthetic(dev);
        const period = mode === MODE_LEARNING ? h.p.learningPeriod : 2;
        await h.control(dev, s, mode);
        const since = dev.getState(s.id).epoch; // the window in progress began in another mode
        dev.readFeedback();
        const results = new Map<number, { recId: number; verdict: number; reasons: number }>();
        let advised = 0;
        let shadowed = 0;
        const check = (records: Feedback[]) => {
          for (const f of records) {
            if (f.epoch <= since) continue;
            assert.equal(f.mode, mode);
            const r = results.get(f.epoch);
            // Under a slow (emulated) clock a scheduled window can pass with no
            // recommendation aimed at it; it then runs the baseline.
            if (f.applied) {
              assert.equal(f.epoch % period, 0, `advice ran in unscheduled window ${f.epoch}`);
              assert.ok(r, `advice ran in window ${f.epoch} that no recommendation targeted`);
            }
            if (!r) continue;
            assert.equal(f.applied, f.epoch % period === 0, `applied flag of window ${f.epoch}`);
            assert.equal(f.recId, r.recId);
            if (f.epoch % period === 0) {
              assert.equal(r.verdict, VERDICT_APPLIED);
              assert.equal(f.knobs[0], 5);
              advised++;
            } else {
              assert.equal(r.verdict, VERDICT_SHADOWED);
              assert.ok((r.reasons & REASON_BASELINE_WINDOW) !== 0);
              assert.equal(f.knobs[0], 4);
              shadowed++;
            }
          }
        };
        // Rounds of period + 3 windows until both kinds were seen: under a slow
        // (emulated) clock a scheduled window can pass before its recommendation.
        for (let round = 0; round < 6 && (advised === 0 || shadowed === 0); round++) {
          for (let i = 0; i < period + 3; i++) {
            const st = dev.getState(s.id);
            assert.equal(
              st.nextAdvice,
              (st.epoch + 1) % period === 0,
              `next_advice at ${st.epoch}`,
            );
            const r = dev.recommend(h.rec(s, st.epoch, 5));
            if (r.verdict !== VERDICT_REJECTED) results.set(r.targetEpoch, r);
            await h.windows(dev, s, 1);
          }
          check(await h.feedbackThrough(dev, s, Math.max(...results.keys())));
        }
        assert.ok(advised >= 1 && shadowed >= 1, `saw ${advised} advised, ${shadowed} shadowed`);
      });
    });
  }

  it('recommendation: every check_period-th window is a check window that runs the baseline', async () => {
    const period = h.p.checkPeriod;
    if (period === 0) return; // no check windows configured
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      await h.control(dev, s, MODE_RECOMMENDATION);
      const since = dev.getState(s.id).epoch;
      dev.readFeedback();
      const results = new Map<number, { recId: number; verdict: number; reasons: number }>();
      for (let i = 0; i < period + 3; i++) {
        const st = dev.getState(s.id);
        assert.equal(st.nextAdvice, (st.epoch + 1) % period !== 0, `next_advice at ${st.epoch}`);
        const r = dev.recommend(h.rec(s, st.epoch, 5));
        if (r.verdict !== VERDICT_REJECTED) results.set(r.targetEpoch, r);
        await h.windows(dev, s, 1);
      }
      const fb = await h.feedbackThrough(dev, s, Math.max(...results.keys()));
      let checks = 0;
      let advised = 0;
      for (const f of fb) {
        if (f.epoch <= since) continue;
        const r = results.get(f.epoch);
        if (f.epoch % period === 0) {
          assert.equal(f.applied, false, `check window ${f.epoch} ran advice`);
          assert.equal(f.knobs[0], 4, 'a check window runs the baseline');
          if (r) {
            assert.equal(r.verdict, VERDICT_SHADOWED);
            assert.ok((r.reasons & REASON_BASELINE_WINDOW) !== 0);
          }
          checks++;
        } else if (r) {
          assert.equal(f.applied, true, `advice window ${f.epoch}`);
          assert.equal(f.knobs[0], 5);
          advised++;
        }
      }
      assert.ok(checks >= 1 && advised >= 1, `saw ${checks} check windows, ${advised} advised`);
    });
  });

  it('paired judgement: a workload change between the baseline windows is neither regression nor collapse', async () => {
    // The synthetic phase 1 -> 2 boundary (opt 6 -> 13): the baseline (level 4) falls from
    // about 0.95 to 0.03. Advice at level 6 in the first window of phase 2 (about 0.41) is
    // below half of the baseline window before it, above the one after: against an
    // earlier-only reference it would look like a collapse. COLLABORATION (advice in even
    // windows), pinned: a collapse would still fall to EMERGENCY, nothing else moves.
    const period = h.p.syntheticPeriod;
    if (period % 2 !== 0) return; // the boundary must be an advice window of COLLABORATION
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      await h.control(dev, s, MODE_COLLABORATION);
      const tries: string[] = [];
      for (let attempt = 0; attempt < 6; attempt++) {
        const now = dev.getState(s.id).epoch;
        // The next window b with b % (4 * period) == 2 * period (phase 2 starts), at least 2 ahead.
        let b = now + 2 + ((2 * period - ((now + 2) % (4 * period)) + 4 * period) % (4 * period));
        if (b % 2 !== 0) b += 4 * period;
        // Wait for window b - 1, heartbeating so that the controller stays live, and
        // reading the ring: up to 4 * period windows pass, more than ring_records, and a
        // full ring drops the newest records, those of b - 1 .. b + 1 unless the caller
        // drains it before window b ends.
        while (dev.getState(s.id).epoch < b - 1) {
          dev.heartbeat(s.id);
          dev.readFeedback();
          await h.windows(dev, s, 1);
        }
        const st = dev.getState(s.id);
        if (st.epoch !== b - 1) {
          tries.push(`woke in window ${st.epoch}, after ${b - 1}`);
          continue; // missed the window before the boundary: next cycle
        }
        dev.readFeedback();
        const before = dev.getStatus(s.id);
        const r = dev.recommend(h.rec(s, st.epoch, 6));
        if (r.targetEpoch !== b || r.verdict !== VERDICT_APPLIED) {
          tries.push(`recommend for ${b}: verdict ${r.verdict} for window ${r.targetEpoch}`);
          continue;
        }
        const fb = await h.feedbackThrough(dev, s, b + 1);
        await h.windows(dev, s, 1);
        const after = dev.getStatus(s.id);
        if (after.heartbeatMisses !== before.heartbeatMisses) {
          // The caller stalled past heartbeat_ms (a slow guest): the fall is the
          // heartbeat's, and this try judges nothing. Back to COLLABORATION, pinned.
          tries.push(`a heartbeat was missed around window ${b}`);
          await h.control(dev, s, MODE_COLLABORATION);
          continue;
        }
        const adv = fb.find((f) => f.epoch === b);
        const prev = fb.find((f) => f.epoch === b - 1);
        const next = fb.find((f) => f.epoch === b + 1);
        const dropped = after.feedbackDropped - before.feedbackDropped;
        assert.ok(adv, `the record of window ${b} arrived (${dropped} records dropped)`);
        assert.ok(adv.applied && adv.knobs[0] === 6, 'the advice ran at the boundary');
        if (prev) {
          assert.ok(
            adv.eff < prev.eff * 0.5,
            `advice ${adv.eff} < half of the window before ${prev.eff}`,
          );
        }
        if (next) assert.ok(adv.eff > next.eff, `advice ${adv.eff} > the window after ${next.eff}`);
        assert.equal(after.mode, MODE_COLLABORATION, 'no fall');
        assert.equal(after.emergencies, before.emergencies, 'no collapse');
        assert.equal(after.pinned, true);
        return;
      }
      assert.fail(`could not place advice at the phase boundary in 6 tries: ${tries.join('; ')}`);
    });
  });

  it('recommend: a recommendation whose ttl passed before its window is expired', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      await h.control(dev, s, MODE_RECOMMENDATION);
      // The window ends between 0 and window_ms after the call; with ttl 1 ms it almost
      // always ends too late. Ten tries make a pass certain; a run that applied must
      // not have reported EXPIRED.
      for (let attempt = 0; attempt < 10; attempt++) {
        const st = dev.getState(s.id);
        const r = dev.recommend(h.rec(s, st.epoch, 5, { ttlMs: 1 }));
        if (r.verdict !== VERDICT_APPLIED) {
          // A check window shadows it, and its pending advice would rate-limit every
          // further try in the same window: the next try waits for the window to pass.
          await h.feedbackThrough(dev, s, r.targetEpoch);
          continue;
        }
        if (target.clock) target.clock.advanceMs(2);
        const fb = await h.feedbackThrough(dev, s, r.targetEpoch);
        const mine = fb.find((f) => f.epoch === r.targetEpoch);
        if (!mine) continue;
        if (!mine.applied) {
          assert.ok((mine.reasons & REASON_EXPIRED) !== 0);
          assert.equal(mine.recId, r.recId);
          assert.equal(mine.knobs[0], 4);
          assert.ok(dev.getStatus(s.id).recsExpired >= 1);
          return;
        }
        assert.equal(mine.reasons & REASON_EXPIRED, 0);
      }
      assert.fail('no recommendation expired in 10 tries');
    });
  });

  it('feedback: one record per window, consecutive epochs', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      const ids = dev.listSubsystems().map((x) => x.id);
      const dropped = () => ids.reduce((sum, id) => sum + dev.getStatus(id).feedbackDropped, 0);
      // A caller too slow to read loses records to a full ring (counted): then the
      // sample is taken again; consecutive epochs are asserted of a sample without loss.
      for (let attempt = 0; attempt < 10; attempt++) {
        const lost = dropped();
        dev.readFeedback();
        const start = dev.getState(s.id).epoch;
        const fb = (await h.feedbackThrough(dev, s, start + 5)).filter((f) => f.epoch > start);
        if (dropped() !== lost) continue;
        const epochs = fb.map((f) => f.epoch);
        for (let i = 1; i < epochs.length; i++) assert.equal(epochs[i], epochs[i - 1] + 1);
        for (const f of fb) {
          assert.equal(f.knobs.length, s.knobs.length);
          assert.ok(f.windowNs > 0);
          assert.ok(f.eff >= 0);
        }
        return;
      }
      assert.fail('every sample lost records to a full ring');
    });
  });

  it('feedback: a full ring drops the newest records and counts them', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      const ids = dev.listSubsystems().map((x) => x.id);
      const dropped = () => ids.reduce((sum, id) => sum + dev.getStatus(id).feedbackDropped, 0);
      const before = dropped();
      // Every subsystem's windows fill the ring; ring + 3 synthetic windows overfill it.
      await h.windows(dev, s, h.p.ringRecords + 3);
      // The ring is full: its records, then whatever windows end while it is drained
      // (a transport may read it in several read() calls).
      const records = dev.readFeedback();
      assert.ok(records.length >= h.p.ringRecords, `${records.length} records`);
      assert.ok(dropped() >= before + 3, 'drops are counted');
      const kept = records.slice(0, h.p.ringRecords);
      const epochs = kept.filter((f) => f.subsysId === s.id).map((f) => f.epoch);
      for (let i = 1; i < epochs.length; i++)
        assert.equal(epochs[i], epochs[i - 1] + 1, 'oldest kept');
      await h.windows(dev, s, 1);
      assert.ok(dev.readFeedback().length >= 1, 'records flow again once read');
    });
  });

  it('claim: a second file gets EBUSY until the first releases', async () => {
    await withDevices(2, h, async (a, b) => {
      const s = await h.synthetic(a);
      a.claim(s.id);
      assert.ok(a.getStatus(s.id).mine);
      const sb = b.getStatus(s.id);
      assert.ok(sb.controlled);
      assert.equal(sb.mine, false);
      isDeviceError(() => b.claim(s.id), ['EBUSY']);
      isDeviceError(() => b.heartbeat(s.id), ['EBUSY']);
      const st = b.getState(s.id);
      isDeviceError(() => b.recommend(h.rec(s, st.epoch, 5)), ['EBUSY']);
      a.heartbeat(s.id);
      a.release(s.id);
      b.claim(s.id);
      assert.ok(b.getStatus(s.id).mine);
    });
  });

  it('closing the controlling file falls to emergency', async () => {
    await withDevices(1, h, async (watcher) => {
      const s = await h.synthetic(watcher);
      const ctl = await target.open();
      try {
        ctl.claim(s.id);
        ctl.setMode(s.id, MODE_RECOMMENDATION, false);
      } finally {
        ctl.close();
      }
      assert.equal(watcher.getMode(s.id).mode, MODE_EMERGENCY);
      const st = watcher.getStatus(s.id);
      assert.equal(st.controlled, false);
      assert.equal(st.lastTransition, TRANS_CLOSED);
    });
  });

  it('heartbeat: a silent controller falls to emergency; a live one recovers after emergency_hold_windows', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      dev.claim(s.id);
      const hold = Math.max(1, h.p.emergencyHoldWindows);
      for (let attempt = 0; attempt < 3; attempt++) {
        h.forget(dev); // silent from here
        dev.setMode(s.id, MODE_LEARNING, false);
        const before = dev.getStatus(s.id);
        await h.pass(h.p.heartbeatMs + s.windowMs);
        await h.windows(dev, s, 2);
        let st = dev.getStatus(s.id);
        assert.equal(st.mode, MODE_EMERGENCY);
        assert.equal(st.lastTransition, TRANS_HEARTBEAT);
        assert.equal(st.heartbeatMisses, before.heartbeatMisses + 1);
        assert.equal(st.emergencies, before.emergencies + 1);
        assert.equal(st.heartbeatOk, false);
        // A live controller: EMERGENCY holds emergency_hold_windows windows, counted from
        // the one in progress at the heartbeat (every earlier one ended without one).
        const e1 = dev.getState(s.id).epoch;
        dev.heartbeat(s.id);
        const e2 = dev.getState(s.id).epoch;
        assert.ok(dev.getStatus(s.id).heartbeatOk);
        h.adopt(dev, s.id);
        // Counted in windows with a margin, never in time (a stalled guest only waits longer).
        await h.until(dev, s, hold + 20, () => dev.getMode(s.id).mode === MODE_LEARNING);
        st = dev.getStatus(s.id);
        // A caller stalled longer than heartbeat_ms missed another heartbeat: sample again.
        if (st.heartbeatMisses !== before.heartbeatMisses + 1) continue;
        assert.equal(st.mode, MODE_LEARNING);
        assert.equal(st.lastTransition, TRANS_RECOVER);
        assert.ok(
          st.lastTransitionEpoch >= e1 + hold - 1 && st.lastTransitionEpoch <= e2 + hold - 1,
          `recovered at the end of window ${st.lastTransitionEpoch}: ${hold} live windows from ${e1}..${e2}`,
        );
        return;
      }
      assert.fail('every sample missed a second heartbeat');
    });
  });

  it('ladder: good advice promotes LEARNING -> COLLABORATION -> RECOMMENDATION, on schedule', async () => {
    await withDevices(1, h, async (dev) => {
      assert.equal(h.kindOf(X_GOOD), 'good', `x = ${X_GOOD} is good advice with these margins`);
      await h.ladderSample(
        dev,
        {
          start: { mode: MODE_LEARNING, pinned: false },
          x: X_GOOD,
          maxWindows: h.p.promoteWindows * (h.p.learningPeriod + 2) * 3 + 50,
          what: 'two promotions',
          until: (st, st0) => st.promotions >= st0.promotions + 2,
        },
        ({ records, status: st }, replay, st0) => {
          assert.ok(
            replay.judgements.every((j) => j.kind === 'good'),
            'every judgement is good',
          );
          assert.deepEqual(
            replay.transitions.map((x) => [x.from, x.to, x.why]),
            [
              [MODE_LEARNING, MODE_COLLABORATION, TRANS_PROMOTE],
              [MODE_COLLABORATION, MODE_RECOMMENDATION, TRANS_PROMOTE],
            ],
          );
          // On schedule: each promotion at the end of the baseline window that closed the
          // promote_windows-th good judgement in its mode.
          for (const [i, t] of replay.transitions.entries()) {
            const inMode = replay.judgements.filter((j) => j.mode === t.from);
            assert.equal(inMode[h.p.promoteWindows - 1]?.epoch, t.epoch, `promotion ${i + 1}`);
          }
          assert.ok(records.some((f) => f.applied && f.mode === MODE_LEARNING));
          assert.ok(records.some((f) => f.applied && f.mode === MODE_COLLABORATION));
          assert.equal(st.promotions, st0.promotions + 2);
          assert.equal(st.mode, MODE_RECOMMENDATION);
          assert.equal(st.lastTransition, TRANS_PROMOTE);
          assert.equal(st.lastTransitionEpoch, replay.transitions[1].epoch);
          assert.equal(st.demotions, st0.demotions);
          assert.equal(st.emergencies, st0.emergencies);
          assert.equal(
            st.windows,
            st.modeWindows.reduce((a, b) => a + b, 0),
            'every window counted in its mode',
          );
        },
      );
    });
  });

  it('ladder: unpinned, a regression demotes one step (RECOMMENDATION -> COLLABORATION -> LEARNING, no lower)', async () => {
    await withDevices(1, h, async (dev) => {
      assert.ok(h.p.checkPeriod > 0, 'RECOMMENDATION judges advice only with check windows');
      assert.equal(h.kindOf(X_REGRESSING), 'regression', `x = ${X_REGRESSING} regresses`);
      await h.ladderSample(
        dev,
        {
          start: { mode: MODE_RECOMMENDATION, pinned: false },
          x: X_REGRESSING,
          maxWindows: (h.p.checkPeriod + h.p.learningPeriod + 8) * 3 + 50,
          // Two demotions, then one more regression judged in LEARNING.
          what: 'two demotions and a regression in LEARNING',
          until: (st, st0, replay) =>
            st.demotions >= st0.demotions + 2 &&
            replay.judgements.some((j) => j.mode === MODE_LEARNING),
        },
        ({ records, status: st }, replay, st0) => {
          assert.ok(replay.judgements.every((j) => j.kind === 'regression'));
          assert.deepEqual(
            replay.transitions.map((x) => [x.from, x.to, x.why]),
            [
              [MODE_RECOMMENDATION, MODE_COLLABORATION, TRANS_REGRESSION],
              [MODE_COLLABORATION, MODE_LEARNING, TRANS_REGRESSION],
            ],
          );
          // Judged at the first baseline window after the advice: in RECOMMENDATION the
          // next check window, unless an earlier window had no advice to run (none was
          // recommended for it in time, or it expired).
          const first = replay.judgements[0];
          assert.equal(first.epoch, replay.transitions[0].epoch, 'the first judgement demotes');
          if (first.epoch % h.p.checkPeriod !== 0) {
            const f = records.find((x) => x.epoch === first.epoch);
            assert.ok(
              f && (f.recId === 0 || (f.reasons & REASON_EXPIRED) !== 0),
              `window ${first.epoch} ran the baseline for want of advice`,
            );
          }
          assert.equal(st.demotions, st0.demotions + 2);
          assert.equal(st.mode, MODE_LEARNING);
          assert.equal(st.pinned, false);
          assert.equal(st.lastTransition, TRANS_REGRESSION);
          assert.equal(st.lastTransitionEpoch, replay.transitions[1].epoch);
          assert.equal(st.goodStreak, 0);
          assert.equal(st.emergencies, st0.emergencies, 'a regression is no fall');
        },
      );
    });
  });

  it('ladder: a pinned mode ignores regressions', async () => {
    await withDevices(1, h, async (dev) => {
      await h.ladderSample(
        dev,
        {
          start: { mode: MODE_RECOMMENDATION, pinned: true },
          x: X_REGRESSING,
          maxWindows: (h.p.checkPeriod + 2) * 3 * 3 + 50,
          what: 'three regressions',
          until: (_st, _st0, replay) => replay.judgements.length >= 3,
        },
        ({ status: st }, replay, st0) => {
          assert.ok(replay.judgements.length >= 3);
          assert.ok(replay.judgements.every((j) => j.kind === 'regression'));
          assert.deepEqual(replay.transitions, [], 'the mode stays');
          assert.deepEqual([st.mode, st.pinned], [MODE_RECOMMENDATION, true]);
          assert.equal(st.demotions, st0.demotions);
          assert.equal(st.transitions, st0.transitions);
          assert.equal(st.lastTransition, TRANS_ADMIN);
          assert.equal(st.goodStreak, 0);
        },
      );
    });
  });

  for (const [mode, name] of [
    [MODE_LEARNING, 'LEARNING'],
    [MODE_COLLABORATION, 'COLLABORATION'],
    [MODE_RECOMMENDATION, 'RECOMMENDATION'],
  ] as const) {
    it(`ladder: a collapse falls from pinned ${name} to EMERGENCY, clears the pin, when the baseline window after the advice ends`, async () => {
      await withDevices(1, h, async (dev) => {
        assert.equal(h.kindOf(X_COLLAPSING), 'collapse', `x = ${X_COLLAPSING} collapses`);
        if (mode === MODE_RECOMMENDATION) {
          assert.ok(h.p.checkPeriod > 0, 'RECOMMENDATION judges advice only with check windows');
        }
        await h.ladderSample(
          dev,
          {
            start: { mode, pinned: true },
            x: X_COLLAPSING,
            maxWindows: (Math.max(h.p.learningPeriod, h.p.checkPeriod) + 2) * 3 + 50,
            what: 'collapse',
            until: (st, st0) => st.emergencies >= st0.emergencies + 1,
          },
          ({ records, status: st }, replay, st0) => {
            const [fall, ...later] = replay.transitions;
            assert.deepEqual(
              [fall?.from, fall?.to, fall?.why],
              [mode, MODE_EMERGENCY, TRANS_COLLAPSE],
            );
            assert.deepEqual(
              replay.judgements.map((j) => j.kind),
              ['collapse'],
            );
            // Paired judgement: not at the advice's own end, at the end of the baseline
            // window after it.
            const advice = records.filter((f) => f.applied && f.epoch < fall.epoch).at(-1);
            assert.ok(advice, 'the collapsing advice ran');
            assert.equal(
              fall.epoch,
              advice.epoch + 1,
              'judged when the baseline window after it ended',
            );
            assert.equal(advice.next?.mode, mode, 'not judged at its own end');
            for (const f of records.filter(
              (x) => x.epoch > fall.epoch && x.mode === MODE_EMERGENCY,
            )) {
              assert.equal(f.applied, false, `no advice runs in EMERGENCY (window ${f.epoch})`);
            }
            assert.equal(st.emergencies, st0.emergencies + 1);
            assert.equal(st.pinned, false, 'a safety fall clears the pin');
            if (later.length === 0) {
              assert.equal(st.mode, MODE_EMERGENCY);
              assert.equal(st.lastTransition, TRANS_COLLAPSE);
              assert.equal(st.lastTransitionEpoch, fall.epoch);
              assert.equal(st.transitions, st0.transitions + 1);
            } else {
              // A slow caller saw the status only after the hold had passed: it recovered.
              assert.deepEqual(
                later.map((x) => [x.from, x.to, x.why]),
                [[MODE_EMERGENCY, MODE_LEARNING, TRANS_RECOVER]],
              );
              assert.equal(st.lastTransition, TRANS_RECOVER);
            }
          },
        );
      });
    });
  }

  it('ladder: advice exactly as good as the baseline is neither good nor bad: nothing moves', async () => {
    await withDevices(1, h, async (dev) => {
      assert.equal(h.kindOf(0), 'neither');
      await h.ladderSample(
        dev,
        {
          start: { mode: MODE_LEARNING, pinned: false },
          x: 0,
          maxWindows: (h.p.learningPeriod + 2) * 3 * 3 + 50,
          what: 'three judgements',
          until: (_st, _st0, replay) => replay.judgements.length >= 3,
        },
        ({ status: st }, replay, st0) => {
          assert.ok(replay.judgements.every((j) => j.kind === 'neither'));
          assert.deepEqual(replay.transitions, []);
          assert.equal(st.mode, MODE_LEARNING);
          assert.equal(st.transitions, st0.transitions);
          assert.equal(st.goodStreak, 0);
        },
      );
    });
  });

  it('SET_MODE: an admin transition (counted when the mode stays) that restarts the streak; the ladder may leave it', async () => {
    await withDevices(1, h, async (dev) => {
      assert.ok(h.p.checkPeriod > 0, 'RECOMMENDATION judges advice only with check windows');
      const s = h.selftest(dev);
      await h.control(dev, s, MODE_LEARNING, false);
      if (h.p.promoteWindows >= 3) {
        // A streak of good advice, short of a promotion; then silence until it is judged.
        await h.drive(
          dev,
          s,
          X_GOOD,
          (h.p.learningPeriod + 2) * 3 + 50,
          'a good streak',
          (st) => st.goodStreak >= 1,
        );
        await h.windows(dev, s, h.p.learningPeriod + 2);
        const st1 = dev.getStatus(s.id);
        assert.equal(st1.mode, MODE_LEARNING);
        assert.ok(
          st1.goodStreak >= 1 && st1.goodStreak < h.p.promoteWindows,
          `streak ${st1.goodStreak}`,
        );
        const e1 = dev.getState(s.id).epoch;
        dev.setMode(s.id, MODE_LEARNING, false);
        const e2 = dev.getState(s.id).epoch;
        const st2 = dev.getStatus(s.id);
        assert.equal(st2.transitions, st1.transitions + 1, 'counted though the mode stays');
        assert.equal(st2.lastTransition, TRANS_ADMIN);
        assert.ok(st2.lastTransitionEpoch >= e1 && st2.lastTransitionEpoch <= e2);
        assert.equal(st2.goodStreak, 0, 'the streak restarts');
        assert.deepEqual(dev.getMode(s.id), { mode: MODE_LEARNING, pinned: false });
      }
      dev.setMode(s.id, MODE_RECOMMENDATION, false);
      const st3 = dev.getStatus(s.id);
      assert.equal(st3.mode, MODE_RECOMMENDATION);
      assert.equal(st3.lastTransition, TRANS_ADMIN);
      const run = await h.drive(
        dev,
        s,
        X_REGRESSING,
        (h.p.checkPeriod + 4) * 3 + 50,
        'a regression',
        (st) => st.demotions > st3.demotions,
      );
      assert.equal(run.status.mode, MODE_COLLABORATION, 'the ladder left the admin mode');
      assert.equal(run.status.lastTransition, TRANS_REGRESSION);
    });
  });

  it('feedback: each record carries the state of the window that began as it ended', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      const start = dev.getState(s.id).epoch;
      for (const f of await h.feedbackThrough(dev, s, start + 3)) {
        assert.ok(f.next, `record ${f.epoch} has the next state`);
        assert.equal(f.next.epoch, f.epoch + 1);
        assert.equal(f.next.subsysId, s.id);
        assert.equal(f.next.features.length, s.features.length);
        assert.equal(f.next.knobs.length, s.knobs.length);
      }
      // It is what GET_STATE says while that window is in progress.
      for (let attempt = 0; attempt < 20; attempt++) {
        dev.readFeedback();
        const f = (await h.feedbackThrough(dev, s, dev.getState(s.id).epoch)).at(-1);
        const st = dev.getState(s.id);
        if (!f?.next || st.epoch !== f.epoch + 1) continue; // another window ended meanwhile
        assert.equal(f.next.mode, st.mode);
        assert.equal(f.next.nextAdvice, st.nextAdvice);
        assert.deepEqual(f.next.features, st.features);
        assert.deepEqual(f.next.knobs, st.knobs);
        assert.equal(f.next.baselineEff, st.baselineEff);
        return;
      }
      assert.fail('windows kept ending between the read and GET_STATE');
    });
  });

  it('parking: no window runs while no file is open; the first open goes on', async () => {
    // Judged from the records' own epochs and times, so that no stall of the caller can
    // pass for a park: windows that ran while a stalled caller held the file count both
    // in time and in epochs; ten windows of parked time count in time only.
    let last: Feedback | undefined;
    let s: SubsystemInfo | undefined;
    await withDevices(1, h, async (dev) => {
      s = await h.synthetic(dev);
      last = (await h.feedbackThrough(dev, s, dev.getState(s.id).epoch)).at(-1);
    });
    if (!s || !last) throw new Error('no record before the park');
    await h.pass(s.windowMs * 10);
    await withDevices(1, h, async (dev) => {
      if (!s || !last) throw new Error('unreachable');
      // The first record after the open is of the first window after the park.
      const first = (await h.feedbackThrough(dev, s, 0))[0];
      assert.ok(first.epoch > last.epoch, 'the epochs go on');
      const ran = first.epoch - last.epoch - 1; // windows that ran (or were abandoned) between
      const windowNs = s.windowMs * 1e6;
      const elapsed = (first.windowStartNs - (last.windowStartNs + last.windowNs)) / windowNs;
      assert.ok(
        elapsed - ran >= 5,
        `${ran} windows in ${elapsed.toFixed(1)} windows' time: the parked time ran windows`,
      );
      await h.windows(dev, s, 2); // and they run again
    });
  });

  it('subscription: a file gets only the records of the subsystems it asked for', async () => {
    await withDevices(1, h, async (dev) => {
      const s = await h.synthetic(dev);
      dev.subscribe([s.id]);
      dev.readFeedback();
      await h.windows(dev, s, 3);
      const mine = dev.readFeedback();
      assert.ok(mine.length >= 2, `${mine.length} records in 3 windows`);
      assert.deepEqual([...new Set(mine.map((f) => f.subsysId))], [s.id]);
      dev.subscribe([0xfffffff0]); // an id nobody has: nothing at all
      dev.readFeedback();
      await h.windows(dev, s, 3);
      assert.deepEqual(dev.readFeedback(), []);
      dev.subscribe([]); // every subsystem again
      await h.windows(dev, s, 2);
      assert.ok(dev.readFeedback().some((f) => f.subsysId === s.id));
    });
  });

  it('a subsystem that goes away sends a last GONE record; the generation moves', async () => {
    const r = target.removable;
    if (!r) return; // the target cannot unregister a subsystem
    await withDevices(1, h, async (dev) => {
      const before = dev.version().generation;
      const info = dev.listSubsystems().find((x) => x.name === r.name);
      assert.ok(info, `${r.name} is registered`);
      dev.subscribe([info.id]);
      dev.readFeedback();
      await r.remove();
      const gone = dev.readFeedback().filter((f) => f.subsysId === info.id);
      assert.ok(gone.length >= 1, 'a record for the subsystem that went away');
      const last = gone[gone.length - 1];
      assert.equal(last.reasons & REASON_GONE, REASON_GONE, 'its last record is GONE');
      assert.equal(last.next, undefined);
      assert.equal(gone.filter((f) => f.reasons & REASON_GONE).length, 1);
      assert.equal(dev.version().generation, before + 1);
      assert.ok(!dev.listSubsystems().some((x) => x.name === r.name));
      isDeviceError(() => dev.getState(info.id), ['ENOENT']);
      await r.restore();
      // At least the registration (a module's own init may (un)register others too).
      assert.ok(dev.version().generation >= before + 2, 'the registration moved it again');
      const back = dev.listSubsystems().find((x) => x.name === r.name);
      assert.ok(back && back.id !== info.id, 'registered again, under a new id');
      const fresh = dev.getStatus(back.id);
      assert.equal(fresh.mode, MODE_EMERGENCY, 'a subsystem starts in EMERGENCY');
      assert.equal(fresh.controlled, false);
      assert.equal(fresh.pinned, false);
    });
  });

  it('permissions: control needs CAP_SYS_ADMIN, reading does not', async () => {
    if (!target.openUnprivileged) return; // the harness cannot drop CAP_SYS_ADMIN here
    const dev = await target.openUnprivileged();
    try {
      const s = await h.synthetic(dev);
      const st = dev.getState(s.id);
      assert.ok(dev.getStatus(s.id).epoch >= st.epoch);
      isDeviceError(() => dev.recommend(h.rec(s, st.epoch, 5)), ['EPERM'], /CAP_SYS_ADMIN/);
      isDeviceError(() => dev.setMode(s.id, MODE_LEARNING, false), ['EPERM']);
      isDeviceError(() => dev.claim(s.id), ['EPERM']);
      isDeviceError(() => dev.heartbeat(s.id), ['EPERM']);
    } finally {
      dev.close();
    }
  });
}
