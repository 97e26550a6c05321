/**
 * The fleet against a real nats-server (started here on a free loopback port with a temp
 * store): simulated daemons publish, the trainer builds a policy the gate accepts, the
 * hosts adopt it from LEARNING mode; the server is killed mid-run and restarted, and
 * nothing is lost beyond the counted drops. The network makes the interleaving vary from
 * run to run; every assertion holds for any interleaving (exact accounting; gate margins
 * far wider than the interleaving moves them).
 */
import test from 'ava';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { kvBucket, objectBucket, pointerKey, streamName } from '../src/fleet/names.js';
import { parsePointer } from '../src/fleet/pointer.js';
import { Mode } from '../src/transport/device.js';
import {
  cleanup,
  fleetSettings,
  makeHost,
  makeTrainer,
  runHost,
  skipWithoutServer,
  startServerOrSkip,
  until,
} from './helpers/fleet-harness.js';
import type { SimHost } from './helpers/fleet-harness.js';
import type { NatsServer } from './helpers/nats-server.js';

const POLICY = 'linegreedy:epsilon=0.2';

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

if (!skipWithoutServer(test)) {
  let server: NatsServer;
  test.before(async () => {
    server = (await startServerOrSkip())!;
  });
  test.after.always(async () => {
    await server?.stop();
  });

  test.serial(
    'hosts publish, the trainer gates and publishes, hosts adopt from LEARNING; a server crash loses nothing beyond the counted drops',
    async (t) => {
      const fleet = fleetSettings(server.url, 'main', (f) => {
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
          for (const h of hosts) t.true(await h.fleet.flush(60000), `${h.name} flushed`);
        }
        await until(
          () => tr.trainer.rounds.some((r) => r.verdict === 'published'),
          60000,
          'a published version',
        );
        const published = tr.trainer.rounds.find((r) => r.verdict === 'published')!;
        t.is(published.version, 1);
        const ev = published.evaluation!;
        t.true(ev.vsBaseline.lo > 0, 'the gate accepted it: the lower bound beats the baseline');
        t.true(ev.hosts >= 2, 'held-out samples from several hosts');
        for (const r of tr.trainer.rounds) {
          if (r.verdict === 'rejected') t.regex(r.reason, /does not beat/);
        }

        // The pointer and the object are there, and agree.
        await tr.trainer.settle();
        const nc = await connect({ servers: server.url });
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
        // from LEARNING mode; the server is killed in the middle of the run.
        await until(
          () =>
            hosts.every((h) =>
              new RegExp(`verified|running v${pointer.version}`).test(
                h.fleet.status().subsystems.synthetic?.state ?? '',
              ),
            ),
          30000,
          'hosts verified the pointer',
        );
        let killed = false;
        hosts[0].onDecision = (n) => {
          if (!killed && hosts[0].outcomes.length > 0 && n % 200 === 0) {
            killed = true;
            void server.kill();
          }
        };
        await Promise.all(hosts.map((h) => runHost(h, 1500)));
        t.true(killed, 'the server was killed mid-run');
        const outcomes = hosts.flatMap((h) => h.outcomes);
        for (const h of hosts) {
          t.true(h.outcomes.length >= 1, `${h.name} adopted`);
          for (const o of h.outcomes) t.true(o.adopted, `${h.name}: ${o.reason}`);
          t.true((h.fleet.status().subsystems.synthetic.adoptedVersion ?? 0) >= pointer.version);
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
        const dropped = hosts.reduce((a, h) => a + h.fleet.publisher.stats.dropped, 0);
        t.true(dropped > 0, 'the outage overflowed the bounded queue');

        // The server comes back: the hosts catch up; nothing is lost beyond the drops.
        await server.restart();
        for (const h of hosts) t.true(await h.fleet.flush(120000), `${h.name} caught up`);
        const { ids, messages } = await streamIds(server.url, 'main');
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
        await Promise.all(hosts.map((h) => h.fleet.close(0)));
        cleanup(tr.dir, ...hosts.map((h) => h.dir));
      }
    },
  );
}
