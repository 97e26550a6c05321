/**
 * Connecting to the fleet's NATS server and making sure the stream, the KV bucket and the
 * object store exist (idempotent; their settings are defined here only).
 *
 * The official pure-JS clients (@nats-io/*, pinned in package.json). The oldest server
 * they work with for what the fleet uses is 2.9.4 (the consumers API of @nats-io/jetstream
 * 3.x); Debian bookworm's nats-server 2.9.10 is tested.
 */
import fs from 'node:fs';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { ObjectStore } from '@nats-io/obj';
import type { FleetSettings } from '../config/schema.js';
import { eventsFilter, kvBucket, objectBucket, streamName } from './names.js';

export const MIN_SERVER_VERSION = '2.9.4';

/** The events stream keeps a week or 1 GiB, whichever is less; duplicates are dropped for 10 min. */
export const STREAM_MAX_AGE_NS = 7 * 24 * 3600 * 1e9;
export const STREAM_MAX_BYTES = 1024 ** 3;
export const DUPLICATE_WINDOW_NS = 10 * 60 * 1e9;
/** Versions of each pointer the KV bucket keeps (mlproxy fleet status shows them). */
export const POINTER_HISTORY = 32;

export function serverList(server: FleetSettings['server']): string[] {
  if (server === null) return [];
  return (Array.isArray(server) ? server : server.split(',')).map((s) => s.trim()).filter(Boolean);
}

function versionAtLeast(v: string, min: string): boolean {
  const a = v.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i];
  }
  return true;
}

/** One connection attempt; afterwards the client reconnects by itself, forever. */
export async function connectFleet(
  fleet: FleetSettings,
  name: string,
  timeoutMs = 2000,
): Promise<NatsConnection> {
  const servers = serverList(fleet.server);
  let authenticator;
  if (fleet.credentials) {
    let creds: Uint8Array;
    try {
      creds = fs.readFileSync(fleet.credentials);
    } catch (err) {
      throw new Error(
        `fleet.credentials: cannot read ${fleet.credentials}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    authenticator = credsAuthenticator(creds);
  }
  const nc = await connect({
    servers,
    name,
    timeout: timeoutMs,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    pingInterval: 5000,
    maxPingOut: 2,
    ...(authenticator ? { authenticator } : {}),
  });
  const version = nc.info?.version ?? '0.0.0';
  if (!versionAtLeast(version, MIN_SERVER_VERSION)) {
    await nc.close();
    throw new Error(
      `the NATS server is ${version}; the fleet needs ${MIN_SERVER_VERSION} or later with JetStream (nats-server -js)`,
    );
  }
  if (nc.info && nc.info.jetstream === false) {
    await nc.close();
    throw new Error(
      'the NATS server runs without JetStream; start it with -js (or jetstream {} in its config)',
    );
  }
  return nc;
}

export interface FleetStores {
  jsm: JetStreamManager;
  kv: KV;
  objects: ObjectStore;
}

function isNotFound(err: unknown): boolean {
  const msg = (err as Error)?.message ?? '';
  return /not found/i.test(msg) || (err as { code?: number })?.code === 404;
}

/** Creates the events stream if it is missing (never changes an existing one). */
export async function ensureStream(jsm: JetStreamManager, fleet: string): Promise<void> {
  const name = streamName(fleet);
  try {
    await jsm.streams.info(name);
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await jsm.streams.add({
      name,
      subjects: [eventsFilter(fleet)],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: STREAM_MAX_AGE_NS,
      max_bytes: STREAM_MAX_BYTES,
      duplicate_window: DUPLICATE_WINDOW_NS,
      num_replicas: 1,
    });
  } catch (err) {
    // Another host or the trainer created it in the meantime.
    if (!/already in use/i.test((err as Error).message)) throw err;
  }
}

/** The stream, the KV bucket of pointers and the object store of snapshots. */
export async function openStores(nc: NatsConnection, fleet: string): Promise<FleetStores> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (err) {
    throw new Error(
      `JetStream is not available on the server (${(err as Error).message}); start nats-server with -js`,
    );
  }
  await ensureStream(jsm, fleet);
  const kv = await new Kvm(nc).create(kvBucket(fleet), { history: POINTER_HISTORY });
  const objects = await new Objm(nc).create(objectBucket(fleet));
  return { jsm, kv, objects };
}
