/**
 * The fleet's trainer (`mlproxy train`): consumes every host's decisions and rewards from
 * the events stream with a durable consumer, joins them by id, and learns one policy per
 * subsystem off-policy from all hosts (the configured policy, updated with each logged
 * applied decision: context, logged arm, reward, as the daemon updates its own). The
 * newest `evalSamples` samples the policy chose are held out (decisions a guard chose, the
 * safety fallback's and the conservative wrapper's forced baseline plays, train at once:
 * src/ope trainOnlyReason, the rule `mlproxy evaluate` applies). Each round, the
 * policy trained on everything else (the candidate) is evaluated on them, as a fixed
 * snapshot, with the project's off-policy estimators and gates (src/ope), which
 * refuse when the held-out log cannot support the comparison. It must beat the kernel's
 * baseline, whose value is 0.5 by the reward's definition (src/loop/features.ts), with 95%
 * confidence (the lower end of its doubly-robust interval above 0.5: knownValueGate), and
 * the fleet policy in force (the lower end of the paired doubly-robust difference above 0:
 * promotionGate). Only then is it published: the snapshot to the object store, then the
 * pointer (version, sha256, the evaluation with its intervals, minimum ABI, rollout share)
 * to the KV bucket. A rejected candidate is never written anywhere but the trainer's log
 * and status.
 *
 * Crash safety: the trainer's state (trained policies, held-out samples, unjoined
 * records, the last stream sequence) is checkpointed (src/checkpoint) before the
 * consumer is acknowledged (ack policy "all"), so a restart neither loses nor counts
 * twice what it had consumed.
 */
