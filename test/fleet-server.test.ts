/**
 * The fleet against a real nats-server (started here on a free loopback port with a temp
 * store): simulated daemons publish, the trainer builds a policy the gate accepts, the
 * hosts adopt it from LEARNING mode; the server is killed mid-run and restarted, and
 * nothing is lost beyond the counted drops. The network makes the interleaving vary from
 * run to run; every assertion holds for any interleaving (exact accounting; gate margins
 * far wider than the interleaving moves them).
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { createPolicy } from '../policies/registry.js';
import type { PolicySnapshot } from '../policies/types.js';
import {
  kvBucket,
  objectBucket,
  objectName,
  pointerKey,
  sha256Hex,
  streamName,
} from '../src/fleet/names.js';
import { encodeObject, parsePointer, pointerFor } from '../src/fleet/pointer.js';
import type { PolicyHeader } from '../src/fleet/pointer.js';
import { hash32 } from '../src/transport/sim/model.js';
import type { SubsystemModel } from '../src/transport/sim/model.js';
import { Mode } from '../src/transport/device.js';
import {
  cleanup,
  evaluationStub,
  fleetSettings,
  makeHost,
  makeTrainer,
  runHost,
  skipWithoutServer,
  startServerOrSkip,
  until,
} from './helpers/fleet.js';
import type { SimHost } from './helpers/fleet.js';
import { freePort, tempDir } from './helpers/fleet.js';
import { runCli } from './helpers/spawn-cli.js';
import type { NatsServer } from './helpers/fleet.js';

const POLICY = 'linegreedy:epsilon=0.2';
const skip = skipWithoutServer(test);

/** One server for the test that SIGKILLs it, one for the others. */
let crashServer: NatsServer;
let server: NatsServer;
if (!skip) {
  test.before(async () => {
    crashServer = (await startServerOrSkip())!;
    server = (await startServerOrSkip())!;
  });
  test.after.always(async () => {
    await crashServer?.stop();
    await server?.stop();
  });
}

/** Every msgId in the fleet's stream, with the count of messages. */
async function streamIds(
  url: string,
  fleet: string,
): Promise<{ ids: Set<string>; messages: number }> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(streamName(fleet));
    const c = await jetstream(nc).consumers.get(streamName(fleet));
    const ids = new Set<string>();
    let messages = 0;
    if (info.state.messages > 0) {
      const it = await c.consume();
      for await (const m of it) {
        messages++;
        ids.add(m.headers?.get('Nats-Msg-Id') ?? '');
        if (m.info.pending === 0) break;
      }
    }
    return { ids, messages };
  } finally {
    await nc.close();
  }
}

/** How many messages the fleet's stream holds now. */
async function storedMessages(url: string, name: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    return (await (await jetstreamManager(nc)).streams.info(streamName(name))).state.messages;
  } finally {
    await nc.close();
  }
}

