/**
 * Paired windows, the daemon's side of the kernel's paired judgement (kmod/mlproxy_core.c,
 * docs/abi.md): an advice window is compared with the measured baseline windows before
 * and after it, not with a reference from earlier, so that a change of the workload
 * between the two is not taken for the advice's doing. Feedback records go in, in epoch
 * order; when a measured baseline window ends, the measured advice windows since the
 * previous one come out with their reference, the mean of the two, if both are at most
 * PAIR_GAP windows from them (the kernel's rule; a reference from before a pause judges
 * nothing). Idle and unreliable windows are skipped: they measured nothing trustworthy.
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
  before: number;
  after: number;
  /** The mean of the baseline windows around it. */
  reference: number;
}

export interface PairingResult {
  paired: Paired[];
  /** Measured advice windows that cannot be paired (no baseline window close enough). */
  unpaired: Feedback[];
}

export class WindowPairing {
  private before: { eff: number; epoch: number } | null = null;
  private waiting: Feedback[] = [];

  constructor(private readonly gap = PAIR_GAP) {}

  /** Takes the next record of the subsystem. */
  take(fb: Feedback): PairingResult {
    const out: PairingResult = { paired: [], unpaired: [] };
    if (!measured(fb)) return out;
    if (fb.applied) {
      this.waiting.push(fb);
      return out;
    }
    const group = this.waiting;
    this.waiting = [];
    const before = this.before;
    this.before = { eff: fb.eff, epoch: fb.epoch };
    if (group.length === 0) return out;
    const ok =
      before !== null &&
      group[0].epoch - before.epoch <= this.gap &&
      fb.epoch - group[group.length - 1].epoch <= this.gap;
    if (!ok) {
      out.unpaired = group;
      return out;
    }
    const reference = (before.eff + fb.eff) / 2;
    out.paired = group.map((g) => ({ fb: g, before: before.eff, after: fb.eff, reference }));
    return out;
  }

  /** Forgets everything (a new device handle: epochs restart). */
  reset(): void {
    this.before = null;
    this.waiting = [];
  }
}
