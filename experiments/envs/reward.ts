/**
 * What an environment on the simulated device pays: the daemon's reward (rewardFrom,
 * src/loop/features.ts, in the reward shape of the subsystem's profile,
 * src/loop/profiles.ts), the window's efficiency against the kernel's baseline reference
 * (0.5 = as good as the baseline; a reference of 0 or less, a baseline that delivered
 * nothing, makes any better window worth 1), so that an offline run learns from the same
 * figure as the daemon and its rewards, regrets and off-policy estimates read on the
 * daemon's scale.
 */
import { rewardFrom } from '../../src/loop/features.js';
import { profileFor } from '../../src/loop/profiles.js';
import type { RewardShape } from '../../src/loop/profiles.js';
import type { SubsystemInfo } from '../../src/transport/device.js';

/** The reward shape of each subsystem schema seen (profileFor builds a whole profile). */
const shapes = new WeakMap<SubsystemInfo, RewardShape>();

function shapeOf(info: SubsystemInfo): RewardShape {
  let shape = shapes.get(info);
  if (shape === undefined) {
    shape = profileFor(info).reward;
    shapes.set(info, shape);
  }
  return shape;
}

/**
 * The daemon's reward of efficiency `eff` against `baselineEff` for subsystem `info`;
 * `what` names the window for the error when either figure is not a finite number.
 */
export function daemonReward(
  info: SubsystemInfo,
  eff: number,
  baselineEff: number,
  what: string,
): number {
  // Called for every arm of every round: the shape is looked up once per schema object.
  const r = rewardFrom(eff, baselineEff, shapeOf(info));
  if (r === undefined) {
    throw new Error(
      `sim: ${what} has no finite efficiency (baseline_eff ${baselineEff}, eff ${eff})`,
    );
  }
  return r;
}