if (!skip) {
  test.serial(
    'hosts publish, the trainer gates and publishes, hosts adopt from LEARNING; a crashServer crash loses nothing beyond the counted drops',
    async (t) => {
      const fleet = fleetSettings(crashServer.url, 'main', (f) => {
        f.queueSize = 1500;
        f.train.evalSamples = 400;
        f.train.everySamples = 400;
      });
      const hosts: SimHost[] = [0, 1, 2].map((i) =>
        makeHost(
          `host-${i}`,
          fleet,
          {
            subsystems: ['synthetic'],
            // One hidden phase for the whole run: the best level is 10, the default 4.
            synthetic: { period: 1e9, seed: 100 + i },
          },
          (c) => {
            c.defaults.policy = POLICY;
            c.seed = 7 + i;
          },
        ),
      );
      const tr = makeTrainer(fleet, POLICY);
      try {
        // Phase A: the hosts learn alone and publish; the trainer learns from all of them.
        for (let chunk = 0; chunk < 3; chunk++) {
          await Promise.all(hosts.map((h) => runHost(h, 600)));
          for (const h of hosts) t.true(await h.fleet!.flush(60000), `${h.name} flushed`);
        }
        // Progress, not wall time, decides when to look: once the trainer has taken every
        // message the stream holds and its rounds are done, a version was published or the
        // gate rejected every round (the message lists them). The timeout only guards a hang:
        // on a loaded host the trainer's rounds took over 60 s (two CI failures).
        const stored = await storedMessages(crashServer.url, 'main');
        await until(
          () => tr.trainer.stats.messages >= stored,
          600000,
          'the trainer took the stream',
        );
        await tr.trainer.settle();
        t.true(
          tr.trainer.rounds.some((r) => r.verdict === 'published'),
          `a published version (rounds: ${tr.trainer.rounds.map((r) => `${r.verdict}${r.version ?? ''}`).join(', ')})`,
        );
        const published = tr.trainer.rounds.find((r) => r.verdict === 'published')!;
        t.is(published.version, 1);
        const ev = published.evaluation!;
        t.true(ev.vsBaseline.lo > 0, 'the gate accepted it: the lower bound beats the baseline');
        t.true(ev.hosts >= 2, 'held-out samples from several hosts');
        for (const r of tr.trainer.rounds) {
          if (r.verdict === 'rejected')
            t.regex(r.reason, /does not beat|is not above|cannot support/);
        }

        // The pointer and the object are there, and agree.
        await tr.trainer.settle();
        const nc = await connect({ servers: crashServer.url });
        const kv = await new Kvm(nc).open(kvBucket('main'));
        const pointer = parsePointer((await kv.get(pointerKey('synthetic')))!.value);
        const versions = tr.trainer.rounds
          .filter((r) => r.verdict === 'published')
          .map((r) => r.version);
        t.deepEqual(
          versions,
          versions.map((_, i) => i + 1),
          'versions count up from 1',
        );
        t.is(pointer.version, versions.at(-1)!);
        t.is(pointer.spec, POLICY);
        t.true(pointer.evaluation.vsBaseline.lo > 0);
        const objs = await new Objm(nc).open(objectBucket('main'));
        t.truthy(await objs.getBlob(pointer.object));
        await nc.close();

        // Phase B: the hosts see the pointer, verify it and adopt it at their next turn,
        // from LEARNING mode; the crashServer is killed in the middle of the run.
        await until(
          () =>
            hosts.every((h) =>
              new RegExp(`verified|running v${pointer.version}`).test(
                h.fleet!.status().subsystems.synthetic?.state ?? '',
              ),
            ),
          30000,
          'hosts verified the pointer',
        );
        let killed = false;
        hosts[0].onDecision = (n) => {
          if (!killed && hosts[0].outcomes.length > 0 && n % 200 === 0) {
            killed = true;
            void crashServer.kill();
          }
        };
        await Promise.all(hosts.map((h) => runHost(h, 1500)));
        t.true(killed, 'the crashServer was killed mid-run');
        const outcomes = hosts.flatMap((h) => h.outcomes);
        for (const h of hosts) {
          t.true(h.outcomes.length >= 1, `${h.name} adopted`);
          for (const o of h.outcomes) t.true(o.adopted, `${h.name}: ${o.reason}`);
          t.true((h.fleet!.status().subsystems.synthetic.adoptedVersion ?? 0) >= pointer.version);
        }
        for (const o of outcomes) {
          if (o.modeBefore! > Mode.Learning)
            t.is(o.modeAfter, Mode.Learning, 'the ladder restarts from LEARNING');
          else t.is(o.modeAfter, o.modeBefore, 'EMERGENCY and LEARNING are left to the kernel');
        }
        t.true(
          outcomes.some((o) => o.modeBefore! > Mode.Learning),
          'some host had climbed above LEARNING',
        );
        const dropped = hosts.reduce((a, h) => a + h.fleet!.publisher.stats.dropped, 0);
        t.true(dropped > 0, 'the outage overflowed the bounded queue');

        // The crashServer comes back: the hosts catch up; nothing is lost beyond the drops.
        await crashServer.restart();
        for (const h of hosts) t.true(await h.fleet!.flush(120000), `${h.name} caught up`);
        const { ids, messages } = await streamIds(crashServer.url, 'main');
        t.is(messages, ids.size, 'no record stored twice (message ids)');
        const produced = new Set(hosts.flatMap((h) => [...h.produced]));
        for (const id of ids) t.true(produced.has(id), `stored ${id} was produced`);
        t.is(produced.size - ids.size, dropped, 'produced = stored + counted drops');
        await until(
          () => tr.trainer.stats.messages >= messages,
          60000,
          'the trainer consumed everything',
        );
        t.is(tr.trainer.stats.messages, messages);
        t.is(tr.trainer.stats.invalid, 0);
      } finally {
        tr.trainer.stop();
        await tr.run;
        await Promise.all(hosts.map((h) => h.fleet!.close(0)));
        cleanup(tr.dir, ...hosts.map((h) => h.dir));
      }
    },
  );
}

