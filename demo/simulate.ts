/**
 * The daemon's read-ahead learning in simulation, before a guest run: the real Daemon
 * (src/loop/daemon.ts) on the simulated device's readahead model (the cloud-small disk,
 * src/transport/sim/readahead.ts) with the module parameters of the demo, in virtual
 * time. Per phase of the model's workload: the delivered MiB/s against the phase's best
 * fixed setting and against the default, and the windows until the daemon ran the best
 * setting in most of its advice windows. Deterministic for a seed.
 *
 *   node dist/demo/simulate.js [--policy linucb:alpha=1] [--windows 3000]
 *     [--seeds 1,2,3] [--window-ms 100] [--params learningPeriod=4,promoteWindows=3,...]
 */
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { applyOverrides, loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/loop/daemon.js';
import type { Feedback } from '../src/transport/device.js';
import type { KernelParams } from '../src/transport/sim/kernel.js';
import { ReadaheadModel, WORKLOADS } from '../src/transport/sim/readahead.js';
import type { Workload } from '../src/transport/sim/readahead.js';
import { simDevice } from '../src/transport/sim/fake-kernel.js';
import { SimKernel } from '../src/transport/sim/kernel.js';

export interface PhaseResult {
  kind: Workload;
  windows: number;
  /** Mean delivered MiB/s over the phase, and of its best fixed setting and the default. */
  mibs: number;
  best: number;
  baseline: number;
  /** Windows from the phase's start until 80 % of the remaining advice windows ran a near-best arm. */
  settle: number | null;
  /** Windows per mode (EMERGENCY .. RECOMMENDATION). */
  modes: number[];
}

/** Runs the daemon for `windows` windows of the readahead model; per-phase results. */
export async function simulate(opts: {
  policy: string;
  conservative: number | false;
  seed: number;
  windows: number;
  windowMs: number;
  params: Partial<KernelParams>;
}): Promise<PhaseResult[]> {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'mlp-rasim-'));
  try {
    const cfg = applyOverrides(
      loadConfig(undefined, {
        stateDir: nodePath.join(dir, 'state'),
        logDir: nodePath.join(dir, 'log'),
      }),
      { sim: true, virtualTime: true },
    );
    cfg.seed = opts.seed;
    // The daemon's built-in readahead settings (SUBSYSTEM_DEFAULTS) unless a policy is named.
    cfg.subsystems = [
      opts.policy
        ? {
            name: 'readahead',
            policy: opts.policy,
            conservative: opts.conservative === false ? false : { alpha: opts.conservative },
          }
        : { name: 'readahead' },
    ];
    const model = new ReadaheadModel({ seed: opts.seed, windowMs: opts.windowMs });
    const kernel = new SimKernel({
      clock: 'auto',
      subsystems: [],
      models: [model],
      params: opts.params,
    });
    const device = simDevice({ kernel, ownsKernel: true });
    const watcher = simDevice({ kernel });
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const daemon = new Daemon({
      config: cfg,
      device,
      logger: pino({ level: 'silent' }, sink),
      runId: 'sim',
    });
    const records: Feedback[] = [];
    const done = daemon.run();
    while (kernel.getState(1).epoch < opts.windows) {
      await new Promise((r) => setImmediate(r));
      records.push(...watcher.readFeedback());
    }
    daemon.requestStop('windows');
    await done;
    records.push(...watcher.readFeedback());
    watcher.close();
    device.close();
    return phases(model, records);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function phases(model: ReadaheadModel, records: Feedback[]): PhaseResult[] {
  const out: PhaseResult[] = [];
  let cur: Feedback[] = [];
  const flush = () => {
    if (cur.length === 0) return;
    const kind = model.workload(cur[0].epoch);
    const ideal = (k: number) => ReadaheadModel.idealEff(kind, k);
    let bestK = 4;
    for (let k = 4; k <= 12; k++) if (ideal(k) > ideal(bestK)) bestK = k;
    const near = new Set(
      [4, 5, 6, 7, 8, 9, 10, 11, 12].filter((k) => ideal(k) >= 0.95 * ideal(bestK)),
    );
    const adv = cur.filter((f) => f.applied);
    let settle: number | null = null;
    let good = 0;
    for (let i = adv.length - 1; i >= 0; i--) {
      if (near.has(adv[i].knobs[0])) good++;
      const n = adv.length - i;
      if (n >= 3 && good / n >= 0.8 && near.has(adv[i].knobs[0]))
        settle = adv[i].epoch - cur[0].epoch;
    }
    out.push({
      kind,
      windows: cur.length,
      mibs: cur.reduce((a, f) => a + f.eff, 0) / cur.length,
      best: ideal(bestK),
      baseline: ideal(7),
      settle,
      modes: [0, 1, 2, 3].map((m) => cur.filter((f) => f.mode === m).length),
    });
    cur = [];
  };
  for (const f of records.filter((x) => x.subsysId === 1).sort((a, b) => a.epoch - b.epoch)) {
    if (cur.length && model.workload(f.epoch) !== model.workload(cur[0].epoch)) flush();
    cur.push(f);
  }
  flush();
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      policy: { type: 'string', default: '' },
      conservative: { type: 'string', default: 'false' },
      windows: { type: 'string', default: '3000' },
      seeds: { type: 'string', default: '1,2,3' },
      'window-ms': { type: 'string', default: '100' },
      params: {
        type: 'string',
        default: 'learningPeriod=4,promoteWindows=3,emergencyHoldWindows=2,checkPeriod=16',
      },
    },
  });
  const params = Object.fromEntries(
    values.params
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, Number(v)]),
  ) as Partial<KernelParams>;
  const rows: string[] = [];
  const all: PhaseResult[] = [];
  for (const seed of values.seeds.split(',').map(Number)) {
    const res = await simulate({
      policy: values.policy,
      conservative: values.conservative === 'false' ? false : Number(values.conservative),
      seed,
      windows: Number(values.windows),
      windowMs: Number(values['window-ms']),
      params,
    });
    all.push(...res);
  }
  for (const kind of WORKLOADS) {
    const ph = all.filter((p) => p.kind === kind);
    if (ph.length === 0) continue;
    const sum = (f: (p: PhaseResult) => number) => ph.reduce((a, p) => a + f(p) * p.windows, 0);
    const w = ph.reduce((a, p) => a + p.windows, 0);
    const settles = ph
      .map((p) => p.settle)
      .filter((x): x is number => x !== null)
      .sort((a, b) => a - b);
    rows.push(
      `${kind.padEnd(10)} phases ${String(ph.length).padStart(3)}  of best ${((100 * sum((p) => p.mibs)) / sum((p) => p.best)).toFixed(0)}%` +
        `  of default ${((100 * sum((p) => p.mibs)) / sum((p) => p.baseline)).toFixed(0)}%` +
        `  settle median ${settles.length ? settles[Math.floor(settles.length / 2)] : '-'} windows (${settles.length}/${ph.length}), mean windows ${(w / ph.length).toFixed(0)}` +
        `  modes E/L/C/R ${[0, 1, 2, 3].map((m) => ((100 * ph.reduce((a, p) => a + p.modes[m], 0)) / w).toFixed(0)).join('/')}%`,
    );
  }
  const label = values.policy || 'built-in readahead settings';
  process.stdout.write(
    `${label} conservative=${values.conservative} ${values.params}\n${rows.join('\n')}\n`,
  );
}

if (process.argv[1]?.endsWith('simulate.js')) {
  main().catch((e: Error) => {
    process.stderr.write(`simulate: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
