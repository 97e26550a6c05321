/** Prometheus metrics of the fleet link and of the trainer, in the registry they are given. */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

export class FleetHostMetrics {
  readonly queueDepth: Gauge;
  readonly dropped: Counter;
  readonly published: Counter;
  readonly publishErrors: Counter;
  readonly connected: Gauge;
  readonly adoptedVersion: Gauge<'subsystem'>;
  readonly refused: Counter<'subsystem' | 'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.queueDepth = new Gauge({
      name: 'mlproxy_fleet_queue_depth',
      help: 'Records queued for the fleet server (in flight included)',
      registers,
    });
    this.dropped = new Counter({
      name: 'mlproxy_fleet_dropped_total',
      help: 'Records dropped because the fleet queue was full (server slow or away)',
      registers,
    });
    this.published = new Counter({
      name: 'mlproxy_fleet_published_total',
      help: 'Records the fleet server acknowledged',
      registers,
    });
    this.publishErrors = new Counter({
      name: 'mlproxy_fleet_publish_errors_total',
      help: 'Publish batches that failed (the records stay queued and are retried)',
      registers,
    });
    this.connected = new Gauge({
      name: 'mlproxy_fleet_connected',
      help: '1 while connected to the fleet server',
      registers,
    });
    this.adoptedVersion = new Gauge({
      name: 'mlproxy_fleet_adopted_version',
      help: 'Fleet policy version in use (0: none adopted)',
      labelNames: ['subsystem'],
      registers,
    });
    this.refused = new Counter({
      name: 'mlproxy_fleet_refused_total',
      help: 'Fleet policy versions refused, by reason',
      labelNames: ['subsystem', 'reason'],
      registers,
    });
  }
}

export class FleetTrainerMetrics {
  readonly records: Counter<'kind'>;
  readonly invalid: Counter;
  readonly rounds: Counter<'subsystem' | 'verdict'>;
  readonly publishedVersion: Gauge<'subsystem'>;
  readonly samples: Gauge<'subsystem'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.records = new Counter({
      name: 'mlproxy_trainer_records_total',
      help: 'Records consumed from the events stream',
      labelNames: ['kind'],
      registers,
    });
    this.invalid = new Counter({
      name: 'mlproxy_trainer_invalid_records_total',
      help: 'Messages refused as malformed or of another knob schema',
      registers,
    });
    this.rounds = new Counter({
      name: 'mlproxy_trainer_rounds_total',
      help: 'Training rounds by gate verdict (published, rejected, pinned)',
      labelNames: ['subsystem', 'verdict'],
      registers,
    });
    this.publishedVersion = new Gauge({
      name: 'mlproxy_trainer_published_version',
      help: 'Latest version the trainer published',
      labelNames: ['subsystem'],
      registers,
    });
    this.samples = new Gauge({
      name: 'mlproxy_trainer_samples',
      help: 'Rewarded, applied decisions the trainer has learned from',
      labelNames: ['subsystem'],
      registers,
    });
  }
}
