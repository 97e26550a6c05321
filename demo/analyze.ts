/**
 * Summaries of the read-ahead demo's runs (results.json): per workload and arm the
 * steady-state throughput (median and range over repeats), the share of windows at the
 * requested setting, the kernel's efficiency; the oracle (the best fixed setting);
 * whether the kernel's efficiency ranks the fixed settings as the readers' throughput
 * does; and per daemon run the modes, the time to the oracle, the share of advice
 * windows below the baseline, the cost; and the goals of issue 10, met or not. Pure.
 */
import { max, median, min } from 'mathjs';
import type { DaemonCost, Results, RunRecord, WindowRecord } from './records.js';
import { isJob } from './workloads.js';
import type { WorkloadName } from './workloads.js';

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/**
 * The daemon's CPU time over a run, ms: the exact on-CPU time where the record has it
 * (records from 2026-12-03 on), else utime + stime, which the tick samples (the two agreed
 * within 0.06 points in every run that has both, docs/benchmarks.md).
 */
export function cpuMsOf(d: DaemonCost): number {
  return d.onCpuRunMs ?? d.cpuRunMs;
}

export function spread(values: readonly (number | null)[]): Spread | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  return { median: median(v) as number, min: min(v) as number, max: max(v) as number, n: v.length };
}

/** Two ranges that do not overlap: `a` entirely above `b`. */
export const above = (a: Spread | null, b: Spread | null) => !!a && !!b && a.min > b.max;

const measured = (w: WindowRecord) => !w.idle && !w.unreliable;

/** The median efficiency of a run's measured windows (advice windows only when asked). */
export function runEfficiency(run: RunRecord, onlyApplied = false): number | null {
  const eff = run.windows
    .filter((w) => measured(w) && (!onlyApplied || w.applied))
    .map((w) => w.eff);
  return eff.length ? (median(eff) as number) : null;
}

export const kib = (log2: number) => (log2 >= 10 ? `${2 ** (log2 - 10)} MiB` : `${2 ** log2} KiB`);

export interface ArmSummary {
  /** "default", "fixed-<KiB>" or "daemon-<policy>". */
  arm: string;
  kind: RunRecord['kind'];
  setting: number | null;
  /** Steady-state throughput of the readers, MiB/s. */
  steady: Spread;
  whole: Spread;
  efficiency: Spread | null;
  /** Share of the windows at the requested setting (fixed and default arms). */
  hold: Spread | null;
  runs: RunRecord[];
}

function armSummary(arm: string, runs: RunRecord[]): ArmSummary {
  return {
    arm,
    kind: runs[0].kind,
    setting: runs[0].kind === 'daemon' ? null : runs[0].setting,
    steady: spread(runs.map((r) => r.steadyKiBs / 1024))!,
    whole: spread(runs.map((r) => r.throughputKiBs / 1024))!,
    efficiency: spread(runs.map((r) => runEfficiency(r))),
    hold: spread(runs.map((r) => r.holdShare)),
    runs,
  };
}

/** Spearman's rank correlation (average ranks for ties); null for fewer than 3 points. */
export function spearman(xs: readonly number[], ys: readonly number[]): number | null {
  if (xs.length !== ys.length || xs.length < 3) return null;
  const ranks = (v: readonly number[]) => {
    const order = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
    const r = new Array<number>(v.length);
    for (let i = 0; i < order.length;) {
      let j = i;
      while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
      for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
      i = j + 1;
    }
    return r;
  };
  const rx = ranks(xs);
  const ry = ranks(ys);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(rx);
  const my = mean(ry);
  let num = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < rx.length; i++) {
    num += (rx[i] - mx) * (ry[i] - my);
    dx += (rx[i] - mx) ** 2;
    dy += (ry[i] - my) ** 2;
  }
  return dx > 0 && dy > 0 ? num / Math.sqrt(dx * dy) : null;
}

export interface RankCheck {
  /** Spearman's rho between the fixed arms' median efficiency and median throughput. */
  rho: number | null;
  /** Pairs of fixed arms whose throughput ranges separate, and of them those the kernel ranks alike. */
  separatedPairs: number;
  agreeingPairs: number;
  disagreements: string[];
}

