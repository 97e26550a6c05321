/**
 * `mlproxy evaluate` on the daemon's own decision log: one log for every subsystem
 * (--subsystem), the deployed policy from a checkpoint (--current-checkpoint), the gate's
 * refusal on a log without support, and the messages a user meets.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import type { Io } from '../cli/experiments.js';
import { evaluateCommand } from '../cli/commands/evaluate.js';
import type { EvaluateCliOptions } from '../cli/commands/evaluate.js';
import { replayCommand } from '../cli/commands/replay.js';
import { loadOpeData } from '../src/ope/data.js';
import { evaluateCandidate, supportProblems } from '../src/ope/evaluate.js';
import { checkLogRecord } from '../src/decisionlog/schema.js';
import { makeDaemon, simDevice, tempDir, testConfig } from './helpers/daemon-harness.js';
import { runCli } from './helpers/spawn-cli.js';

function capture(): Io & { stdout: string[]; stderr: string[]; all: () => string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (s) => stdout.push(s),
    err: (s) => stderr.push(s),
    all: () => [...stderr, ...stdout].join('\n'),
  };
}

interface DaemonLog {
  log: string;
  stateDir: string;
}

async function daemonLog(epsilon: number, decisions: number): Promise<DaemonLog> {
  const dir = tempDir('mlp-ope-');
  const cfg = testConfig(dir, (c) => {
    c.defaults.exploration = { epsilon };
    c.checkpoint.everyDecisions = 400;
  });
  await makeDaemon(cfg, simDevice(), { maxDecisions: decisions }).daemon.run();
  return { log: path.join(dir, 'log', 'decisions.jsonl'), stateDir: path.join(dir, 'state') };
}

function run(log: string, opts: EvaluateCliOptions) {
  const io = capture();
  const code = evaluateCommand(log, opts, io);
  return { code, io };
}

// One randomised daemon log (default exploration) and one deterministic one, shared.
let randomised: Promise<DaemonLog> | undefined;
let deterministic: Promise<DaemonLog> | undefined;
const randomisedLog = () => (randomised ??= daemonLog(0.05, 5000));
const deterministicLog = () => (deterministic ??= daemonLog(0, 2500));

test('a daemon log holds every subsystem: evaluate names them and asks for --subsystem', async (t) => {
  const { log } = await randomisedLog();
  const { code, io } = run(log, { policy: 'linucb:alpha=0.5' });
  t.is(code, 2);
  t.regex(
    io.all(),
    /holds decisions of 2 subsystems: synthetic \(\d+ decisions, k = 16\), readahead \(\d+ decisions, k = 3\); evaluate one at a time with --subsystem NAME/,
  );
  const unknown = run(log, { policy: 'linucb', subsystem: 'readahed' });
  t.is(unknown.code, 2);
  t.regex(unknown.io.all(), /no decision of subsystem "readahed"; the log holds synthetic/);
});

test('evaluate --subsystem readahead works on a daemon log, with support figures', async (t) => {
  const { log } = await randomisedLog();
  const { code, io } = run(log, { policy: 'linucb:alpha=0.5', subsystem: 'readahead', json: true });
  t.is(code, 0, io.all());
  const res = JSON.parse(io.stdout[0]) as {
    subsystem: string;
    n: number;
    trainOnly: number;
    k: number;
    candidate: { support: { ess: number; supported: number }; dr: { lo: number; hi: number } };
  };
  t.is(res.subsystem, 'readahead');
  t.is(res.k, 3); // the readahead profile's arms: 128 KiB, 512 KiB, 1 MiB
  // The readahead decisions read: those scored, and those that only train (the safety
  // fallback's and the conservative wrapper's forced baseline plays: most of this short
  // log's readahead decisions, e.g. 129 and 47 of 196, with 20 scored).
  t.true(res.n + res.trainOnly > 50, `${res.n} + ${res.trainOnly} readahead decisions`);
  t.true(res.n > 0);
  t.true(res.candidate.support.ess > 0);
  t.true(res.candidate.dr.lo <= res.candidate.dr.hi);
  // Shadowed or expired advice and the safety fallback are named, not silently used.
  t.regex(io.stderr.join('\n'), /safety fallback only train the policies|decision\(s\)/);
});

test('the randomised daemon log gives exact support: every choice of a candidate had a positive probability', async (t) => {
  const { log } = await randomisedLog();
  const data = loadOpeData(log, { subsystem: 'synthetic' });
  t.true(data.decisions.every((d) => d.distribution !== undefined));
  const ev = evaluateCandidate(data, 'ucb1');
  // Only the conservative wrapper's forced baseline plays (a few %) are point masses.
  t.true(ev.support.supported > 0.9, `supported ${ev.support.supported}`);
  t.true(ev.support.randomisedArms > 0.9);
});

test('the conservative wrapper’s forced baseline plays only train: named in a warning and not scored; every scored choice had support', async (t) => {
  const { log } = await randomisedLog();
  const warnings: string[] = [];
  const data = loadOpeData(log, { subsystem: 'synthetic', onWarning: (w) => warnings.push(w) });
  const forced = data.decisions.filter((d) => d.trainOnly && d.policy !== 'safety:baseline');
  t.true(forced.length > 0, 'the budget forced some baseline plays');
  t.true(forced.every((d) => d.propensity === 1 && d.arm === 4));
  t.regex(
    warnings.join('\n'),
    new RegExp(
      `: ${forced.length} decision\\(s\\) the conservative wrapper forced to the baseline only train the policies`,
    ),
  );
  const ev = evaluateCandidate(data, 'ucb1');
  t.is(ev.n, data.decisions.filter((d) => !d.trainOnly).length);
  t.is(ev.support.supported, 1, 'the exploration mix gave every legal arm a chance');
});

test('--current-checkpoint: the deployed policy is restored and judged on the decisions after its checkpoint', async (t) => {
  const { log, stateDir } = await randomisedLog();
  const files = fs
    .readdirSync(stateDir)
    .filter((f) => f.startsWith('checkpoint-'))
    .sort();
  t.true(files.length >= 2);
  const oldest = path.join(stateDir, files[0]);
  const { code, io } = run(log, {
    policy: 'linucb:alpha=0.5',
    subsystem: 'synthetic',
    currentCheckpoint: oldest,
    json: true,
  });
  // Promote, keep, or refuse for lack of support: a verdict, never a failure.
  t.true([0, 1, 3].includes(code), io.all());
  const res = JSON.parse(io.stdout[0]) as { n: number; current: { matchRate: number } };
  // Restored from its checkpoint, the deployed policy repeats its own logged choices except
  // where the exploration mix (5%) overrode it: a cold replay of the same spec cannot.
  t.true(res.current.matchRate > 0.9, `current matched ${res.current.matchRate}`);
  t.regex(
    io.stderr.join('\n'),
    /is evaluated on the decisions logged after it; the \d+ decisions before it train the candidate first/,
  );
  const newest = path.join(stateDir, files[files.length - 1]);
  const late = run(log, { policy: 'linucb', subsystem: 'synthetic', currentCheckpoint: newest });
  t.is(late.code, 2);
  t.regex(late.io.all(), /no decision of .* made after the checkpoint .*pass an older checkpoint/);
  const both = run(log, { policy: 'linucb', against: 'ucb1', currentCheckpoint: oldest });
  t.is(both.code, 2);
  t.regex(both.io.all(), /either --against SPEC or --current-checkpoint FILE/);
  const dir = run(log, { policy: 'linucb', subsystem: 'synthetic', currentCheckpoint: stateDir });
  t.is(dir.code, 2);
  t.regex(
    dir.io.all(),
    /is a directory; pass one checkpoint file, e\.g\. .*checkpoint-\d{10}\.json/,
  );
  const which = run(log, { policy: 'linucb', subsystem: 'nope', currentCheckpoint: oldest });
  t.is(which.code, 2);
});

test('the gate refuses (exit 3) on a deterministic log, and says why', async (t) => {
  const { log } = await deterministicLog();
  const { code, io } = run(log, {
    policy: 'linucb:alpha=0.5',
    against: 'linucb:alpha=1',
    subsystem: 'synthetic',
  });
  t.is(code, 3, io.all());
  const out = io.stdout.join('\n');
  t.regex(out, /verdict: REFUSED/);
  t.regex(out, /every logged propensity is 1: the logging policy was deterministic/);
  t.notRegex(out, /PROMOTE/);
  const json = run(log, {
    policy: 'ucb1',
    against: 'linucb:alpha=1',
    subsystem: 'synthetic',
    json: true,
  });
  t.is(json.code, 3);
  const res = JSON.parse(json.io.stdout[0]) as {
    promote: boolean;
    verdict: string;
    refusals: string[];
  };
  t.false(res.promote);
  t.is(res.verdict, 'refused');
  t.true(res.refusals.length >= 1);
});

test('support problems: a candidate the log rarely followed has a small effective sample size', async (t) => {
  const { log } = await randomisedLog();
  const data = loadOpeData(log, { subsystem: 'synthetic' });
  // Always the lowest legal arm: the logging policy almost never played it.
  const lowest = {
    name: 'lowest-legal',
    make: (s: { k: number; d: number }) => ({
      kind: 'lowest',
      k: s.k,
      d: s.d,
      learnsFrom: 'any' as const,
      select: (_x?: ArrayLike<number>, legal?: ArrayLike<number | boolean>) => ({
        arm: Array.prototype.findIndex.call(legal ?? [1], Boolean) as number,
        propensity: 1,
      }),
      update: () => {},
      snapshot: () => ({
        kind: 'lowest',
        version: 1,
        params: {},
        state: {},
        rng: { s: [1, 0, 0, 0] as [number, number, number, number], spare: null },
      }),
    }),
  };
  const ev = evaluateCandidate(data, lowest);
  const problems = supportProblems(data, ev, 'candidate');
  t.true(ev.support.ess < 100, `ess ${ev.support.ess}`);
  t.regex(problems.join('\n'), /effective sample size .* is below 100 \(--min-ess\)/);
});

test('--no-learn says that a spec is evaluated untrained', async (t) => {
  const { log } = await randomisedLog();
  const { code, io } = run(log, { policy: 'linucb', subsystem: 'synthetic', learn: false });
  t.is(code, 0);
  t.regex(
    io.stderr.join('\n'),
    /--no-learn evaluates linucb untrained: a cold start that never learns/,
  );
});

function writeLog(lines: (object | string)[]): string {
  const dir = tempDir('mlp-ope-msg-');
  const file = path.join(dir, 'decisions.jsonl');
  fs.writeFileSync(
    file,
    lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n',
  );
  return file;
}

const decision = (i: number, extra: Record<string, unknown> = {}) => ({
  v: 1,
  type: 'decision',
  id: `r:s:${i}`,
  time: '2026-01-01T00:00:00Z',
  subsystem: 's',
  epoch: i,
  context: [0.5, 1],
  k: 3,
  arm: 1,
  knobs: [1],
  propensity: 0.5,
  distribution: [0.25, 0.5, 0.25],
  policy: 'x',
  policyVersion: i,
  verdict: 'applied',
  ...extra,
});
const reward = (i: number, extra: Record<string, unknown> = {}) => ({
  v: 1,
  type: 'reward',
  id: `r:s:${i}`,
  time: '2026-01-01T00:00:01Z',
  reward: 0.5,
  applied: true,
  eff: 1,
  baselineEff: 1,
  ...extra,
});

test('messages: a directory, a reward outside [0, 1], a corrupt line, advice that did not run', (t) => {
  const good = writeLog([decision(1), reward(1), decision(2), reward(2)]);
  const dir = run(path.dirname(good), { policy: 'ucb1' });
  t.is(dir.code, 2);
  t.regex(
    dir.io.all(),
    /mlp-ope-msg-\w+ is a directory; pass the decision log file, e\.g\. .*decisions\.jsonl/,
  );

  const big = writeLog([decision(1), reward(1), decision(2), reward(2, { reward: 1.7 })]);
  const r = run(big, { policy: 'ucb1' });
  t.is(r.code, 2);
  t.regex(r.io.all(), /decision "r:s:2": reward 1\.7 is outside \[0, 1\].*--reward-range LO,HI/);
  t.is(run(big, { policy: 'ucb1', rewardRange: [0, 2] }).code, 0);

  const corrupt = writeLog([decision(1), reward(1), '{"v":1,"type":', decision(2), reward(2)]);
  const c = run(corrupt, { policy: 'ucb1' });
  t.is(c.code, 2);
  t.regex(c.io.all(), /decisions\.jsonl:3: not valid JSON.*pass --skip-bad-lines/);
  t.notRegex(c.io.all(), /skipBadLines/);
  const skipped = run(corrupt, { policy: 'ucb1', skipBadLines: true });
  t.is(skipped.code, 0);
  t.regex(skipped.io.all(), /:3: .*line skipped/);

  const shadowed = writeLog([
    decision(1),
    reward(1),
    decision(2),
    reward(2, { applied: false }),
    decision(3, { knobs: [1] }),
    reward(3, { knobs: [2] }),
  ]);
  const warnings: string[] = [];
  const data = loadOpeData(shadowed, { onWarning: (w) => warnings.push(w) });
  t.is(data.decisions.length, 1);
  t.regex(warnings.join('\n'), /1 decision\(s\) whose advice did not run .* left out/);
  t.regex(warnings.join('\n'), /1 decision\(s\) ran other knobs than advised .* left out/);
});

test('decision records: a logged distribution must fit k, the legal mask and the propensity', (t) => {
  const problem = (extra: Record<string, unknown>) => {
    const r = checkLogRecord(decision(1, extra));
    return 'problem' in r ? r.problem : 'ok';
  };
  t.is(problem({}), 'ok');
  t.regex(problem({ distribution: [0.5, 0.5] }), /distribution has 2 entries, must have k = 3/);
  t.regex(problem({ distribution: [0.2, 0.5, 0.2] }), /sums to 0\.8999/);
  t.regex(
    problem({ distribution: [0.5, 0.25, 0.25] }),
    /chosen arm 1 probability 0\.25, but its propensity is 0\.5/,
  );
  t.regex(problem({ legal: [0, 1, 1] }), /gives illegal arm 0 probability 0\.25/);
  t.regex(problem({ distribution: [1.5, -0.5, 0] }), /distribution/);
});

test('replay --actions to a path that cannot be written fails at once, naming it', (t) => {
  const dir = tempDir('mlp-replay-');
  const io = capture();
  t.is(
    replayCommand(dir, { policy: 'linucb', actions: path.join(dir, 'no', 'such', 'a.json') }, io),
    2,
  );
  t.regex(io.all(), /--actions .*a\.json: its directory .* does not exist; create it first/);
  // Checked before anything else: the folder (not a problem folder here) was never read.
  t.notRegex(io.all(), /not a problem folder/);
  const isDir = capture();
  t.is(replayCommand(dir, { policy: 'linucb', actions: dir }, isDir), 2);
  t.regex(isDir.all(), /--actions .*: it is a directory/);
});

test('each experiment command lists its own exit codes in --help', async (t) => {
  const ev = await runCli(['evaluate', '--help']);
  t.is(ev.code, 0);
  t.regex(ev.stdout, /3 {2}refused: the log does not support the comparison/);
  t.notRegex(ev.stdout, /device missing/);
  const rp = await runCli(['replay', '--help']);
  t.regex(rp.stdout, /2 {2}usage error or bad input: problem folder/);
  t.notRegex(rp.stdout, /device missing/);
  const ex = await runCli(['experiment', '--help']);
  t.regex(ex.stdout, /1 {2}a run failed/);
  t.notRegex(ex.stdout, /device missing/);
  const runHelp = await runCli(['run', '--help']);
  t.regex(runHelp.stdout, /3 {2}device missing/);
});