import os from 'node:os';
import nodePath from 'node:path';
import { AckPolicy, DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import { createPolicy, restorePolicy } from '../../policies/registry.js';
import type { Policy, PolicySnapshot } from '../../policies/types.js';
import { checkOpeData, trainOnlyReason } from '../ope/data.js';
import type { LoggedDecision } from '../ope/data.js';
import { knownValueGate, learnFromLogged, promotionGate } from '../ope/evaluate.js';
import type { Estimate } from '../ope/estimators.js';
import { CheckpointStore } from '../checkpoint/store.js';
import type { FleetSettings } from '../config/schema.js';
import type { DecisionRecord, RewardRecord } from '../decisionlog/record.js';
import type { Logger } from '../logging.js';
import { BASELINE_REWARD } from '../loop/features.js';
import { connectFleet, openStores } from './connection.js';
import type { FleetStores } from './connection.js';
import { parseEnvelope } from './envelope.js';
import type { Envelope } from './envelope.js';
import { FleetTrainerMetrics } from './metrics.js';
import { Sleeper } from './sleeper.js';
import {
  eventsFilter,
  objectName,
  pointerKey,
  streamName,
  trainerKey,
  versionOfObject,
} from './names.js';
import { encodeObject, parsePointer, pointerFor, verifyPolicyObject } from './pointer.js';
import type { EstimateJson, FleetEvaluation, PolicyHeader, PolicyPointer } from './pointer.js';

/** A joined decision the policy chose (its distribution, policy and version go to the estimators). */
export interface Sample extends LoggedDecision {
  host: string;
}

export interface TrainerOptions {
  settings: FleetSettings;
  /** The policy spec the hosts of a subsystem run (the trainer trains the same). */
  policyFor(subsystem: string): string;
  stateDir: string;
  logger: Logger;
  registry?: Registry;
  /** Name in pointers and logs (default: the hostname). */
  name?: string;
}

export type Verdict = 'published' | 'rejected' | 'pinned' | 'failed';

export interface RoundResult {
  subsystem: string;
  at: string;
  verdict: Verdict;
  reason: string;
  version: number | null;
  evaluation: FleetEvaluation | null;
}

/** A subsystem's training state as checkpointed. */
interface GroupState {
  subsystem: string;
  spec: string;
  signature: string;
  k: number;
  d: number;
  baselineArm: number;
  trained: PolicySnapshot;
  trainedSamples: number;
  recent: Sample[];
  sinceRound: number;
  hosts: string[];
  abi: { major: number; minor: number };
  rounds: number;
  lastVersion: number;
  last: RoundResult | null;
}

interface Group extends Omit<GroupState, 'trained' | 'hosts'> {
  trained: Policy;
  hosts: Set<string>;
  /** Rounds run one after the other, in the order their inputs were taken. */
  chain: Promise<void>;
}

interface PendingDecision {
  env: Envelope;
  record: DecisionRecord;
}

interface TrainerCheckpoint {
  v: 1;
  fleet: string;
  lastSeq: number;
  groups: GroupState[];
  decisions: [string, PendingDecision][];
  rewards: [string, RewardRecord][];
  stats: TrainerStats;
}

export interface TrainerStats {
  messages: number;
  duplicates: number;
  invalid: number;
  decisions: number;
  rewards: number;
  samples: number;
  notApplied: number;
  otherSchema: number;
  evicted: number;
  /** Samples the policy could not learn from (importance-weighted without full support). */
  unlearnable: number;
}

const PENDING_CAP = 20000;
const CHECKPOINT_EVERY_MS = 5000;
const CHECKPOINT_EVERY_MESSAGES = 5000;

function est(e: Estimate): EstimateJson {
  return { value: e.value, lo: e.lo, hi: e.hi, n: e.n };
}

function fmt(e: EstimateJson): string {
  return `${e.value.toFixed(4)} [${e.lo.toFixed(4)}, ${e.hi.toFixed(4)}]`;
}

export class FleetTrainer {
  readonly fleet: string;
  readonly name: string;
  readonly stats: TrainerStats = {
    messages: 0,
    duplicates: 0,
    invalid: 0,
    decisions: 0,
    rewards: 0,
    samples: 0,
    notApplied: 0,
    otherSchema: 0,
    evicted: 0,
    unlearnable: 0,
  };
  readonly rounds: RoundResult[] = [];
  private readonly log: Logger;
  private readonly metrics?: FleetTrainerMetrics;
  private readonly store: CheckpointStore;
  private readonly groups = new Map<string, Group>();
  private decisions = new Map<string, PendingDecision>();
  private rewards = new Map<string, RewardRecord>();
  private lastSeq = 0;
  private unacked: JsMsg | null = null;
  private unackedCount = 0;
  private lastCheckpointMs = Date.now();
  private nc: NatsConnection | null = null;
  private stores: FleetStores | null = null;
  private stopped = false;
  private readonly sleeper = new Sleeper();
  private roundsRunning = new Set<Promise<void>>();

  constructor(private readonly opts: TrainerOptions) {
    this.fleet = opts.settings.name;
    this.name = opts.name ?? os.hostname();
    this.log = opts.logger;
    if (opts.registry) this.metrics = new FleetTrainerMetrics(opts.registry);
    this.store = new CheckpointStore(opts.stateDir, 3);
    this.resume();
  }

  get groupsView(): { subsystem: string; samples: number; held: number; hosts: string[] }[] {
    return [...this.groups.values()].map((g) => ({
      subsystem: g.subsystem,
      samples: g.trainedSamples + g.recent.length,
      held: g.recent.length,
      hosts: [...g.hosts].sort(),
    }));
  }

  stop(): void {
    this.stopped = true;
    this.sleeper.wake();
  }

  /** Runs until stop(): connects (retrying), consumes, trains, publishes. */
  async run(): Promise<void> {
    let delay = 250;
    while (!this.stopped) {
      try {
        await this.session();
        delay = 250;
      } catch (err) {
        if (this.stopped) break;
        this.log.warn(`trainer: ${(err as Error).message}; retrying in ${delay} ms`);
        await this.sleeper.sleep(delay);
        delay = Math.min(delay * 2, 10000);
      } finally {
        // Finish the rounds (they publish through this connection), then checkpoint and
        // acknowledge while the connection is still open.
        await this.settle();
        if (this.unacked) this.checkpoint();
        const nc = this.nc;
        this.nc = null;
        this.stores = null;
        if (nc && !nc.isClosed()) await nc.close().catch(() => {});
      }
    }
    this.checkpoint();
  }

  private async session(): Promise<void> {
    const nc = await connectFleet(this.opts.settings, `mlproxy trainer ${this.name}`);
    this.nc = nc;
    this.stores = await openStores(nc, this.fleet);
    const stream = streamName(this.fleet);
    const durable = this.opts.settings.train.consumer;
    await this.stores.jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.All,
      deliver_policy: DeliverPolicy.All,
      filter_subject: eventsFilter(this.fleet),
      max_ack_pending: 4 * CHECKPOINT_EVERY_MESSAGES,
      ack_wait: nanos(30000),
    });
    this.log.info(
      `trainer: connected to ${nc.getServer()}; consuming ${stream} with durable consumer ${durable}`,
    );
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    while (!this.stopped && !nc.isClosed()) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
      for await (const m of batch) {
        // A delivered batch is taken whole: what was delivered and not taken would come
        // back only after ack_wait.
        this.take(m);
      }
      this.maybeCheckpoint();
    }
  }

  // Ingest ---------------------------------------------------------------------------

  private take(m: JsMsg): void {
    this.unacked = m;
    this.unackedCount++;
    if (m.seq <= this.lastSeq) {
      this.stats.duplicates++;
      return;
    }
    this.lastSeq = m.seq;
    this.stats.messages++;
    const env = parseEnvelope(m.data);
    if (typeof env === 'string') {
      this.stats.invalid++;
      this.metrics?.invalid.inc();
      if (this.stats.invalid <= 10 || this.stats.invalid % 1000 === 0) {
        this.log.warn(`trainer: message ${m.seq} on ${m.subject} refused: ${env}`);
      }
      return;
    }
    this.ingest(env);
  }

  /** Takes one checked envelope (exposed for tests that bypass the server). */
  ingest(env: Envelope): void {
    this.metrics?.records.inc({ kind: env.kind });
    const key = `${env.host}/${env.record.id}`;
    if (env.record.type === 'decision') {
      this.stats.decisions++;
      const reward = this.rewards.get(key);
      if (reward) {
        this.rewards.delete(key);
        this.join(env, env.record, reward);
      } else {
        this.decisions.set(key, { env, record: env.record });
        this.cap(this.decisions);
      }
    } else {
      this.stats.rewards++;
      const dec = this.decisions.get(key);
      if (dec) {
        this.decisions.delete(key);
        this.join(dec.env, dec.record, env.record);
      } else {
        this.rewards.set(key, env.record);
        this.cap(this.rewards);
      }
    }
  }

  private cap(map: Map<string, unknown>): void {
    while (map.size > PENDING_CAP) {
      map.delete(map.keys().next().value as string);
      this.stats.evicted++;
    }
  }

  /** Train the group's policy on a sample as the daemon does (the logged propensity). */
  private train(g: Group, sample: Sample): void {
    if (learnFromLogged(g.trained, sample)) g.trainedSamples++;
    else this.stats.unlearnable++;
  }

  private group(env: Envelope): Group | undefined {
    let g = this.groups.get(env.subsystem);
    if (!g) {
      const spec = this.opts.settings.train.policy ?? this.opts.policyFor(env.subsystem);
      g = {
        subsystem: env.subsystem,
        spec,
        signature: env.signature,
        k: env.k,
        d: env.d,
        baselineArm: env.baselineArm,
        trained: createPolicy(spec, { k: env.k, d: env.d, seed: this.opts.settings.train.seed }),
        trainedSamples: 0,
        recent: [],
        sinceRound: 0,
        hosts: new Set(),
        abi: { ...env.abi },
        rounds: 0,
        lastVersion: 0,
        chain: Promise.resolve(),
        last: null,
      };
      this.groups.set(env.subsystem, g);
      this.log.info(
        `trainer: ${env.subsystem}: ${g.k} arms (${g.signature}), ${g.d} features; training ${spec}`,
      );
    }
    if (
      g.signature !== env.signature ||
      g.k !== env.k ||
      g.d !== env.d ||
      g.abi.major !== env.abi.major
    ) {
      this.stats.otherSchema++;
      this.metrics?.invalid.inc();
      return undefined;
    }
    return g;
  }

  private join(env: Envelope, d: DecisionRecord, r: RewardRecord): void {
    if (!r.applied || !(r.reward >= 0 && r.reward <= 1)) {
      this.stats.notApplied++;
      return;
    }
    const g = this.group(env);
    if (!g) return;
    if (d.arm >= g.k || (d.legal && (d.legal.length !== g.k || !d.legal[d.arm]))) {
      this.stats.invalid++;
      return;
    }
    const sample: Sample = {
      context: d.context,
      arm: d.arm,
      propensity: d.propensity,
      reward: r.reward,
      host: env.host,
      policy: d.policy,
      policyVersion: d.policyVersion,
      ...(d.legal ? { legal: d.legal } : {}),
      ...(d.distribution ? { distribution: d.distribution } : {}),
    };
    g.hosts.add(env.host);
    if (env.abi.minor < g.abi.minor) g.abi = { ...env.abi };
    g.sinceRound++;
    this.stats.samples++;
    const t = this.opts.settings.train;
    if (trainOnlyReason(d) !== undefined) {
      // A guard chose here, not the policy: no evidence for the gate, data for training.
      this.train(g, sample);
    } else {
      g.recent.push(sample);
    }
    while (g.recent.length > t.evalSamples) {
      this.train(g, g.recent.shift()!);
    }
    this.metrics?.samples.set({ subsystem: g.subsystem }, g.trainedSamples + g.recent.length);
    if (
      g.sinceRound >= t.everySamples &&
      g.recent.length >= t.evalSamples &&
      g.trainedSamples >= t.evalSamples
    ) {
      // The inputs are taken now, so that the rounds depend only on the order of the
      // stream, not on how fast the server answers the rounds before.
      g.sinceRound = 0;
      const n = ++g.rounds;
      const input = {
        candidate: g.trained.snapshot(),
        held: g.recent.slice(),
        trainedSamples: g.trainedSamples,
      };
      const p = g.chain.then(() => this.round(g, n, input));
      g.chain = p;
      this.roundsRunning.add(p);
      void p.finally(() => this.roundsRunning.delete(p));
    }
  }

  // Rounds ---------------------------------------------------------------------------

  /** Waits for the rounds in progress (tests, shutdown). */
  async settle(): Promise<void> {
    while (this.roundsRunning.size) await Promise.all(this.roundsRunning);
  }

  private async round(
    g: Group,
    n: number,
    {
      candidate,
      held,
      trainedSamples,
    }: { candidate: PolicySnapshot; held: Sample[]; trainedSamples: number },
  ): Promise<void> {
    let result: RoundResult;
    try {
      result = await this.evaluateAndPublish(g, candidate, held, trainedSamples);
    } catch (err) {
      result = {
        subsystem: g.subsystem,
        at: new Date().toISOString(),
        verdict: 'failed',
        reason: (err as Error).message,
        version: null,
        evaluation: null,
      };
    }
    g.last = result;
    this.rounds.push(result);
    this.metrics?.rounds.inc({ subsystem: g.subsystem, verdict: result.verdict });
    const line = `trainer: ${g.subsystem} round ${n}: ${result.verdict}${result.version ? ` v${result.version}` : ''}: ${result.reason}`;
    if (result.verdict === 'failed') this.log.warn(line);
    else this.log.info(line);
    await this.stores?.kv
      .put(
        trainerKey(g.subsystem),
        JSON.stringify({
          trainer: this.name,
          at: result.at,
          rounds: g.rounds,
          samples: g.trainedSamples + g.recent.length,
          hosts: [...g.hosts].sort(),
          last: result,
        }),
      )
      .catch(() => {});
    this.checkpoint();
  }

  private async currentPolicy(
    g: Group,
  ): Promise<{ pointer: PolicyPointer; revision: number; policy: Policy | null } | null> {
    const stores = this.stores!;
    const e = await stores.kv.get(pointerKey(g.subsystem));
    if (!e || e.operation !== 'PUT') return null;
    const pointer = parsePointer(e.value);
    let policy: Policy | null = null;
    if (pointer.signature === g.signature && pointer.k === g.k && pointer.d === g.d) {
      const bytes = await stores.objects.getBlob(pointer.object);
      if (bytes) {
        const snap = verifyPolicyObject(pointer, bytes, {
          abi: { major: pointer.minAbi.major, minor: 65535 },
          subsystem: {
            name: g.subsystem,
            signature: g.signature,
            k: g.k,
            d: g.d,
            baselineArm: g.baselineArm,
            policy: g.spec,
          },
        });
        policy = restorePolicy(snap);
      }
    }
    return { pointer, revision: e.revision, policy };
  }

  private async nextVersion(g: Group, current: PolicyPointer | null): Promise<number> {
    let v = Math.max(g.lastVersion, current?.version ?? 0);
    for (const info of await this.stores!.objects.list()) {
      const n = versionOfObject(g.subsystem, info.name);
      if (n !== undefined) v = Math.max(v, n);
    }
    return v + 1;
  }

  private async evaluateAndPublish(
    g: Group,
    candidate: PolicySnapshot,
    held: Sample[],
    trainedSamples: number,
  ): Promise<RoundResult> {
    if (!this.stores) throw new Error('not connected');
    const at = new Date().toISOString();
    const data = checkOpeData(
      held.map((s) => ({ ...s, k: g.k })),
      `${g.subsystem} held-out samples`,
    );
    const cand = { name: 'candidate', make: () => restorePolicy(candidate) };
    const gateOpts = { learn: false, seed: this.opts.settings.train.seed };
    const vsBase = knownValueGate(data, cand, BASELINE_REWARD, gateOpts);
    const cur = await this.currentPolicy(g);
    const vsCur = cur?.policy
      ? promotionGate(
          data,
          cand,
          { name: `v${cur.pointer.version}`, make: () => restorePolicy(cur.policy!.snapshot()) },
          gateOpts,
        )
      : null;
    const evaluation: FleetEvaluation = {
      estimator:
        "doubly robust (cross-fitted ridge reward model), 95% normal intervals, on held-out samples the candidate was not trained on; the baseline's value is 0.5 by the reward's definition; against the current version, paired differences",
      samples: data.decisions.length,
      hosts: new Set(held.map((s) => s.host)).size,
      logged: est(vsBase.candidate.logged),
      candidate: est(vsBase.candidate.dr),
      baseline: { value: BASELINE_REWARD, lo: BASELINE_REWARD, hi: BASELINE_REWARD, n: 0 },
      vsBaseline: est(vsBase.difference),
      support: {
        ess: vsBase.candidate.support.ess,
        supported: vsBase.candidate.support.supported,
      },
      current:
        vsCur && cur
          ? {
              version: cur.pointer.version,
              value: est(vsCur.current.dr),
              difference: est(vsCur.difference),
            }
          : null,
    };
    const summary =
      `candidate ${fmt(evaluation.candidate)}, baseline ${BASELINE_REWARD} (by the reward's definition), difference ${fmt(evaluation.vsBaseline)}` +
      (evaluation.current
        ? `; v${evaluation.current.version} ${fmt(evaluation.current.value)}, difference ${fmt(evaluation.current.difference)}`
        : '; no fleet policy yet') +
      ` (${evaluation.samples} held-out samples from ${evaluation.hosts} hosts; candidate's effective sample size ${vsBase.candidate.support.ess.toFixed(1)})`;
    const result = (
      verdict: Verdict,
      reason: string,
      version: number | null = null,
    ): RoundResult => ({
      subsystem: g.subsystem,
      at,
      verdict,
      reason,
      version,
      evaluation,
    });
    // The candidate's own support problems appear in both gates: name them once.
    const unsupported = [...new Set([...vsBase.refusals, ...(vsCur?.refusals ?? [])])];
    if (unsupported.length) {
      return result(
        'rejected',
        `the held-out log cannot support the comparison (${unsupported.join('; ')}): ${summary}`,
      );
    }
    if (!vsBase.promote) {
      return result(
        'rejected',
        `does not beat the baseline with 95% confidence: its lower bound ${evaluation.candidate.lo.toFixed(4)} is not above the baseline's reward ${BASELINE_REWARD}: ${summary}`,
      );
    }
    if (vsCur && !vsCur.promote) {
      return result(
        'rejected',
        `does not beat v${cur!.pointer.version} with 95% confidence: ${summary}`,
      );
    }
    if (cur?.pointer.pinned) {
      return result(
        'pinned',
        `passed the gate, but v${cur.pointer.version} is pinned by ${cur.pointer.pinned.by}: ${summary}`,
      );
    }
    const version = await this.nextVersion(g, cur?.pointer ?? null);
    const header: PolicyHeader = {
      fleet: this.fleet,
      subsystem: g.subsystem,
      version,
      spec: g.spec,
      signature: g.signature,
      k: g.k,
      d: g.d,
      baselineArm: g.baselineArm,
      minAbi: { ...g.abi },
      trainedSamples,
      evaluation,
      createdAt: at,
      trainer: this.name,
    };
    const bytes = encodeObject(header, candidate);
    const name = objectName(g.subsystem, version);
    await this.stores.objects.putBlob(
      { name, description: `mlproxy fleet policy ${g.subsystem} v${version}` },
      bytes,
    );
    const pointer = pointerFor(header, name, bytes, this.opts.settings.train.rollout);
    const value = JSON.stringify(pointer);
    // Never overwrite a pointer an operator changed since we read it.
    if (cur) await this.stores.kv.update(pointerKey(g.subsystem), value, cur.revision);
    else await this.stores.kv.create(pointerKey(g.subsystem), value);
    g.lastVersion = version;
    this.metrics?.publishedVersion.set({ subsystem: g.subsystem }, version);
    return result('published', summary, version);
  }

  // Checkpoints ----------------------------------------------------------------------

  private maybeCheckpoint(): void {
    if (!this.unacked) return;
    if (
      this.unackedCount >= CHECKPOINT_EVERY_MESSAGES ||
      Date.now() - this.lastCheckpointMs >= CHECKPOINT_EVERY_MS
    ) {
      this.checkpoint();
    }
  }

  /** Saves the state, then acknowledges everything consumed up to it. */
  checkpoint(): void {
    const payload: TrainerCheckpoint = {
      v: 1,
      fleet: this.fleet,
      lastSeq: this.lastSeq,
      groups: [...this.groups.values()].map((g) => ({
        subsystem: g.subsystem,
        spec: g.spec,
        signature: g.signature,
        k: g.k,
        d: g.d,
        baselineArm: g.baselineArm,
        trained: g.trained.snapshot(),
        trainedSamples: g.trainedSamples,
        recent: g.recent,
        sinceRound: g.sinceRound,
        hosts: [...g.hosts],
        abi: g.abi,
        rounds: g.rounds,
        lastVersion: g.lastVersion,
        last: g.last,
      })),
      decisions: [...this.decisions.entries()],
      rewards: [...this.rewards.entries()],
      stats: this.stats,
    };
    this.store.save(payload);
    this.lastCheckpointMs = Date.now();
    const m = this.unacked;
    this.unacked = null;
    this.unackedCount = 0;
    try {
      m?.ack();
    } catch {
      // The connection went away: the next session redelivers, and lastSeq skips them.
    }
  }

  private resume(): void {
    const loaded = this.store.loadLatest<TrainerCheckpoint>((msg) => this.log.warn(msg));
    if (!loaded) return;
    const p = loaded.payload;
    if (p.fleet !== this.fleet) {
      this.log.warn(
        `trainer: checkpoint ${nodePath.basename(loaded.file)} is of fleet ${p.fleet}; not used`,
      );
      return;
    }
    this.lastSeq = p.lastSeq;
    Object.assign(this.stats, p.stats);
    for (const s of p.groups) {
      this.groups.set(s.subsystem, {
        ...s,
        trained: restorePolicy(s.trained),
        hosts: new Set(s.hosts),
        chain: Promise.resolve(),
      });
    }
    this.decisions = new Map(p.decisions);
    this.rewards = new Map(p.rewards);
    this.log.info(
      `trainer: resumed from ${nodePath.basename(loaded.file)} (stream sequence ${p.lastSeq}, ${this.stats.samples} samples)`,
    );
  }
}
