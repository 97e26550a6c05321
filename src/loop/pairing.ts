/**
 * Paired windows, the daemon's side of the kernel's paired judgement (kmod/mlproxy_core.c,
 * docs/abi.md): a measured advice window is compared with measured baseline windows next to
 * it, not with a reference from earlier, so that a change of the workload is not taken for
 * the advice's doing. Feedback records go in, in epoch order (take); the contexts the
 * windows ran in become known one window later (the state of epoch e + 1 carries the
 * features of window e), and resolve() pairs what it can:
 *
 *  - with `similar` (a subsystem whose profile names context features): against the
 *    nearest baseline window of the same workload, before the advice (as soon as the
 *    advice window's own context is known; in RECOMMENDATION that is 15 of 16 windows
 *    rewarded at once instead of at the next check window) or after it;
 *  - else, as the kernel does: against the mean of the measured baseline windows before and
 *    after, both at most PAIR_GAP windows from the advice windows between them.
 *
 * A window that cannot be paired is returned as unpaired. Idle and unreliable windows are
 * skipped: they measured nothing trustworthy.
 */
import { REASON_IDLE, REASON_UNRELIABLE } from '../abi/constants.js';
import type { Feedback } from '../transport/device.js';

/** The kernel's MLP_PAIR_GAP. */
export const PAIR_GAP = 4;

/** Whether a window's efficiency can be used (neither idle nor unreliable). */
export function measured(fb: Feedback): boolean {
  return (fb.reasons & (REASON_IDLE | REASON_UNRELIABLE)) === 0;
}

export interface Paired {
  /** The advice window's record. */
  fb: Feedback;
  /** The efficiency it is compared with. */
  reference: number;
  how: 'before' | 'after' | 'both';
}

export interface PairingResult {
  paired: Paired[];
  /** Measured advice windows that cannot be paired. */
  unpaired: Feedback[];
}

/** Whether windows a and b ran the same workload: true, false, or undefined (not known yet). */
export type SameWorkload = (a: number, b: number) => boolean | undefined;

interface Base {
  epoch: number;
  eff: number;
}

interface Waiting {
  fb: Feedback;
  /** The last measured baseline window before it, if the chain of measured windows is unbroken. */
  before: Base | null;
}

export class WindowPairing {
  private bases: Base[] = [];
  private waiting: Waiting[] = [];
  /** The last measured window (any kind): a gap longer than PAIR_GAP breaks the chain. */
  private lastMeasured = -Infinity;

  constructor(private readonly gap = PAIR_GAP) {}

  /**
   * Takes the next record of the subsystem. `reference`: an advice window that ran the
   * baseline exactly (a reference probe), a baseline window for the pairing.
   */
  take(fb: Feedback, reference = false): void {
    if (!measured(fb)) return;
    const chained = fb.epoch - this.lastMeasured <= this.gap;
    this.lastMeasured = fb.epoch;
    if (fb.applied && !reference) {
      const prev = this.waiting[this.waiting.length - 1];
      const last = this.bases[this.bases.length - 1] ?? null;
      // The group's before: the last baseline window, if nothing broke the chain since.
      const before = !chained
        ? null
        : prev && prev.fb.epoch > (last?.epoch ?? -1)
          ? prev.before
          : last;
      this.waiting.push({ fb, before });
      return;
    }
    this.bases.push({ epoch: fb.epoch, eff: fb.eff });
    if (this.bases.length > 4) this.bases.shift();
  }

  /** Pairs what can be paired now (call after the contexts of the recent windows are known). */
  resolve(similar?: SameWorkload): PairingResult {
    const out: PairingResult = { paired: [], unpaired: [] };
    const keep: Waiting[] = [];
    for (const w of this.waiting) {
      const after = this.bases.find((b) => b.epoch > w.fb.epoch) ?? null;
      const r = this.pairOne(w, after, similar);
      if (r === 'wait') keep.push(w);
      else if (r === null) out.unpaired.push(w.fb);
      else out.paired.push(r);
    }
    this.waiting = keep;
    return out;
  }

  private pairOne(w: Waiting, after: Base | null, similar?: SameWorkload): Paired | null | 'wait' {
    const { fb, before } = w;
    if (similar) {
      const sb = before ? similar(fb.epoch, before.epoch) : false;
      if (sb === undefined) return 'wait';
      if (sb && before) return { fb, reference: before.eff, how: 'before' };
      if (!after) return 'wait';
      const sa = similar(fb.epoch, after.epoch);
      if (sa === undefined) return 'wait';
      if (sa) return { fb, reference: after.eff, how: 'after' };
    } else if (!after) {
      return 'wait';
    }
    // The kernel's rule: both baseline windows next to the advice windows between them.
    const group = this.waiting.filter((x) => x.before === before && x.fb.epoch < after.epoch);
    const ok =
      before !== null &&
      group.length > 0 &&
      group[0].fb.epoch - before.epoch <= this.gap &&
      after.epoch - group[group.length - 1].fb.epoch <= this.gap;
    return ok ? { fb, reference: (before.eff + after.eff) / 2, how: 'both' } : null;
  }

  /** The epoch of the last measured baseline window, or -1. */
  get lastBase(): number {
    return this.bases.length ? this.bases[this.bases.length - 1].epoch : -1;
  }

  /** Forgets everything (a new device handle: epochs restart). */
  reset(): void {
    this.bases = [];
    this.waiting = [];
    this.lastMeasured = -Infinity;
  }
}