function rankCheck(fixed: ArmSummary[]): RankCheck {
  const usable = fixed.filter((a) => a.efficiency);
  const rho = spearman(
    usable.map((a) => a.efficiency!.median),
    usable.map((a) => a.steady.median),
  );
  let separatedPairs = 0;
  let agreeingPairs = 0;
  const disagreements: string[] = [];
  for (let i = 0; i < usable.length; i++) {
    for (let j = 0; j < usable.length; j++) {
      const a = usable[i];
      const b = usable[j];
      if (!above(a.steady, b.steady)) continue;
      separatedPairs++;
      if (a.efficiency!.median > b.efficiency!.median) agreeingPairs++;
      else disagreements.push(`${a.arm} > ${b.arm}`);
    }
  }
  return { rho, separatedPairs, agreeingPairs, disagreements };
}

export interface DaemonRunSummary {
  repeat: number;
  steadyMiBs: number;
  wholeMiBs: number;
  /** Windows per mode, 0..3. */
  modeWindows: number[];
  transitions: RunRecord['transitions'];
  adviceWindows: number;
  measuredAdvice: number;
  /** Share of the measured advice windows below the mean of the measured baseline windows around them. */
  belowBaseline: number | null;
  /** Share of all windows in which advice ran. */
  adviceShare: number | null;
  /** Seconds from the first byte until the daemon mostly ran an oracle setting (null: never). */
  toOracleS: number | null;
  /** The setting the daemon advised most over the last half of the run. */
  favourite: number | null;
  cpuPercent: number | null;
  /** The same over the workload's second half (records from 2026-12-03 on): the steady state. */
  secondHalfCpuPercent: number | null;
  rssMiB: number | null;
  hwmMiB: number | null;
}

/**
 * Seconds from the start of `windows` (tMs 0) until, from then on, at least `share` of the
 * advice windows run a setting of `good` (at least `minAfter` of them); null when never.
 */
export function timeToSettle(
  windows: readonly WindowRecord[],
  good: ReadonlySet<number>,
  share = 0.8,
  minAfter = 5,
): number | null {
  const adv = windows.filter((w) => w.applied).sort((a, b) => a.tMs - b.tMs);
  let goodAfter = 0;
  let best: number | null = null;
  // Walk from the end: the earliest start whose suffix is good enough.
  for (let i = adv.length - 1; i >= 0; i--) {
    if (good.has(adv[i].knob)) goodAfter++;
    const n = adv.length - i;
    if (n >= minAfter && goodAfter / n >= share && good.has(adv[i].knob)) {
      best = Math.max(0, adv[i].tMs) / 1000;
    }
  }
  return best;
}

