/**
 * Summaries of the read-ahead demo's runs (results.json): medians and ranges per arm,
 * the oracle (best fixed setting), and per daemon run the modes, the time to reach a
 * setting, the share of advice windows below the baseline and the cost. Pure functions.
 */
import { max, median, min, quantileSeq } from 'mathjs';
import type { Results, RunRecord, WindowRecord } from './records.js';
import type { WorkloadName } from './workloads.js';

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: readonly number[]): Spread | null {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  return { median: median(v) as number, min: min(v) as number, max: max(v) as number, n: v.length };
}

/** The median of the non-idle windows' efficiency of a run; null when all were idle. */
export function runEfficiency(run: RunRecord, onlyApplied = false): number | null {
  const eff = run.windows.filter((w) => !w.idle && (!onlyApplied || w.applied)).map((w) => w.eff);
  return eff.length ? (median(eff) as number) : null;
}

export interface ArmSummary {
  /** "default", "2^k", or the policy name. */
  arm: string;
  kind: RunRecord['kind'];
  setting: number | null;
  throughput: Spread;
  tail: Spread | null;
  efficiency: Spread | null;
}

function armSummary(arm: string, runs: RunRecord[]): ArmSummary {
  return {
    arm,
    kind: runs[0].kind,
    setting: runs[0].kind === 'daemon' ? null : runs[0].setting,
    throughput: spread(runs.map((r) => r.throughputKiBs / 1024))!,
    tail: spread(runs.map((r) => (r.tailThroughputKiBs ?? NaN) / 1024)),
    efficiency: spread(runs.map((r) => runEfficiency(r) ?? NaN)),
  };
}

export interface DaemonRunSummary {
  repeat: number;
  tailMiBs: number | null;
  /** Windows (non-idle) per mode, 0..3. */
  modeWindows: number[];
  /** Transitions as "from->to (reason)". */
  transitions: { tMs: number; from: number; to: number; reason: number; count: number }[];
  /** Windows in which advice ran, and those of them the kernel could measure (non-idle). */
  adviceWindows: number;
  appliedWindows: number;
  /** Share of applied non-idle windows with eff < the baseline reference. */
  belowBaseline: number | null;
  /** Seconds from the workload's start to the first applied window at the oracle setting. */
  toOracleS: number | null;
  /** The setting the daemon applied most in the second half, and when it first applied it. */
  favourite: number | null;
  toFavouriteS: number | null;
  cpuPercent: number | null;
  rssMiB: number | null;
  hwmMiB: number | null;
}

export interface PolicySummary {
  policy: string;
  arm: ArmSummary;
  runs: DaemonRunSummary[];
  /** Median tail throughput over the oracle's and the default's median tail throughput. */
  ofOracle: number | null;
  ofDefault: number | null;
}

export interface WorkloadSummary {
  workload: WorkloadName;
  default: ArmSummary | null;
  fixed: ArmSummary[];
  /** The fixed setting with the highest median tail throughput. */
  oracle: ArmSummary | null;
  policies: PolicySummary[];
}

function mostFrequent(values: number[]): number | null {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | null = null;
  let bestN = 0;
  for (const [v, n] of counts) {
    if (n > bestN) {
      best = v;
      bestN = n;
    }
  }
  return best;
}

function firstApplied(windows: WindowRecord[], setting: number | null): number | null {
  if (setting === null) return null;
  const w = windows.find((x) => x.applied && x.knob === setting);
  return w ? Math.max(0, w.tMs) / 1000 : null;
}

export function summariseDaemonRun(run: RunRecord, oracle: number | null): DaemonRunSummary {
  const live = run.windows.filter((w) => !w.idle);
  const modeWindows = [0, 0, 0, 0];
  for (const w of run.windows) modeWindows[w.mode]++;
  const applied = live.filter((w) => w.applied);
  const below = applied.filter((w) => w.eff < w.baselineEff).length;
  const half = run.runtimeMs / 2;
  const favourite = mostFrequent(
    run.windows.filter((w) => w.applied && w.tMs >= half).map((w) => w.knob),
  );
  const d = run.daemon;
  return {
    repeat: run.repeat,
    tailMiBs: run.tailThroughputKiBs === null ? null : run.tailThroughputKiBs / 1024,
    modeWindows,
    transitions: run.transitions.map((t) => ({
      tMs: t.tMs,
      from: t.from,
      to: t.to,
      reason: t.reason,
      count: t.count ?? 1,
    })),
    adviceWindows: run.windows.filter((w) => w.applied).length,
    appliedWindows: applied.length,
    belowBaseline: applied.length ? below / applied.length : null,
    toOracleS: firstApplied(run.windows, oracle),
    favourite,
    toFavouriteS: firstApplied(run.windows, favourite),
    cpuPercent: d && d.runMs > 0 ? (100 * d.cpuRunMs) / d.runMs : null,
    rssMiB: d ? d.rssKb / 1024 : null,
    hwmMiB: d ? d.hwmKb / 1024 : null,
  };
}

export function summarise(results: Results): WorkloadSummary[] {
  return results.meta.workloads.map((workload) => {
    const runs = results.runs.filter((r) => r.workload === workload);
    const defRuns = runs.filter((r) => r.kind === 'default');
    const settings = [
      ...new Set(runs.filter((r) => r.kind === 'fixed').map((r) => r.setting!)),
    ].sort((a, b) => a - b);
    const fixed = settings.map((s) =>
      armSummary(
        `2^${s}`,
        runs.filter((r) => r.kind === 'fixed' && r.setting === s),
      ),
    );
    const tailOf = (a: ArmSummary | null) => a?.tail?.median ?? null;
    let oracle: ArmSummary | null = null;
    for (const a of fixed)
      if (oracle === null || (tailOf(a) ?? -1) > (tailOf(oracle) ?? -1)) oracle = a;
    const def = defRuns.length ? armSummary('default', defRuns) : null;
    const policyNames = [...new Set(runs.filter((r) => r.kind === 'daemon').map((r) => r.policy!))];
    const policies = policyNames.map((policy) => {
      const pr = runs.filter((r) => r.kind === 'daemon' && r.policy === policy);
      const arm = armSummary(policy, pr);
      const t = tailOf(arm);
      const o = tailOf(oracle);
      const dflt = tailOf(def);
      return {
        policy,
        arm,
        runs: pr.map((r) => summariseDaemonRun(r, oracle?.setting ?? null)),
        ofOracle: t !== null && o ? t / o : null,
        ofDefault: t !== null && dflt ? t / dflt : null,
      };
    });
    return { workload, default: def, fixed, oracle, policies };
  });
}

/** Median and 99th percentile of every mlp_window_work duration in the results, us. */
export function windowWorkStats(
  results: Results,
): { n: number; median: number; p99: number } | null {
  const all = results.runs.flatMap((r) => r.windowWorkUs);
  if (all.length === 0) return null;
  return {
    n: all.length,
    median: median(all) as number,
    p99: quantileSeq(all, 0.99) as number,
  };
}
