/**
 * What an environment on the simulated device pays: the daemon's reward (rewardOf,
 * src/loop/features.ts), the window's efficiency against the kernel's baseline reference
 * (0.5 = as good as the baseline, 1 = twice as good or better), so that an offline run
 * learns from the same figure as the daemon and its rewards, regrets and off-policy
 * estimates read on the daemon's scale.
 */
import { rewardOf } from '../../src/loop/features.js';

/**
 * rewardOf(eff, baselineEff); `what` names the window for the error when there is no
 * baseline reference to reward against (the kernel has one from the first window on).
 */
export function daemonReward(eff: number, baselineEff: number, what: string): number {
  const r = rewardOf(eff, baselineEff);
  if (r === undefined) {
    throw new Error(
      `sim: ${what} has no baseline efficiency to reward against (baseline_eff ${baselineEff}, eff ${eff})`,
    );
  }
  return r;
}
