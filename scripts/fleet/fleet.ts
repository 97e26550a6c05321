/**
 * `npm run demo:fleet`: a local nats-server, the trainer (`mlproxy train`, a child
 * process) and four simulated hosts whose read-ahead workloads differ (sequential,
 * random, mixed, and phases of all three). The hosts learn and publish; the trainer
 * gates and publishes fleet versions. The four hosts only publish (fleet.adopt false) and
 * take turns, so that the stream's order, and with it every round of the trainer, is the
 * same from run to run. Then new hosts start on a workload of their own with the same
 * seeds: learning alone, and adopting each version the trainer published (pinned in turn
 * with `mlproxy fleet pin`); the demo measures, window by window, when the kernel starts
 * running the good setting (the best read-ahead for the workload in at least 80% of 50
 * windows).
 *
 * Everything runs in virtual time (500 ms kernel windows, as the module's read-ahead);
 * times are device time. Prints a one-line summary and writes results/fleet-demo.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { jetstreamManager } from '@nats-io/jetstream';
import { kvBucket, pointerKey, streamName } from '../../src/fleet/names.js';
import { parsePointer } from '../../src/fleet/pointer.js';
import type { PolicyPointer } from '../../src/fleet/pointer.js';
import { ReadaheadModel } from '../../src/transport/sim/readahead.js';
import type { Workload } from '../../src/transport/sim/readahead.js';
import { cleanup, fleetSettings, makeHost, runHost, tempDir, until } from './fleet-sim.js';
import type { SimHost } from './fleet-sim.js';
import { NatsServer, natsServerBinary } from './nats-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const POLICY = 'linegreedy:epsilon=0.1';
const FLEET = 'demo';
const WINDOW_S = 0.5;
/** The good setting: the best read-ahead for the workload in >= 80% of 50 windows. */
const SPAN = 50;
const SHARE = 0.8;
const MEASURE_WINDOWS = 2400;
const FLEET_CHUNKS = 64;
const CHUNK_DECISIONS = 50;
const NEW_HOST_SEEDS = [11, 12, 13];
const NEW_HOST_WORKLOADS: Workload[] = ['sequential', 'random'];

/** Read-ahead with a fixed workload (or the model's own phases), recording every window. */
class Workload1 extends ReadaheadModel {
  readonly trace: { knob: number; best: number; eff: number; bestEff: number }[] = [];
  constructor(
    seed: number,
    private readonly kind: Workload | 'phases',
  ) {
    super({ seed });
  }
  override workload(w: number): Workload {
    return this.kind === 'phases' ? super.workload(w) : this.kind;
  }
  override endWindow(w: number, knobs: readonly number[]): number {
    const eff = super.endWindow(w, knobs);
    const kind = this.workload(w);
    const best = bestKnob(kind);
    this.trace.push({
      knob: knobs[0],
      best,
      eff: ReadaheadModel.idealEff(kind, knobs[0]),
      bestEff: ReadaheadModel.idealEff(kind, best),
    });
    return eff;
  }
}

function bestKnob(kind: Workload): number {
  let best = 4;
  for (let k = 4; k <= 12; k++) {
    if (ReadaheadModel.idealEff(kind, k) > ReadaheadModel.idealEff(kind, best)) best = k;
  }
  return best;
}

