/**
 * Prometheus metrics of the daemon (prom-client), in a registry of its own, and the
 * optional HTTP endpoint, bound to 127.0.0.1 only, serving GET /metrics and nothing else.
 * Node's process metrics (prom-client's default metrics, whose event-loop monitor runs a
 * 10 ms timer) start only with enableProcessMetrics(), which the daemon calls when it
 * serves metrics: without a metrics port the daemon runs no metrics timer at all.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly decisions: Counter<'subsystem'>;
  readonly verdicts: Counter<'subsystem' | 'verdict'>;
  readonly rewards: Histogram<'subsystem'>;
  readonly mode: Gauge<'subsystem'>;
  readonly budget: Gauge<'subsystem'>;
  readonly loopLatency: Histogram;
  readonly deviceReconnects: Counter;
  readonly checkpointFailures: Counter;
  readonly logWriteFailures: Counter;
  readonly lastCheckpointTime: Gauge;
  readonly collapses: Counter<'subsystem'>;
  readonly fallbacks: Counter<'subsystem'>;
  readonly lostFeedback: Counter<'subsystem'>;
  readonly buildInfo: Gauge<'version' | 'abi' | 'node'>;
  private processMetrics = false;

  constructor(options: { processMetrics?: boolean; version?: string; abi?: string } = {}) {
    const registers = [this.registry];
    this.decisions = new Counter({
      name: 'mlproxy_decisions_total',
      help: 'Recommendations submitted, per subsystem',
      labelNames: ['subsystem'],
      registers,
    });
    this.verdicts = new Counter({
      name: 'mlproxy_verdicts_total',
      help: 'Kernel verdicts of submitted recommendations',
      labelNames: ['subsystem', 'verdict'],
      registers,
    });
    this.rewards = new Histogram({
      name: 'mlproxy_reward',
      help: 'Rewards of applied advice windows (0.5 = as good as the baseline)',
      labelNames: ['subsystem'],
      buckets: [0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 1],
      registers,
    });
    this.mode = new Gauge({
      name: 'mlproxy_mode',
      help: 'Kernel mode: 0 emergency, 1 learning, 2 collaboration, 3 recommendation',
      labelNames: ['subsystem'],
      registers,
    });
    this.budget = new Gauge({
      name: 'mlproxy_exploration_budget',
      help: 'Conservative exploration budget left, in reward units',
      labelNames: ['subsystem'],
      registers,
    });
    this.loopLatency = new Histogram({
      name: 'mlproxy_loop_latency_seconds',
      help: 'Time from reading a state to submitting the recommendation',
      buckets: [5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 5e-3, 2e-2],
      registers,
    });
    this.deviceReconnects = new Counter({
      name: 'mlproxy_device_reconnects_total',
      help: 'Times the device was reopened after it went away',
      registers,
    });
    this.checkpointFailures = new Counter({
      name: 'mlproxy_checkpoint_failures_total',
      help: 'Checkpoints that could not be written (the older ones are kept)',
      registers,
    });
    this.logWriteFailures = new Counter({
      name: 'mlproxy_decision_log_write_failures_total',
      help: 'Decision-log appends or flushes that failed (the daemon stops on one)',
      registers,
    });
    this.lastCheckpointTime = new Gauge({
      name: 'mlproxy_last_checkpoint_timestamp_seconds',
      help: 'Unix time of the last checkpoint written and verified by this process',
      registers,
    });
    this.collapses = new Counter({
      name: 'mlproxy_collapses_total',
      help: 'Reward collapses caught by the safety layer (each starts a baseline fallback)',
      labelNames: ['subsystem'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'mlproxy_fallback_decisions_total',
      help: 'Decisions made by the safety layer (the baseline arm after a collapse)',
      labelNames: ['subsystem'],
      registers,
    });
    this.lostFeedback = new Counter({
      name: 'mlproxy_lost_feedback_total',
      help: 'Decisions whose feedback never came (ring overflow, module reload)',
      labelNames: ['subsystem'],
      registers,
    });
    this.buildInfo = new Gauge({
      name: 'mlproxy_build_info',
      help: 'Always 1; labels: the daemon version, the ABI it speaks, the Node.js version',
      labelNames: ['version', 'abi', 'node'],
      registers,
    });
    this.buildInfo.set(
      {
        version: options.version ?? 'unknown',
        abi: options.abi ?? 'unknown',
        node: process.version,
      },
      1,
    );
    if (options.processMetrics) this.enableProcessMetrics();
  }

  /** Starts Node's process metrics (CPU, memory, event-loop lag); once, and only when served. */
  enableProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  get processMetricsEnabled(): boolean {
    return this.processMetrics;
  }
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics on 127.0.0.1:port (0 = a free port). */
export function startMetricsServer(registry: Registry, port: number): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('use GET\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: Error) => res.writeHead(500).end(String(err.message)),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new Error(
          `metrics: cannot listen on 127.0.0.1:${port}: ${err.code ?? err.message}; pick another metrics.port or omit it`,
        ),
      );
    });
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address() as AddressInfo;
      resolve({
        port: addr.port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}
