/**
 * The host side of the fleet: publishes every decision and reward the daemon logs through
 * the bounded queue (publisher.ts), and watches the policy pointers to adopt the fleet's
 * versions. The daemon sees only its hooks (src/loop/hooks.ts), which return at once: the
 * network is never on the loop's path. Without a server the daemon learns alone, as it
 * does without a fleet; the queue drops its oldest records and counts them.
 *
 * Adoption of a pointer: ignore it unless this host's rollout bucket is below its share;
 * fetch the object; verify sha256, header, ABI and knob schema (pointer.ts); hand the
 * snapshot to the loop, which checks the policy spec and shape and starts it from the
 * kernel's LEARNING mode (SubsystemLearner.adopt). A refused version is not retried.
 */
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { QueuedIterator } from '@nats-io/transport-node';
import type { KvWatchEntry } from '@nats-io/kv';
import type { Registry } from 'prom-client';
import { writeFileAtomic } from '../checkpoint/store.js';
import type { FleetSettings } from '../config/schema.js';
import type { DecisionRecord, RewardRecord } from '../decisionlog/record.js';
import type { Logger } from '../logging.js';
import type {
  AdoptionOutcome,
  AdoptionRequest,
  DaemonHooks,
  HookContext,
  HookSubsystem,
} from '../loop/hooks.js';
import { connectFleet, ensureStream, openStores } from './connection.js';
import type { FleetStores } from './connection.js';
import { makeEnvelope } from './envelope.js';
import { FleetHostMetrics } from './metrics.js';
import { NAME_RE, POINTER_KEYS, eventSubject, rolloutBucket } from './names.js';
import { Refusal, parsePointer, verifyPolicyObject } from './pointer.js';
import type { PolicyPointer } from './pointer.js';
import { Publisher } from './publisher.js';
import { FLEET_STATUS_FILE } from './status-file.js';
import type { FleetStatus, SubsystemFleetState } from './status-file.js';

export { FLEET_STATUS_FILE } from './status-file.js';
export type { FleetStatus, SubsystemFleetState } from './status-file.js';

export interface FleetHostOptions {
  settings: FleetSettings;
  /** Where fleet.json (adopted versions, state for `mlproxy status`) lives. */
  stateDir: string;
  logger: Logger;
  /** The daemon's metrics registry, to export the fleet's metrics with the rest. */
  registry?: Registry;
}

interface Fetched {
  pointer: PolicyPointer;
  bytes: Uint8Array;
}

const STATUS_EVERY_MS = 5000;

export class FleetHost {
  readonly host: string;
  readonly fleet: string;
  readonly bucket: number;
  readonly hooks: DaemonHooks;
  readonly publisher: Publisher;
  private readonly settings: FleetSettings;
  private readonly log: Logger;
  private readonly metrics?: FleetHostMetrics;
  private readonly statusFile: string;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private stores: FleetStores | null = null;
  private watcher: QueuedIterator<KvWatchEntry> | null = null;
  private closed = false;
  private connected = false;
  private lastError: string | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private abi: { major: number; minor: number } | null = null;
  private readonly views = new Map<string, HookSubsystem>();
  private readonly subs: Record<string, SubsystemFleetState> = {};
  private readonly fetched = new Map<string, Fetched>();
  /** The latest pointer seen per subsystem. */
  private readonly latest = new Map<string, PolicyPointer>();
  private ready: AdoptionRequest[] = [];
  private startup: { promise: Promise<void>; resolve: () => void };
  private lastStreamCheck = 0;

  constructor(private readonly opts: FleetHostOptions) {
    this.settings = opts.settings;
    this.fleet = opts.settings.name;
    this.host = opts.settings.host ?? os.hostname();
    this.bucket = rolloutBucket(this.fleet, this.host);
    this.log = opts.logger;
    this.statusFile = nodePath.join(opts.stateDir, FLEET_STATUS_FILE);
    if (opts.registry) this.metrics = new FleetHostMetrics(opts.registry);
    let resolve!: () => void;
    this.startup = { promise: new Promise<void>((r) => (resolve = r)), resolve };
    this.startup.resolve = resolve;
    this.loadAdopted();
    this.publisher = new Publisher({
      capacity: this.settings.queueSize,
      send: (subject, data, msgId) => this.send(subject, data, msgId),
      onDrop: () => this.metrics?.dropped.inc(),
      onPublished: (n) => this.metrics?.published.inc(n),
      onError: (m) => {
        this.metrics?.publishErrors.inc();
        this.lastError = m;
        if (/no responders|stream not found/i.test(m)) this.recheckStream();
      },
    });
    this.hooks = {
      attached: (abi, subsystems) => this.attached(abi, subsystems),
      decision: (ctx, record) => this.record(ctx, record),
      reward: (ctx, record) => this.record(ctx, record),
      takeAdoptions: () => this.takeAdoptions(),
    };
  }