/** A subsystem whose kernel default is its best setting: no candidate can beat it. */
class DefaultIsBest implements SubsystemModel {
  readonly name = 'flat';
  readonly windowMs = 10;
  readonly features = [{ name: 'load', unit: 'permille', scale: 1000 }];
  readonly knobs = [{ name: 'level', unit: '', min: 0, max: 7, step: 1, def: 3, maxDelta: 0 }];
  constructor(private readonly seed: number) {}
  featuresAt(w: number): number[] {
    return [(w * 37) % 1000];
  }
  endWindow(w: number, knobs: readonly number[]): number {
    const noise = (hash32((w ^ this.seed) >>> 0) % 20001) - 10000;
    return 800000 - 60000 * Math.abs(knobs[0] - 3) + noise;
  }
}

if (!skip) {
  test.serial(
    'a candidate the gate rejects is never published; a restarted trainer resumes without loss or double counting',
    async (t) => {
      const fleet = fleetSettings(server.url, 'flat', (f) => {
        f.train.evalSamples = 200;
        f.train.everySamples = 200;
      });
      const hosts = [0, 1].map((i) =>
        makeHost(`flat-${i}`, fleet, { subsystems: [], models: [new DefaultIsBest(i)] }, (c) => {
          c.defaults.policy = POLICY;
          c.seed = 3 + i;
        }),
      );
      let tr = makeTrainer(fleet, POLICY);
      const trainerDir = tr.dir;
      try {
        for (const h of hosts) await runHost(h, 700);
        for (const h of hosts) t.true(await h.fleet!.flush(60000));
        await until(() => tr.trainer.rounds.length >= 2, 120000, 'two rounds');
        await tr.trainer.settle();
        const before = tr.trainer.stats.messages;
        tr.trainer.stop();
        await tr.run;
        // The trainer restarts from its checkpoint; the hosts publish more meanwhile.
        for (const h of hosts) await runHost(h, 500);
        for (const h of hosts) t.true(await h.fleet!.flush(60000));
        tr = makeTrainer(fleet, POLICY, trainerDir);
        const { messages } = await streamIds(server.url, 'flat');
        await until(
          () => tr.trainer.stats.messages >= messages,
          60000,
          'the restarted trainer consumed the rest',
        );
        await tr.trainer.settle();
        t.true(before > 0 && before < messages);
        t.is(tr.trainer.stats.messages, messages, 'each message counted once across the restart');
        t.true(
          tr.lines.some((l) => /resumed from checkpoint/.test(String(l.msg))),
          JSON.stringify(tr.lines.slice(0, 3)),
        );
        const rounds = tr.trainer.rounds;
        t.true(rounds.length >= 1, 'the restarted trainer ran rounds too');
        for (const r of rounds) {
          t.is(r.verdict, 'rejected', r.reason);
          // On the evidence (the log supports the candidate), not for want of it.
          t.regex(r.reason, /does not beat the baseline/);
        }

        const nc = await connect({ servers: server.url });
        const kv = await new Kvm(nc).open(kvBucket('flat'));
        t.is(await kv.get(pointerKey('flat')), null, 'no pointer');
        const trainerStatus = (await kv.get('trainer.flat'))!.json<{ last: { verdict: string } }>();
        t.is(trainerStatus.last.verdict, 'rejected', 'the rejection is visible to operators');
        const objs = await new Objm(nc).open(objectBucket('flat'));
        t.deepEqual(await objs.list(), [], 'no snapshot in the object store');
        await nc.close();
        for (const h of hosts) t.is(h.fleet!.status().subsystems.flat.adoptedVersion, null);
      } finally {
        tr.trainer.stop();
        await tr.run;
        await Promise.all(hosts.map((h) => h.fleet!.close(0)));
        cleanup(trainerDir, ...hosts.map((h) => h.dir));
      }
    },
  );

  test.serial(
    'a corrupt or mismatched snapshot is refused, with its reason; a good one is adopted',
    async (t) => {
      const fleet = fleetSettings(server.url, 'bad');
      const host = makeHost(
        'victim',
        fleet,
        { subsystems: ['synthetic'], synthetic: { period: 1e9 } },
        (c) => {
          c.defaults.policy = POLICY;
        },
      );
      const nc = await connect({ servers: server.url });
      try {
        await runHost(host, 50);
        await until(() => host.fleet!.status().connected, 30000, 'connected');
        const kv = await new Kvm(nc).create(kvBucket('bad'), { history: 8 });
        const objs = await new Objm(nc).create(objectBucket('bad'));
        const view = { k: 16, d: 4, signature: 'level:0..15/1@4;arms=16', baselineArm: 4 };
        const good = createPolicy(POLICY, { k: 16, d: 4, seed: 9 });
        for (let i = 0; i < 50; i++) good.update(10, 0.9, [0.1, 0.2, 0.3, 1]);
        const publish = async (
          version: number,
          edit: {
            header?: Partial<PolicyHeader>;
            bytes?: Uint8Array;
            sha?: string;
            snapshot?: PolicySnapshot;
          } = {},
        ): Promise<void> => {
          const header: PolicyHeader = {
            fleet: 'bad',
            subsystem: 'synthetic',
            version,
            spec: POLICY,
            ...view,
            minAbi: { major: 1, minor: 0 },
            trainedSamples: 50,
            evaluation: evaluationStub(),
            createdAt: new Date().toISOString(),
            trainer: 'test',
            ...edit.header,
          };
          const bytes = edit.bytes ?? encodeObject(header, edit.snapshot ?? good.snapshot());
          const name = objectName('synthetic', version);
          await objs.putBlob({ name }, bytes);
          const p = pointerFor(header, name, bytes, 1);
          if (edit.sha) p.sha256 = edit.sha;
          await kv.put(pointerKey('synthetic'), JSON.stringify(p));
        };
        const refusedAs = async (version: number, kind: string): Promise<void> => {
          await until(
            () => host.fleet!.status().subsystems.synthetic.lastRefusal?.version === version,
            30000,
            `refusal of v${version}`,
          );
          t.is(host.fleet!.status().subsystems.synthetic.lastRefusal!.kind, kind);
          t.is(host.fleet!.status().subsystems.synthetic.adoptedVersion, null);
        };
        await publish(1, { sha: 'f'.repeat(64) });
        await refusedAs(1, 'checksum');
        await publish(2, {
          bytes: new TextEncoder().encode('{"format":"mlproxy-fleet-policy","v":1,"header":'),
        });
        await refusedAs(2, 'corrupt');
        await publish(3, { header: { minAbi: { major: 99, minor: 0 } } });
        await refusedAs(3, 'abi');
        const wide = createPolicy(POLICY, { k: 32, d: 4, seed: 1 });
        await publish(4, {
          header: { signature: 'level:0..31/1@4;arms=32', k: 32 },
          snapshot: wide.snapshot(),
        });
        await refusedAs(4, 'shape');
        // A snapshot of another policy than the host runs: the loop refuses it.
        await publish(5, {
          snapshot: createPolicy('linucb:alpha=1', { k: 16, d: 4, seed: 1 }).snapshot(),
        });
        await until(
          () => /verified/.test(host.fleet!.status().subsystems.synthetic.state),
          30000,
          'v5 queued',
        );
        await runHost(host, 20);
        await refusedAs(5, 'policy');
        t.regex(host.fleet!.status().subsystems.synthetic.lastRefusal!.reason, /linucb/);
        t.deepEqual(
          host.outcomes.map((o) => o.adopted),
          [false],
        );
        // The positive control: a good version is adopted.
        await publish(6);
        await until(
          () => /verified/.test(host.fleet!.status().subsystems.synthetic.state),
          30000,
          'v6 queued',
        );
        await runHost(host, 20);
        t.is(host.fleet!.status().subsystems.synthetic.adoptedVersion, 6);
        t.deepEqual(
          host.outcomes.map((o) => o.adopted),
          [false, true],
        );
      } finally {
        await nc.close();
        await host.fleet!.close(0);
        cleanup(host.dir);
      }
    },
  );
}

