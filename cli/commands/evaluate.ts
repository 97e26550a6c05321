/** `mlproxy evaluate`: off-policy evaluation on a decision log, and the promotion gate. */
import { DecisionLogError } from '../../src/decisionlog/reader.js';
import { loadDeployedPolicy, windowStart } from '../../src/ope/checkpoint.js';
import type { DeployedPolicy } from '../../src/ope/checkpoint.js';
import { loadOpeData } from '../../src/ope/data.js';
import type { OpeData } from '../../src/ope/data.js';
import type { Estimate } from '../../src/ope/estimators.js';
import {
  GATE_DEFAULTS,
  evaluateCandidate,
  learnedBefore,
  promotionGate,
  scoredIndices,
  supportProblems,
} from '../../src/ope/evaluate.js';
import type { Candidate, Evaluation, EvaluateOptions } from '../../src/ope/evaluate.js';
import { EVALUATE_EXIT, stdio } from './common.js';
import type { Io } from './common.js';

export interface EvaluateCliOptions {
  policy: string;
  against?: string;
  /** A daemon checkpoint holding the deployed ("current") policy. */
  currentCheckpoint?: string;
  subsystem?: string;
  seed?: number;
  json?: boolean;
  /** Commander's --no-learn sets learn = false. */
  learn?: boolean;
  minEss?: number;
  minSupport?: number;
  rewardRange?: [number, number];
  skipBadLines?: boolean;
}

const fmt = (e: Estimate) =>
  `${e.value.toFixed(4)}  95% CI [${e.lo.toFixed(4)}, ${e.hi.toFixed(4)}]`;
const plain = (e: Estimate) => ({ value: e.value, lo: e.lo, hi: e.hi, se: e.se });
const evaluationJson = (ev: Evaluation) => ({
  policy: ev.policy,
  n: ev.n,
  matchRate: ev.matchRate,
  ips: plain(ev.ips),
  snips: plain(ev.snips),
  dr: plain(ev.dr),
  support: ev.support,
  skippedUpdates: ev.skippedUpdates,
});

function describe(ev: Evaluation): string[] {
  const s = ev.support;
  const lines = [
    `${ev.policy} (chose the logged arm in ${(100 * ev.matchRate).toFixed(1)}% of decisions)`,
    `  IPS    ${fmt(ev.ips)}`,
    `  SNIPS  ${fmt(ev.snips)}`,
    `  DR     ${fmt(ev.dr)}`,
    `  support: effective sample size ${s.ess.toFixed(1)} of ${ev.n}; its choices had a positive ` +
      `logging probability in ${(100 * s.supported).toFixed(1)}% of decisions`,
  ];
  if (ev.skippedUpdates > 0) {
    lines.push(
      `  learned from ${ev.n - ev.skippedUpdates} decisions only: it learns through importance weights, and ${ev.skippedUpdates} decisions were logged without a full distribution`,
    );
  }
  return lines;
}

/** Loads and checks everything; returns an exit code on bad input. */
function load(
  logPath: string,
  opts: EvaluateCliOptions,
  io: Io,
): { data: OpeData; deployed?: DeployedPolicy; warnings: string[] } | number {
  const warnings: string[] = [];
  if (opts.against !== undefined && opts.currentCheckpoint !== undefined) {
    io.err(
      'mlproxy evaluate: pass either --against SPEC or --current-checkpoint FILE for the current policy, not both',
    );
    return EVALUATE_EXIT.usage;
  }
  try {
    const data = loadOpeData(logPath, {
      subsystem: opts.subsystem,
      rewardRange: opts.rewardRange,
      skipBadLines: opts.skipBadLines,
      onWarning: (w) => warnings.push(w),
    });
    if (opts.currentCheckpoint === undefined) return { data, warnings };
    const deployed = loadDeployedPolicy(opts.currentCheckpoint, opts.subsystem ?? data.subsystem);
    return { data, deployed, warnings };
  } catch (e) {
    let message = (e as Error).message;
    if (e instanceof DecisionLogError) {
      message += '; pass --skip-bad-lines to skip corrupt lines with a warning';
    }
    io.err(`mlproxy evaluate: ${message}`);
    return EVALUATE_EXIT.usage;
  }
}