  // Hooks (from the loop: return at once) -------------------------------------------

  private record(ctx: HookContext, record: DecisionRecord | RewardRecord): void {
    const s = ctx.subsystem.name;
    if (!NAME_RE.test(s)) return;
    const version = this.subs[s]?.adoptedVersion ?? null;
    this.publisher.enqueue({
      subject: eventSubject(this.fleet, this.host, s, record.type),
      msgId: `${this.host}/${record.id}/${record.type}`,
      payload: makeEnvelope(this.host, ctx, record, version),
    });
    this.metrics?.queueDepth.set(this.publisher.depth);
  }

  private attached(abi: { major: number; minor: number }, subsystems: HookSubsystem[]): void {
    this.abi = abi;
    this.views.clear();
    for (const s of subsystems) {
      this.views.set(s.name, s);
      this.sub(s.name);
      if (!NAME_RE.test(s.name)) {
        this.log.warn(
          `fleet: subsystem name "${s.name}" cannot be a NATS subject token; not shared`,
        );
      }
    }
    for (const name of [...this.fetched.keys()]) this.consider(name);
  }

  private takeAdoptions(): AdoptionRequest[] {
    if (this.ready.length === 0) return [];
    const out = this.ready;
    this.ready = [];
    return out;
  }

  // Lifecycle ------------------------------------------------------------------------

  /** Connects in the background (retrying while the server is away). */
  start(): void {
    this.statusTimer = setInterval(() => this.writeStatus(), STATUS_EVERY_MS);
    this.statusTimer.unref();
    void this.connectLoop(250);
  }

  /** Resolves once the current pointers were fetched (or at the timeout). */
  async waitForStartup(timeoutMs: number): Promise<void> {
    if (timeoutMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.startup.promise,
      new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Publishes what is queued, for up to timeoutMs; true when the queue emptied. */
  flush(timeoutMs: number): Promise<boolean> {
    return this.publisher.flush(timeoutMs);
  }

  async close(drainMs = this.settings.drainMs): Promise<void> {
    if (this.connected && drainMs > 0) await this.flush(drainMs);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.watcher?.stop();
    await this.publisher.close();
    this.writeStatus();
    const nc = this.nc;
    this.nc = null;
    if (nc && !nc.isClosed()) await nc.close().catch(() => {});
  }

  private async connectLoop(delayMs: number): Promise<void> {
    if (this.closed) return;
    try {
      const nc = await connectFleet(this.settings, `mlproxy host ${this.host}`);
      if (this.closed) {
        await nc.close();
        return;
      }
      this.nc = nc;
      this.js = jetstream(nc);
      this.stores = await openStores(nc, this.fleet);
      this.setConnected(true);
      this.log.info(
        `fleet: connected to ${nc.getServer()} as host ${this.host} (fleet ${this.fleet})`,
      );
      void this.watchStatus(nc);
      // Should the client give up for good (say, credentials revoked), start over.
      void nc.closed().then(() => {
        if (this.closed || this.nc !== nc) return;
        this.nc = null;
        this.js = null;
        this.stores = null;
        this.setConnected(false);
        this.log.warn('fleet: the connection closed; reconnecting');
        this.retryTimer = setTimeout(() => void this.connectLoop(1000), 1000);
      });
      await this.startWatching();
    } catch (err) {
      this.lastError = (err as Error).message;
      if (this.nc) {
        const nc = this.nc;
        this.nc = null;
        await nc.close().catch(() => {});
      }
      if (delayMs >= 4000 || delayMs === 250) {
        this.log.warn(`fleet: no server (${this.lastError}); learning locally, retrying`);
      }
      this.retryTimer = setTimeout(
        () => void this.connectLoop(Math.min(delayMs * 2, 10000)),
        delayMs,
      );
    }
  }

  private setConnected(up: boolean): void {
    this.connected = up;
    this.metrics?.connected.set(up ? 1 : 0);
    this.publisher.setOnline(up);
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.closed) break;
      if (s.type === 'disconnect') {
        this.setConnected(false);
        this.log.warn('fleet: disconnected from the server; queueing');
      } else if (s.type === 'reconnect') {
        this.setConnected(true);
        this.log.info('fleet: reconnected; catching up');
        void this.startWatching().catch((err: Error) => {
          this.lastError = err.message;
        });
      }
    }
  }