/** First window from which the good setting runs in >= SHARE of SPAN windows. */
function reachedAt(trace: Workload1['trace']): number | null {
  let good = 0;
  for (let w = 0; w < trace.length; w++) {
    if (trace[w].knob === trace[w].best) good++;
    if (w >= SPAN && trace[w - SPAN].knob === trace[w - SPAN].best) good--;
    if (w >= SPAN - 1 && good >= SHARE * SPAN) return w - SPAN + 1;
  }
  return null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function log(msg: string): void {
  process.stderr.write(`[demo:fleet] ${msg}\n`);
}

async function pointerNow(url: string): Promise<PolicyPointer | null> {
  const nc = await connect({ servers: url });
  try {
    const kv = await new Kvm(nc).open(kvBucket(FLEET));
    const e = await kv.get(pointerKey('readahead'));
    return e && e.operation === 'PUT' ? parsePointer(e.value) : null;
  } finally {
    await nc.close();
  }
}

function hostFor(
  name: string,
  kind: Workload | 'phases',
  seed: number,
  fleet: ReturnType<typeof fleetSettings> | null,
): { host: SimHost; model: Workload1 } {
  const model = new Workload1(seed, kind);
  const host = makeHost(name, fleet, { subsystems: [], models: [model] }, (c) => {
    c.defaults.policy = POLICY;
    // Without the conservative budget: its forced baseline plays reset the kernel's
    // promotion streak, so that under it no host (fleet or alone) leaves LEARNING within
    // the measured span (docs/fleet.md). The kernel's ladder and the collapse guard stay.
    c.defaults.conservative = false;
    c.seed = seed;
  });
  return { host, model };
}

async function main(): Promise<void> {
  const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  if (!natsServerBinary()) {
    log('nats-server is missing; installing it (scripts/fleet/install-nats.sh)');
    const r = spawnSync('bash', [path.join(ROOT, 'scripts/fleet/install-nats.sh')], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('cannot install nats-server: apt-get install nats-server');
  }
  const bin = natsServerBinary()!;
  const server = await NatsServer.start(bin);
  log(`${NatsServer.version(bin)} on ${server.url}, store ${server.storeDir}`);
  const work = tempDir('mlp-fleet-demo-');
  // The default held-out window (1000 samples): with 400, the four hosts' different
  // workloads left the pooled candidate an effective sample size of 19 to 105 (median 37),
  // so that the gate refused 29 of 30 rounds for want of support (docs/fleet.md).
  const fleet = fleetSettings(server.url, FLEET, (f) => {
    f.train.evalSamples = 1000;
    f.train.everySamples = 400;
  });
  const cfgFile = path.join(work, 'fleet.json');
  fs.writeFileSync(
    cfgFile,
    JSON.stringify({
      defaults: { policy: POLICY },
      fleet: { server: server.url, name: FLEET, train: fleet.train },
    }),
  );
  const cli = (args: string[]): string[] => [path.join(ROOT, 'dist/cli/main.js'), ...args];
  const trainerLog = path.join(work, 'trainer.log');
  const out = fs.openSync(trainerLog, 'w');
  const trainer = spawn(
    process.execPath,
    cli(['train', '--config', cfgFile, '--state-dir', path.join(work, 'trainer'), '--no-pretty']),
    { stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  const hosts: SimHost[] = [];
  try {
    // Phase 1: four hosts, four workloads, learning alone and publishing, one after another.
    const kinds: (Workload | 'phases')[] = ['sequential', 'random', 'mixed', 'phases'];
    const publishOnly = { ...fleet, adopt: false };
    const fleetHosts = kinds.map((k, i) => hostFor(`host-${k}`, k, 1 + i, publishOnly));
    hosts.push(...fleetHosts.map((x) => x.host));
    for (let c = 0; c < FLEET_CHUNKS; c++) {
      for (const x of fleetHosts) {
        await runHost(x.host, CHUNK_DECISIONS);
        if (!(await x.host.fleet!.flush(120000)))
          throw new Error(`${x.host.name} could not publish`);
      }
      if ((c + 1) % 8 === 0) {
        const p = await pointerNow(server.url);
        log(
          `fleet: ${(c + 1) * CHUNK_DECISIONS} decisions per host; fleet policy ${p ? `v${p.version}` : 'none yet'}`,
        );
      }
    }
    // Let the trainer consume everything, then stop it (it finishes its rounds first).
    const nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await until(
      async () => {
        const ci = await jsm.consumers
          .info(streamName(FLEET), fleet.train.consumer)
          .catch(() => null);
        return ci !== null && ci.num_pending === 0 && ci.num_ack_pending === 0;
      },
      300000,
      'the trainer to consume the stream',
    );
    const stored = (await jsm.streams.info(streamName(FLEET))).state.messages;
    await nc.close();
    trainer.kill('SIGTERM');
    await new Promise((r) => trainer.once('exit', r));
    const rounds = fs
      .readFileSync(trainerLog, 'utf8')
      .split('\n')
      .filter((l) => l.includes(' round '))
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    for (const r of rounds) log(r);
    const latest = await pointerNow(server.url);
    if (!latest) throw new Error('the trainer published no version: see the rounds above');
    const versions = Array.from({ length: latest.version }, (_, i) => i + 1);
    log(
      `${stored} records from 4 hosts, ${rounds.length} rounds, v1..v${latest.version} published; latest: ${fmtEval(latest)}`,
    );

    // Phase 2: new hosts on workloads of their own, same seeds: alone, and with each version.
    const runs: {
      workload: Workload;
      seed: number;
      mode: string;
      reachedWindow: number | null;
      meanEffShare: number;
      adopted: number | null;
    }[] = [];
    for (const mode of ['alone', ...versions.map((v) => `v${v}`)]) {
      if (mode !== 'alone') {
        const pin = spawnSync(
          process.execPath,
          cli([
            'fleet',
            'pin',
            'readahead',
            mode,
            '--server',
            server.url,
            '--fleet',
            FLEET,
            '--reason',
            'demo',
          ]),
          { encoding: 'utf8' },
        );
        if (pin.status !== 0) throw new Error(`mlproxy fleet pin: ${pin.stderr}`);
      }
      for (const workload of NEW_HOST_WORKLOADS) {
        for (const seed of NEW_HOST_SEEDS) {
          const name = `new-${workload}-${seed}-${mode}`;
          const { host, model } = hostFor(name, workload, seed, mode === 'alone' ? null : fleet);
          hosts.push(host);
          // The version is verified when the daemon attaches and adopted at its first turn.
          if (host.fleet) await host.fleet.waitForStartup(30000);
          await runHost(host, 1e9, () => model.trace.length >= MEASURE_WINDOWS);
          const t = model.trace.slice(0, MEASURE_WINDOWS);
          const at = reachedAt(t);
          const adopted = host.fleet?.status().subsystems.readahead?.adoptedVersion ?? null;
          if (host.fleet && adopted !== Number(mode.slice(1))) {
            throw new Error(
              `${name} did not adopt ${mode}: ${host.fleet.status().subsystems.readahead?.state}`,
            );
          }
          runs.push({
            workload,
            seed,
            mode,
            reachedWindow: at,
            meanEffShare: t.reduce((a, x) => a + x.eff / x.bestEff, 0) / t.length,
            adopted,
          });
          log(
            `${workload} seed ${seed} ${mode}: good setting ${at === null ? `not reached in ${MEASURE_WINDOWS} windows` : `from window ${at} (${(at * WINDOW_S).toFixed(0)} s)`}, mean efficiency ${(100 * runs.at(-1)!.meanEffShare).toFixed(1)}% of the best`,
          );
          if (host.fleet) await host.fleet.close(0);
        }
      }
    }
    const secs = (m: string, w?: Workload): number[] =>
      runs
        .filter((r) => r.mode === m && (!w || r.workload === w))
        .map((r) => (r.reachedWindow === null ? Infinity : r.reachedWindow * WINDOW_S));
    const show = (xs: number[]): string =>
      xs.map((x) => (Number.isFinite(x) ? x.toFixed(0) : 'never')).join('/');
    const last = `v${latest.version}`;
    const medians = versions.map((v) => `v${v} ${median(secs(`v${v}`)).toFixed(0)}`).join(', ');
    const summary =
      `fleet demo: new hosts reached the good read-ahead setting after a median ${median(secs(last)).toFixed(0)} s (device time) adopting the fleet's latest ${last}` +
      ` vs ${median(secs('alone')).toFixed(0)} s learning alone, same seeds (` +
      NEW_HOST_WORKLOADS.map(
        (w) => `${w}: ${show(secs(last, w))} s vs ${show(secs('alone', w))} s`,
      ).join('; ') +
      `); medians with every version: ${medians} s; ${rounds.length} trainer rounds on ${stored} records of 4 hosts`;
    const loadAfter = fs.readFileSync('/proc/loadavg', 'utf8').trim();
    const result = {
      summary,
      command: 'npm run demo:fleet',
      date: new Date().toISOString(),
      server: NatsServer.version(bin),
      node: process.version,
      loadavg: { before: loadBefore, after: loadAfter },
      policy: POLICY,
      definition: `good setting: the best read-ahead for the workload in >= ${SHARE * 100}% of ${SPAN} consecutive windows; ${WINDOW_S} s windows; ${MEASURE_WINDOWS} windows measured`,
      pointer: latest,
      records: stored,
      rounds,
      runs,
    };
    fs.mkdirSync(path.join(ROOT, 'results'), { recursive: true });
    fs.writeFileSync(
      path.join(ROOT, 'results/fleet-demo.json'),
      JSON.stringify(result, null, 2) + '\n',
    );
    log(`results/fleet-demo.json written; load average before ${loadBefore}, after ${loadAfter}`);
    process.stdout.write(summary + '\n');
  } finally {
    if (trainer.exitCode === null) trainer.kill('SIGTERM');
    await Promise.all(hosts.map((h) => h.fleet?.close(0)));
    await server.stop();
    cleanup(work, ...hosts.map((h) => h.dir));
  }
}

function fmtEval(p: PolicyPointer): string {
  const e = p.evaluation;
  return `DR ${e.candidate.value.toFixed(3)} [${e.candidate.lo.toFixed(3)}, ${e.candidate.hi.toFixed(3)}] vs baseline ${e.baseline.value.toFixed(3)}, on ${e.samples} held-out samples from ${e.hosts} hosts`;
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`[demo:fleet] failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
