/**
 * Daemon overhead: the whole per-decision path of the tuner daemon (read state, features,
 * legal mask, conservative LinUCB select, safety check, recommend, decision-log line,
 * feedback, reward, update, reward-log line, metrics, periodic checkpoints) on the
 * simulated device (IoctlDevice over the fake kernel: the byte codec included) with the auto clock, where waitFeedback() closes the next window at once, so no time is
 * spent waiting for kernel windows. Both subsystems are pinned to RECOMMENDATION (every
 * window is an advice window, and collapse falls are disabled) so that every window is a
 * decision. The figure includes the simulated kernel's own work, so it is an upper bound
 * of the daemon's overhead.
 *
 * Each case runs in its own Node process (this file is the worker's entry point too):
 * RSS is then the daemon's alone.
 *
 *   node dist/bench/run.js daemon            (both cases)
 *   node dist/bench/daemon.js --child 1000000 100000
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { applyOverrides, loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/loop/daemon.js';
import { DaemonMetrics } from '../src/metrics/metrics.js';
import { Mode } from '../src/transport/device.js';
import { simDevice } from '../src/transport/sim/fake-kernel.js';
import { gcFunction } from './gc.js';
import type { BenchModule, BenchOptions, Row } from './types.js';

const CASES: Record<string, { decisions: number; checkpointEvery: number }> = {
  'overhead-default-checkpoints': { decisions: 200_000, checkpointEvery: 500 },
  'rss-1m': { decisions: 1_000_000, checkpointEvery: 100_000 },
};

interface ChildResult {
  decisions: number;
  seconds: number;
  usPerDecision: number;
  rssMb: number;
  heapMb: number;
}

async function child(decisions: number, checkpointEvery: number): Promise<ChildResult> {
  const gc = gcFunction();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-bench-'));
  try {
    const cfg = applyOverrides(
      loadConfig(undefined, { stateDir: path.join(dir, 'state'), logDir: path.join(dir, 'log') }),
      { sim: true, virtualTime: true, checkpointEvery },
    );
    cfg.checkpoint.everySeconds = 3600;
    // Bounded disk use: the log rotates at 16 MiB and keeps one old part.
    cfg.decisionLog = { maxBytes: 16 * 1024 * 1024, keep: 1 };
    const device = simDevice({
      kernelOptions: {
        clock: 'auto',
        params: { collapsePct: 0, heartbeatMs: 600000 },
        synthetic: { windowMs: 10 },
        readahead: { windowMs: 10 },
      },
    });
    for (const s of device.listSubsystems()) device.setMode(s.id, Mode.Recommendation, true);
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const daemon = new Daemon({
      config: cfg,
      device,
      logger: pino({ level: 'warn' }, sink),
      metrics: new DaemonMetrics(),
      maxDecisions: decisions,
    });
    const t0 = process.hrtime.bigint();
    const summary = await daemon.run();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    gc();
    const mem = process.memoryUsage();
    return {
      decisions: summary.decisions,
      seconds,
      usPerDecision: (seconds * 1e6) / summary.decisions,
      rssMb: mem.rss / 2 ** 20,
      heapMb: mem.heapUsed / 2 ** 20,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const daemonBench: BenchModule = {
  name: 'daemon',
  description:
    'daemon overhead per decision on the simulated device (auto clock, no window waits; targets < 50 us/decision, RSS < 100 MB after 1M decisions)',
  cases: () => Object.keys(CASES),
  run(cases: string[], _opts: BenchOptions): Row[] {
    const rows: Row[] = [];
    for (const name of cases) {
      const c = CASES[name];
      const r = spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--child', String(c.decisions), String(c.checkpointEvery)],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      if (r.status !== 0) throw new Error(`daemon bench ${name} failed: ${r.stderr}`);
      const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
      rows.push({
        case: name,
        decisions: res.decisions,
        'checkpoint every': c.checkpointEvery,
        seconds: Number(res.seconds.toFixed(2)),
        'us/decision': Number(res.usPerDecision.toFixed(1)),
        'target us': 50,
        'RSS MB': Number(res.rssMb.toFixed(1)),
        'heap MB': Number(res.heapMb.toFixed(1)),
        'target RSS MB': 100,
      });
    }
    return rows;
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--child') {
  const result = await child(Number(process.argv[3]), Number(process.argv[4]));
  process.stdout.write(JSON.stringify(result) + '\n');
}