if (!skip) {
  test.serial(
    'mlproxy run publishes to the fleet; mlproxy status and mlproxy fleet status show it; without a server the run is the same',
    async (t) => {
      const dir = tempDir('mlp-fleet-cli-');
      try {
        const cfg = (server: string) =>
          JSON.stringify({
            fleet: { server, name: 'cli', host: 'cli-host', startupWaitMs: 200, drainMs: 10000 },
          });
        fs.writeFileSync(path.join(dir, 'up.json'), cfg(server.url));
        const args = (c: string, sd: string) => [
          'run',
          '--sim',
          '--virtual-time',
          '--decisions',
          '300',
          '--config',
          path.join(dir, c),
          '--state-dir',
          path.join(dir, sd),
          '--log-dir',
          path.join(dir, sd, 'log'),
          '--no-pretty',
        ];
        const up = await runCli(args('up.json', 'up'));
        t.is(up.code, 0, up.stderr);
        const st = await runCli(['status', '--sim', '--state-dir', path.join(dir, 'up')]);
        t.regex(st.stdout, /fleet cli on nats:\/\/127\.0\.0\.1:\d+ as host cli-host/);
        const logged = fs
          .readFileSync(path.join(dir, 'up', 'log', 'decisions.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean).length;
        t.true(logged >= 599, `${logged} records logged`);
        t.regex(
          st.stdout,
          new RegExp(`published ${logged}, dropped 0`),
          'every logged record published',
        );
        const fs1 = await runCli(['fleet', 'status', '--server', server.url, '--fleet', 'cli']);
        t.is(fs1.code, 0, fs1.stderr);
        t.regex(fs1.stdout, new RegExp(`stream MLPROXY_cli, ${logged} messages`));
        t.regex(fs1.stdout, /no fleet policy published yet/);
        // The same run with the server away: same decisions, everything dropped and counted.
        const port = await freePort();
        fs.writeFileSync(path.join(dir, 'down.json'), cfg(`nats://127.0.0.1:${port}`));
        const down = await runCli(args('down.json', 'down'));
        t.is(down.code, 0, down.stderr);
        t.regex(down.stdout, /summary: 300 decisions/);
        const plain = await runCli([
          'run',
          '--sim',
          '--virtual-time',
          '--decisions',
          '300',
          '--state-dir',
          path.join(dir, 'plain'),
          '--log-dir',
          path.join(dir, 'plain', 'log'),
          '--no-pretty',
        ]);
        const perSubsystem = (out: string): string =>
          String(
            (JSON.parse(out.split('\n').find((l) => l.includes('"summary: '))!) as { msg: string })
              .msg,
          )
            .split('\n')
            .slice(1, -1)
            .join('\n');
        t.is(
          perSubsystem(down.stdout),
          perSubsystem(plain.stdout),
          'the same run as without a fleet',
        );
        t.is(perSubsystem(up.stdout), perSubsystem(plain.stdout), 'and as with the server up');
        const sd = await runCli([
          'status',
          '--sim',
          '--json',
          '--state-dir',
          path.join(dir, 'down'),
        ]);
        const fleet = (
          JSON.parse(sd.stdout) as {
            fleet: { connected: boolean; queue: { depth: number; published: number } };
          }
        ).fleet;
        t.false(fleet.connected);
        t.is(fleet.queue.published, 0);
        const loggedDown = fs
          .readFileSync(path.join(dir, 'down', 'log', 'decisions.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean).length;
        t.is(fleet.queue.depth, loggedDown, 'held in the queue, nothing lost while it has room');
        const bad = await runCli(['fleet', 'status', '--server', `nats://127.0.0.1:${port}`]);
        t.is(bad.code, 1);
        t.regex(bad.stderr, /cannot reach the fleet server/);
      } finally {
        cleanup(dir);
      }
    },
  );
}

/**
 * A subsystem whose best level moves when its workload changes: level 10 until shift(),
 * level 12 after it (each level away costs 5% of the efficiency; the kernel's default, 4,
 * stays far enough below either that no reward is clipped). Its one feature says which
 * workload runs, as the synthetic subsystem's phase hint says its phase.
 */
class ShiftingBest implements SubsystemModel {
  readonly name = 'shifting';
  readonly windowMs = 50;
  readonly features = [{ name: 'workload', unit: 'permille', scale: 1000 }];
  readonly knobs = [{ name: 'level', unit: '', min: 0, max: 15, step: 1, def: 4, maxDelta: 8 }];
  private best = 10;
  constructor(private readonly seed: number) {}
  shift(): void {
    this.best = 12;
  }
  featuresAt(): number[] {
    return [this.best === 10 ? 0 : 1000];
  }
  endWindow(w: number, knobs: readonly number[]): number {
    const noise = (hash32((w ^ this.seed) >>> 0) % 20001) - 10000;
    return 1000000 - 50000 * Math.abs(knobs[0] - this.best) + noise;
  }
}

if (!skip) {
  test.serial(
    'an operator pins (or rolls back) a version: hosts follow it, the trainer publishes nothing over it; rollout 0 holds new versions back',
    async (t) => {
      const fleet = fleetSettings(server.url, 'ops', (f) => {
        f.train.evalSamples = 1000;
        f.train.everySamples = 500;
      });
      // The test needs the trainer to publish a second version over v1, whatever the seeds:
      // - v1 is beatable: once it is published, the hosts' workload shifts and level 12 is
      //   best. v1 was trained before the shift: it saw 12 lose to 10 and 11, and the
      //   workload feature was 0 in all its samples (its weight is 0), so it keeps ranking
      //   the levels as before, while a candidate trained on samples from after the shift
      //   plays 12. (In the runs measured v2 came sooner: v1 is published from the first
      //   round's samples, taken while the hosts were still climbing from the default, at
      //   most maxStep = 2 levels a decision, and the next round's candidate beat it.)
      // - The held-out log supports the comparison: the gate refuses a policy whose
      //   effective sample size on it is below 100. Once the hosts have moved on, only their
      //   uniform exploration plays v1's level: with the default 5%, v1's ESS on the 1000
      //   held-out samples is about 70 (62 to 92 measured with seed base 3, which published
      //   no v2 in 15 rounds; on the synthetic landscape this test ran on before, seed bases
      //   1, 3 and 7 failed that way, their candidates ahead of v1 by 0.02 to 0.04). With 50%,
      //   each of the 5 legal levels is logged with a probability of at least 0.1: about 170.
      const models = [0, 1].map((i) => new ShiftingBest(200 + i));
      const hosts = [0, 1].map((i) =>
        makeHost(`ops-${i}`, fleet, { subsystems: [], models: [models[i]] }, (c) => {
          c.defaults.policy = POLICY;
          c.defaults.exploration = { epsilon: 0.5 };
          c.seed = 5 + i;
        }),
      );
      const tr = makeTrainer(fleet, POLICY);
      const cli = (...args: string[]) =>
        runCli([...args, '--server', server.url, '--fleet', 'ops']);
      const nc = await connect({ servers: server.url });
      try {
        const kv = await new Kvm(nc).create(kvBucket('ops'), { history: 32 });
        const pointer = async () => parsePointer((await kv.get(pointerKey('shifting')))!.value);
        const verdicts = () =>
          tr.trainer.rounds.map((r) => `${r.verdict}${r.version ?? ''}`).join(', ');
        const published = (v: number) => tr.trainer.rounds.some((r) => r.version === v);
        const chunk = async () => {
          for (const h of hosts) await runHost(h, 500);
          for (const h of hosts) t.true(await h.fleet!.flush(120000));
          const stored = await storedMessages(server.url, 'ops');
          await until(
            () => tr.trainer.stats.messages >= stored,
            120000,
            'the trainer took the stream',
          );
          await tr.trainer.settle();
        };
        for (let i = 0; i < 6 && !published(1); i++) await chunk();
        t.true(published(1), `v1 was published (rounds: ${verdicts()})`);
        for (const m of models) m.shift();
        for (let i = 0; i < 6 && !published(2); i++) await chunk();
        t.true(published(2), `v2 was published (rounds: ${verdicts()})`);
        // Roll back to v1 and pin it.
        const pin = await cli('fleet', 'pin', 'shifting', 'v1', '--reason', 'test rollback');
        t.is(pin.code, 0, pin.stderr);
        t.regex(pin.stdout, /pinned v1/);
        const p1 = await pointer();
        t.is(p1.version, 1);
        t.is(p1.pinned?.reason, 'test rollback');
        const roundsBefore = tr.trainer.rounds.length;
        for (const h of hosts) await runHost(h, 20);
        await until(
          () =>
            hosts.every(
              (h) =>
                h.fleet!.status().subsystems.shifting.adoptedVersion === 1 ||
                /verified/.test(h.fleet!.status().subsystems.shifting.state),
            ),
          30000,
          'hosts see v1',
        );
        for (const h of hosts) await runHost(h, 600);
        for (const h of hosts) t.true(await h.fleet!.flush(120000));
        await until(() => tr.trainer.rounds.length > roundsBefore, 120000, 'rounds while pinned');
        await tr.trainer.settle();
        for (const h of hosts)
          t.is(
            h.fleet!.status().subsystems.shifting.adoptedVersion,
            1,
            `${h.name} rolled back to v1`,
          );
        const after = tr.trainer.rounds.slice(roundsBefore);
        t.true(
          after.every((r) => r.verdict !== 'published'),
          after.map((r) => r.verdict).join(','),
        );
        t.true(
          after.some((r) => r.verdict === 'pinned'),
          `a candidate passed the gate and the pin held it back (${after.map((r) => r.verdict).join(',')})`,
        );
        t.is((await pointer()).version, 1, 'the pin stands');
        // Rollout 0, unpinned: the next version reaches no host.
        t.is((await cli('fleet', 'rollout', 'shifting', '0')).code, 0);
        t.is((await cli('fleet', 'unpin', 'shifting')).code, 0);
        const p = await pointer();
        t.is(p.pinned, null);
        t.is(p.rollout, 0);
        await kv.put(
          pointerKey('shifting'),
          JSON.stringify({
            ...p,
            version: 2,
            object: objectName('shifting', 2),
            ...(await objectFacts(nc, 2)),
          }),
        );
        await new Promise((r) => setTimeout(r, 1000));
        for (const h of hosts) await runHost(h, 20);
        for (const h of hosts) {
          t.is(h.fleet!.status().subsystems.shifting.adoptedVersion, 1, 'not in a rollout of 0');
          t.regex(h.fleet!.status().subsystems.shifting.state, /not for this host yet/);
        }
        const st = await cli('fleet', 'status');
        t.regex(st.stdout, /shifting: v2 .*rollout 0/);
        t.is((await cli('fleet', 'rollout', 'shifting', '1.5')).code, 2);
        t.is((await cli('fleet', 'pin', 'shifting', '99')).code, 1);
      } finally {
        await nc.close();
        tr.trainer.stop();
        await tr.run;
        await Promise.all(hosts.map((h) => h.fleet!.close(0)));
        cleanup(tr.dir, ...hosts.map((h) => h.dir));
      }
    },
  );
}

/** sha256 and size of a stored version's object, for a hand-made pointer. */
async function objectFacts(
  nc: Awaited<ReturnType<typeof connect>>,
  version: number,
): Promise<{ sha256: string; bytes: number }> {
  const objs = await new Objm(nc).open(objectBucket('ops'));
  const bytes = (await objs.getBlob(objectName('shifting', version)))!;
  return { sha256: sha256Hex(bytes), bytes: bytes.length };
}