/** Share of measured advice windows below the mean of the nearest measured baseline windows. */
function belowBaseline(windows: readonly WindowRecord[]): number | null {
  const w = [...windows].sort((a, b) => a.epoch - b.epoch);
  let below = 0;
  let n = 0;
  for (let i = 0; i < w.length; i++) {
    if (!w[i].applied || !measured(w[i])) continue;
    let before: WindowRecord | undefined;
    let after: WindowRecord | undefined;
    for (let j = i - 1; j >= 0 && !before; j--) if (!w[j].applied && measured(w[j])) before = w[j];
    for (let j = i + 1; j < w.length && !after; j++)
      if (!w[j].applied && measured(w[j])) after = w[j];
    if (!before || !after) continue;
    n++;
    if (w[i].eff < (before.eff + after.eff) / 2) below++;
  }
  return n ? below / n : null;
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

export function summariseDaemonRun(
  run: RunRecord,
  good: ReadonlySet<number> | null,
): DaemonRunSummary {
  const modeWindows = [0, 0, 0, 0];
  for (const w of run.windows) modeWindows[w.mode]++;
  const adv = run.windows.filter((w) => w.applied);
  const d = run.daemon;
  return {
    repeat: run.repeat,
    steadyMiBs: run.steadyKiBs / 1024,
    wholeMiBs: run.throughputKiBs / 1024,
    modeWindows,
    transitions: run.transitions,
    adviceWindows: adv.length,
    measuredAdvice: adv.filter(measured).length,
    belowBaseline: belowBaseline(run.windows),
    adviceShare: run.windows.length ? adv.length / run.windows.length : null,
    toOracleS: good ? timeToSettle(run.windows, good) : null,
    favourite: mostFrequent(adv.filter((w) => w.tMs >= run.runtimeMs / 2).map((w) => w.knob)),
    cpuPercent: d && d.runMs > 0 ? (100 * cpuMsOf(d)) / d.runMs : null,
    secondHalfCpuPercent:
      d?.secondHalf && d.secondHalf.runMs > 0
        ? (100 * cpuMsOf(d.secondHalf)) / d.secondHalf.runMs
        : null,
    rssMiB: d ? d.rssKb / 1024 : null,
    hwmMiB: d ? d.hwmKb / 1024 : null,
  };
}

/** Per phase of a job run: seconds from the phase's start until it mostly ran its oracle. */
export function phaseTimesToOracle(
  run: RunRecord,
  good: { seq: ReadonlySet<number>; mmap: ReadonlySet<number> },
): { kind: string; cycle: number; seconds: number | null; lengthS: number }[] {
  const out: { kind: string; cycle: number; seconds: number | null; lengthS: number }[] = [];
  run.cycles.forEach((c, cycle) => {
    for (const s of c.steps) {
      const set = s.kind === 'seq' ? good.seq : good.mmap;
      const from = s.startS * 1000;
      const to = from + s.seconds * 1000;
      const inside = run.windows
        .filter((w) => w.tMs >= from && w.tMs + w.lenMs <= to)
        .map((w) => ({ ...w, tMs: w.tMs - from }));
      out.push({
        kind: s.kind,
        cycle,
        seconds: timeToSettle(inside, set, 0.8, 3),
        lengthS: s.seconds,
      });
    }
  });
  return out;
}

export interface PolicySummary {
  policy: string;
  arm: ArmSummary;
  runs: DaemonRunSummary[];
  /** Median steady throughput over the oracle's and the default's medians. */
  ofOracle: number | null;
  ofDefault: number | null;
  phases: ReturnType<typeof phaseTimesToOracle> | null;
}

export interface Goal {
  what: string;
  met: boolean | null;
  detail: string;
}

export interface WorkloadSummary {
  workload: WorkloadName;
  default: ArmSummary | null;
  fixed: ArmSummary[];
  /** The fixed setting with the highest median steady throughput. */
  oracle: ArmSummary | null;
  /** Fixed settings within 5 % of the oracle's median: where the daemon should settle. */
  nearOracle: number[];
  /** The oracle beats the default with separated ranges. */
  oracleSeparated: boolean;
  /** The default is (one of) the best: no fixed setting beats it with separated ranges. */
  defaultBest: boolean;
  rank: RankCheck;
  policies: PolicySummary[];
  goals: Goal[];
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

function goalsOf(w: WorkloadSummary, control: boolean): Goal[] {
  const goals: Goal[] = [];
  const d = w.default;
  const o = w.oracle;
  if (!d || !o) return goals;
  for (const p of w.policies) {
    const s = p.arm.steady;
    if (w.workload === 'phase') {
      const best = w.fixed.reduce((a, b) => (b.steady.median > a.steady.median ? b : a));
      goals.push({
        what: `phase: daemon-${p.policy}'s median beats the best single fixed setting's`,
        met: s.median > best.steady.median,
        detail: `${s.median.toFixed(2)} vs ${best.arm} ${best.steady.median.toFixed(2)} MiB/s`,
      });
    } else if (w.oracleSeparated && !control) {
      goals.push({
        what: `${w.workload}: daemon-${p.policy}'s median >= 90% of the oracle's`,
        met: p.ofOracle !== null && p.ofOracle >= 0.9,
        detail: `${p.ofOracle === null ? '–' : pct(p.ofOracle)} of ${o.arm}`,
      });
      goals.push({
        what: `${w.workload}: daemon-${p.policy}'s minimum above the default's maximum`,
        met: s.min > d.steady.max,
        detail: `${s.min.toFixed(2)} vs ${d.steady.max.toFixed(2)} MiB/s`,
      });
    } else {
      goals.push({
        what: `${w.workload}: daemon-${p.policy}'s median >= 95% of the default's`,
        met: p.ofDefault !== null && p.ofDefault >= 0.95,
        detail: `${p.ofDefault === null ? '–' : pct(p.ofDefault)} of the default`,
      });
    }
  }
  return goals;
}

export function summarise(results: Results): WorkloadSummary[] {
  const byWorkload = new Map<string, WorkloadSummary>();
  const out = results.meta.workloads.map((workload) => {
    const runs = results.runs.filter((r) => r.workload === workload);
    const defRuns = runs.filter((r) => r.kind === 'default');
    const settings = [
      ...new Set(runs.filter((r) => r.kind === 'fixed').map((r) => r.setting!)),
    ].sort((a, b) => a - b);
    const fixed = settings.map((s) =>
      armSummary(
        `fixed-${2 ** s}`,
        runs.filter((r) => r.kind === 'fixed' && r.setting === s),
      ),
    );
    let oracle: ArmSummary | null = null;
    for (const a of fixed) if (!oracle || a.steady.median > oracle.steady.median) oracle = a;
    const def = defRuns.length ? armSummary('default', defRuns) : null;
    const nearOracle = oracle
      ? fixed.filter((a) => a.steady.median >= 0.95 * oracle.steady.median).map((a) => a.setting!)
      : [];
    const summary: WorkloadSummary = {
      workload,
      default: def,
      fixed,
      oracle,
      nearOracle,
      oracleSeparated: above(oracle?.steady ?? null, def?.steady ?? null),
      defaultBest: !!def && !fixed.some((a) => above(a.steady, def.steady)),
      // A job's windows mix its phases: its median efficiency ranks nothing.
      rank: isJob(workload)
        ? { rho: null, separatedPairs: 0, agreeingPairs: 0, disagreements: [] }
        : rankCheck(fixed),
      policies: [],
      goals: [],
    };
    byWorkload.set(workload, summary);
    return summary;
  });
  // Daemon runs, with the oracle sets (for phase: those of the seq and mmap workloads).
  for (const w of out) {
    const runs = results.runs.filter((r) => r.workload === w.workload && r.kind === 'daemon');
    const names = [...new Set(runs.map((r) => r.policy!))];
    const seq = byWorkload.get('seq');
    const mmap = byWorkload.get('mmap');
    w.policies = names.map((policy) => {
      const pr = runs.filter((r) => r.policy === policy);
      const arm = armSummary(`daemon-${policy}`, pr);
      const good = w.nearOracle.length ? new Set(w.nearOracle) : null;
      const phaseGood =
        w.workload === 'phase' && seq?.nearOracle.length && mmap?.nearOracle.length
          ? { seq: new Set(seq.nearOracle), mmap: new Set(mmap.nearOracle) }
          : null;
      return {
        policy,
        arm,
        runs: pr.map((r) => summariseDaemonRun(r, w.workload === 'phase' ? null : good)),
        ofOracle: w.oracle ? arm.steady.median / w.oracle.steady.median : null,
        ofDefault: w.default ? arm.steady.median / w.default.steady.median : null,
        phases: phaseGood ? pr.flatMap((r) => phaseTimesToOracle(r, phaseGood)) : null,
      };
    });
    w.goals = goalsOf(w, w.workload === 'pread');
  }
  return out;
}

/** The idle daemon's CPU share of the guest's vCPU, per policy. */
export function idleCost(
  results: Results,
): { policy: string; cpuPercent: number; seconds: number; windowMs: number | null }[] {
  return results.runs
    .filter((r) => r.kind === 'idle-daemon' && r.daemon)
    .map((r) => {
      const w = r.moduleParams.find((p) => p.startsWith('ra_window_ms='));
      return {
        policy: r.policy!,
        cpuPercent: (100 * cpuMsOf(r.daemon!)) / r.daemon!.runMs,
        seconds: r.daemon!.runMs / 1000,
        windowMs: w ? Number(w.slice('ra_window_ms='.length)) : null,
      };
    });
}
