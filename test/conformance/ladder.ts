/**
 * The conformance suite's oracle for the mode ladder: docs/abi.md's "Advice schedule"
 * and "The mode ladder", replayed over the records a file received, so that a ladder
 * test can say of every window which mode the next one must run in, whatever the
 * device and however slowly the caller kept up. It is the specification's text as
 * a test: written from docs/abi.md, not from either device's code.
 */
import {
  MODE_COLLABORATION,
  MODE_EMERGENCY,
  MODE_LEARNING,
  MODE_RECOMMENDATION,
  REASON_IDLE,
  REASON_UNRELIABLE,
  TRANS_COLLAPSE,
  TRANS_PROMOTE,
  TRANS_RECOVER,
  TRANS_REGRESSION,
} from '../../src/abi/constants.js';
import type { Feedback, ModeValue } from '../../src/transport/device.js';
import type { KernelParams } from '../../src/transport/sim/kernel.js';

/** The module parameters of the ladder (docs/kernel-module.md; the names SimKernel uses). */
export type LadderParams = Pick<
  KernelParams,
  | 'learningPeriod'
  | 'checkPeriod'
  | 'promoteWindows'
  | 'promoteMarginPct'
  | 'demoteMarginPct'
  | 'collapsePct'
  | 'emergencyHoldWindows'
>;

/** The baseline windows advice is judged against are at most this many windows away. */
export const PAIR_GAP = 4;

/** Whether window w of a subsystem in `mode` runs advice (when one is pending). */
export function adviceScheduled(mode: number, w: number, p: LadderParams): boolean {
  switch (mode) {
    case MODE_LEARNING:
      return w % p.learningPeriod === 0;
    case MODE_COLLABORATION:
      return w % 2 === 0;
    case MODE_RECOMMENDATION:
      return p.checkPeriod === 0 || w % p.checkPeriod !== 0;
    default:
      return false;
  }
}

export type JudgementKind = 'collapse' | 'regression' | 'good' | 'neither';

/** How advice of mean efficiency a (raw) is judged between baseline windows lo..hi. */
export function judge(a: number, before: number, after: number, p: LadderParams): JudgementKind {
  const lo = Math.min(before, after);
  const hi = Math.max(before, after);
  const a100 = a * 100;
  if (a100 < lo * p.collapsePct) return 'collapse';
  if (a100 < lo * (100 - p.demoteMarginPct)) return 'regression';
  if (a100 >= hi * (100 + p.promoteMarginPct)) return 'good';
  return 'neither';
}

export interface Judgement {
  /** The baseline window whose end judged the advice windows before it. */
  epoch: number;
  /** The advice windows judged. */
  advice: number[];
  kind: JudgementKind;
  /** The mode it was judged in. */
  mode: ModeValue;
}

export interface Transition {
  /** The window at whose end the mode changed (the status' last_transition_epoch). */
  epoch: number;
  from: ModeValue;
  to: ModeValue;
  why: number;
}

export interface Replay {
  /** Epoch -> the mode the window after it must run in. */
  next: Map<number, ModeValue>;
  judgements: Judgement[];
  transitions: Transition[];
  pinned: boolean;
}

/** The raw efficiency of a record (units of 1/MLP_EFF_SCALE). */
export const rawEff = (f: Feedback): number => Math.round(f.eff * 1e6);

/**
 * Replays the ladder over one subsystem's consecutive records, as it runs from a SET_MODE
 * to `start` (the streak and the hold restarted) made before the first record's window
 * ended, with no advice waiting for judgement and a live controller throughout (the
 * tests keep theirs alive). The first record must be a baseline window (the reference
 * the first advice is judged against).
 */
export function replayLadder(
  records: readonly Feedback[],
  p: LadderParams,
  start: { mode: ModeValue; pinned: boolean },
): Replay {
  let mode = start.mode;
  let pinned = start.pinned;
  let streak = 0;
  let hold = 0;
  let before: { epoch: number; eff: number } | undefined;
  let advice: Feedback[] = [];
  const out: Replay = { next: new Map(), judgements: [], transitions: [], pinned };
  const move = (epoch: number, to: ModeValue, why: number) => {
    out.transitions.push({ epoch, from: mode, to, why });
    mode = to;
    streak = 0;
    hold = 0;
  };
  if (records.length > 0 && records[0].applied) {
    throw new Error(
      `replayLadder: the first record (${records[0].epoch}) must be a baseline window`,
    );
  }
  for (const f of records) {
    const measured = (f.reasons & (REASON_IDLE | REASON_UNRELIABLE)) === 0;
    const eff = rawEff(f);
    if (measured && f.applied) {
      advice.push(f);
    } else if (measured) {
      if (
        advice.length > 0 &&
        before &&
        before.eff > 0 &&
        eff > 0 &&
        mode !== MODE_EMERGENCY &&
        advice[0].epoch - before.epoch <= PAIR_GAP &&
        f.epoch - advice[advice.length - 1].epoch <= PAIR_GAP
      ) {
        // The mean of the advice windows, truncated like the kernel's integer division.
        const a = Math.trunc(advice.reduce((sum, x) => sum + rawEff(x), 0) / advice.length);
        const kind = judge(a, before.eff, eff, p);
        out.judgements.push({ epoch: f.epoch, advice: advice.map((x) => x.epoch), kind, mode });
        if (kind === 'collapse') {
          pinned = false;
          move(f.epoch, MODE_EMERGENCY, TRANS_COLLAPSE);
        } else if (kind === 'regression') {
          streak = 0;
          if (!pinned && mode > MODE_LEARNING) {
            move(f.epoch, (mode - 1) as ModeValue, TRANS_REGRESSION);
          }
        } else if (kind === 'good') {
          streak++;
          if (!pinned && streak >= p.promoteWindows && mode < MODE_RECOMMENDATION) {
            move(f.epoch, (mode + 1) as ModeValue, TRANS_PROMOTE);
          }
        } else {
          streak = 0;
        }
      }
      advice = [];
      before = { epoch: f.epoch, eff };
    }
    // Recovery: a window spent wholly in EMERGENCY, unpinned, with a live controller.
    if (mode === MODE_EMERGENCY && f.mode === MODE_EMERGENCY && !pinned) {
      if (++hold >= p.emergencyHoldWindows) move(f.epoch, MODE_LEARNING, TRANS_RECOVER);
    }
    out.next.set(f.epoch, mode);
  }
  out.pinned = pinned;
  return out;
}