  private recheckStream(): void {
    const now = Date.now();
    if (!this.stores || now - this.lastStreamCheck < 10000) return;
    this.lastStreamCheck = now;
    ensureStream(this.stores.jsm, this.fleet).catch((err: Error) => {
      this.lastError = `events stream: ${err.message}`;
    });
  }

  private async send(subject: string, data: Uint8Array, msgId: string): Promise<void> {
    if (!this.js) throw new Error('not connected');
    await this.js.publish(subject, data, { msgID: msgId, timeout: 5000 });
  }

  // Pointers -------------------------------------------------------------------------

  private async startWatching(): Promise<void> {
    const stores = this.stores;
    if (!stores || !this.settings.adopt) {
      this.startup.resolve();
      return;
    }
    // The current values first (so a new host can start from them), then the updates.
    const keys = await stores.kv.keys(POINTER_KEYS);
    const current: Promise<void>[] = [];
    for await (const key of keys) {
      const e = await stores.kv.get(key);
      if (e && e.operation === 'PUT') current.push(this.onPointer(key, e.value));
    }
    await Promise.all(current);
    this.startup.resolve();
    this.watcher?.stop();
    const w = await stores.kv.watch({ key: POINTER_KEYS, ignoreDeletes: true });
    this.watcher = w;
    void (async () => {
      for await (const e of w) {
        if (e.operation === 'PUT') await this.onPointer(e.key, e.value);
      }
    })().catch((err: Error) => {
      this.lastError = `pointer watch: ${err.message}`;
    });
  }

  private sub(name: string): SubsystemFleetState {
    return (this.subs[name] ??= {
      pointer: null,
      state: 'no fleet policy yet',
      adoptedVersion: null,
      adoptedAt: null,
      lastRefusal: null,
    });
  }

  private refuse(name: string, version: number, kind: string, reason: string): void {
    const s = this.sub(name);
    s.lastRefusal = { version, kind, reason, at: new Date().toISOString() };
    s.state = `refused v${version}: ${reason}`;
    this.metrics?.refused.inc({ subsystem: name, reason: kind });
    this.log.warn(`fleet: ${name} v${version} refused (${kind}): ${reason}`);
    this.writeStatus();
  }

  private async onPointer(key: string, value: Uint8Array): Promise<void> {
    const name = key.slice('policy.'.length);
    let p: PolicyPointer;
    try {
      p = parsePointer(value);
      if (p.subsystem !== name) throw new Error(`it names subsystem ${p.subsystem}`);
    } catch (err) {
      this.refuse(name, 0, 'corrupt', `pointer ${key}: ${(err as Error).message}`);
      return;
    }
    await this.follow(name, p);
  }