export function evaluateCommand(logPath: string, opts: EvaluateCliOptions, io: Io = stdio): number {
  const loaded = load(logPath, opts, io);
  if (typeof loaded === 'number') return loaded;
  const { data, deployed, warnings } = loaded;
  const learn = opts.learn ?? true;
  const evalOpts: EvaluateOptions = { seed: opts.seed ?? 0, learn };
  const gateOpts = {
    minEss: opts.minEss ?? GATE_DEFAULTS.minEss,
    minSupport: opts.minSupport ?? GATE_DEFAULTS.minSupport,
  };
  let current: Candidate | undefined = opts.against;
  try {
    if (deployed) {
      evalOpts.start = windowStart(data, deployed);
      current = { name: `${deployed.label} (checkpoint)`, make: () => deployed.make() };
      const before = evalOpts.start;
      warnings.push(
        `${deployed.file}: the deployed ${deployed.label} (model version ${deployed.modelVersion}, saved ${deployed.time}) ` +
          `is evaluated on the decisions logged after it` +
          (before > 0
            ? learn
              ? `; the ${before} decisions before it train the candidate first`
              : `; the ${before} decisions before it are not used`
            : ''),
      );
    }
    if (!learn) {
      for (const spec of [opts.policy, opts.against]) {
        if (spec === undefined) continue;
        warnings.push(
          `--no-learn evaluates ${spec} untrained: a cold start that never learns, not the policy it would become; ` +
            'drop --no-learn to train it on the log, or load a trained one with --current-checkpoint',
        );
      }
    }
  } catch (e) {
    io.err(`mlproxy evaluate: ${(e as Error).message}`);
    return EVALUATE_EXIT.usage;
  }
  for (const w of warnings) io.err(`warning: ${w}`);
  const n = scoredIndices(data, evalOpts.start ?? 0).length;
  const head = {
    log: logPath,
    ...(data.subsystem !== undefined ? { subsystem: data.subsystem } : {}),
    n,
    /** Decisions that only trained the policies (safety fallback, forced baseline plays). */
    trainOnly: data.decisions.filter((d) => d.trainOnly).length,
    k: data.k,
    d: data.d,
    learn,
  };
  const where = `${logPath}${data.subsystem !== undefined ? ` (subsystem ${data.subsystem})` : ''}`;
  try {
    if (current === undefined) {
      const ev = evaluateCandidate(data, opts.policy, evalOpts);
      const problems = supportProblems(data, ev, 'candidate', gateOpts);
      if (opts.json) {
        io.out(
          JSON.stringify({
            ...head,
            logged: plain(ev.logged),
            candidate: evaluationJson(ev),
            supportProblems: problems,
          }),
        );
      } else {
        io.out(
          `${where}: ${n} decisions, k = ${head.k}, d = ${head.d}; logged mean reward ${fmt(ev.logged)}`,
        );
        for (const line of describe(ev)) io.out(line);
        for (const p of problems) io.out(`warning: little support: ${p}`);
      }
      return EVALUATE_EXIT.ok;
    }
    const g = promotionGate(data, opts.policy, current, {
      ...evalOpts,
      ...gateOpts,
      ...(deployed
        ? { current: { learnedUpTo: learnedBefore(data, deployed.modelVersion, evalOpts.start!) } }
        : {}),
    });
    const refused = g.refusals.length > 0;
    const verdict = refused ? 'refused' : g.promote ? 'promote' : 'keep current';
    if (opts.json) {
      io.out(
        JSON.stringify({
          ...head,
          logged: plain(g.candidate.logged),
          candidate: evaluationJson(g.candidate),
          current: evaluationJson(g.current),
          difference: plain(g.difference),
          promote: g.promote,
          verdict,
          refusals: g.refusals,
        }),
      );
    } else {
      io.out(`${where}: ${n} decisions, k = ${head.k}, d = ${head.d}`);
      io.out('candidate: ' + describe(g.candidate).join('\n'));
      io.out('current:   ' + describe(g.current).join('\n'));
      io.out(
        `DR difference (candidate − current, paired): ${fmt(g.difference)}      (the logged mean reward was ${g.candidate.logged.value.toFixed(4)})`,
      );
      if (refused) {
        io.out('verdict: REFUSED — this log cannot support a promotion:');
        for (const r of g.refusals) io.out(`  - ${r}`);
      } else {
        io.out(
          g.promote
            ? `verdict: PROMOTE — the candidate beats the current policy with 95% confidence (lower bound ${g.difference.lo.toFixed(4)} > 0)`
            : `verdict: KEEP CURRENT — no evidence at 95% that the candidate is better (lower bound ${g.difference.lo.toFixed(4)} <= 0)`,
        );
      }
    }
    if (refused) return EVALUATE_EXIT.refused;
    return g.promote ? EVALUATE_EXIT.promote : EVALUATE_EXIT.keep;
  } catch (e) {
    io.err(`mlproxy evaluate: ${(e as Error).message}`);
    return EVALUATE_EXIT.usage;
  }
}