  /** Makes the pointer's version the one to run: it supersedes anything not yet adopted. */
  private async follow(name: string, p: PolicyPointer): Promise<void> {
    this.latest.set(name, p);
    this.fetched.delete(name);
    this.ready = this.ready.filter((r) => r.subsystem !== name);
    const s = this.sub(name);
    this.log.debug(`fleet: ${name} pointer v${p.version} (running ${String(s.adoptedVersion)})`);
    s.pointer = {
      version: p.version,
      rollout: p.rollout,
      pinned: p.pinned !== null,
      sha256: p.sha256,
    };
    if (s.adoptedVersion === p.version) {
      s.state = `running v${p.version}`;
      return;
    }
    if (s.lastRefusal?.version === p.version && s.pointer.sha256 === p.sha256) return;
    if (!(this.bucket < p.rollout)) {
      s.state = `v${p.version} not for this host yet (rollout ${p.rollout}, this host's bucket ${this.bucket.toFixed(3)})`;
      return;
    }
    const stores = this.stores;
    if (!stores) return;
    this.log.debug(`fleet: ${name} v${p.version}: fetching ${p.object}`);
    let bytes: Uint8Array | null = null;
    for (let attempt = 0; attempt < 5 && !this.closed; attempt++) {
      try {
        bytes = await stores.objects.getBlob(p.object);
        break;
      } catch (err) {
        this.lastError = `fetch ${p.object}: ${(err as Error).message}`;
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
    if (this.latest.get(name) !== p) return; // a newer pointer came meanwhile
    if (bytes === null) {
      this.refuse(name, p.version, 'corrupt', `object ${p.object} is missing from the store`);
      return;
    }
    this.fetched.set(name, { pointer: p, bytes });
    this.consider(name);
  }

  /** Verifies a fetched version against this host; queues it for the loop. */
  private consider(name: string): void {
    const f = this.fetched.get(name);
    const view = this.views.get(name);
    if (!f || !view || !this.abi) return;
    this.fetched.delete(name);
    const p = f.pointer;
    let snapshot;
    try {
      snapshot = verifyPolicyObject(p, f.bytes, { abi: this.abi, subsystem: view });
    } catch (err) {
      if (err instanceof Refusal) this.refuse(name, p.version, err.kind, err.message);
      else this.refuse(name, p.version, 'corrupt', (err as Error).message);
      return;
    }
    const s = this.sub(name);
    s.state = `v${p.version} verified; adopting`;
    this.ready = this.ready.filter((r) => r.subsystem !== name);
    this.ready.push({
      subsystem: name,
      label: `fleet v${p.version}`,
      snapshot,
      settle: (o: AdoptionOutcome) => this.settled(name, p, o),
    });
  }

  private settled(name: string, p: PolicyPointer, o: AdoptionOutcome): void {
    const s = this.sub(name);
    const latest = this.latest.get(name);
    if (!o.adopted) {
      this.refuse(name, p.version, 'policy', o.reason ?? 'refused by the loop');
      if (latest && latest !== p) void this.follow(name, latest);
      return;
    }
    s.adoptedVersion = p.version;
    s.adoptedAt = new Date().toISOString();
    s.state = `running v${p.version}` + (o.reason ? ` (${o.reason})` : '');
    this.metrics?.adoptedVersion.set({ subsystem: name }, p.version);
    this.writeStatus();
    // The loop took this version before a newer pointer came: follow the newer one now.
    if (latest && latest !== p) void this.follow(name, latest);
  }

  // State ----------------------------------------------------------------------------

  private loadAdopted(): void {
    try {
      const prev = JSON.parse(fs.readFileSync(this.statusFile, 'utf8')) as FleetStatus;
      if (prev.fleet !== this.fleet) return;
      for (const [name, s] of Object.entries(prev.subsystems ?? {})) {
        if (typeof s.adoptedVersion === 'number') {
          const mine = this.sub(name);
          mine.adoptedVersion = s.adoptedVersion;
          mine.adoptedAt = s.adoptedAt;
          mine.state = `running v${s.adoptedVersion} (adopted before a restart)`;
          this.metrics?.adoptedVersion.set({ subsystem: name }, s.adoptedVersion);
        }
      }
    } catch {
      // no earlier state
    }
  }

  status(): FleetStatus {
    const q = this.publisher.stats;
    return {
      fleet: this.fleet,
      host: this.host,
      server: this.settings.server,
      connected: this.connected,
      lastError: this.lastError,
      rolloutBucket: this.bucket,
      adopt: this.settings.adopt,
      queue: { ...q, depth: this.publisher.depth, capacity: this.settings.queueSize },
      subsystems: structuredClone(this.subs),
      updatedAt: new Date().toISOString(),
    };
  }

  private writeStatus(): void {
    this.metrics?.queueDepth.set(this.publisher.depth);
    try {
      fs.mkdirSync(nodePath.dirname(this.statusFile), { recursive: true });
      writeFileAtomic(this.statusFile, JSON.stringify(this.status(), null, 2) + '\n', {
        durable: false,
      });
    } catch (err) {
      this.lastError = `status file: ${(err as Error).message}`;
    }
  }
}

/** For `mlproxy run`: the fleet link of a config, started, or undefined without a server. */
export async function startFleetHost(
  settings: FleetSettings,
  stateDir: string,
  logger: Logger,
  registry?: Registry,
): Promise<FleetHost | undefined> {
  if (settings.server === null) return undefined;
  const host = new FleetHost({ settings, stateDir, logger, registry });
  host.start();
  await host.waitForStartup(settings.startupWaitMs);
  return host;
}
