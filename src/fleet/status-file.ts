/**
 * The host's fleet state file (<stateDir>/fleet.json), written by the fleet link and read
 * by `mlproxy status`. Kept apart from host.ts so that `status` does not load the client.
 */
import type { PublisherStats } from './publisher.js';

export const FLEET_STATUS_FILE = 'fleet.json';

export interface SubsystemFleetState {
  /** Latest pointer seen. */
  pointer: { version: number; rollout: number; pinned: boolean; sha256: string } | null;
  /** What this host did about it. */
  state: string;
  adoptedVersion: number | null;
  adoptedAt: string | null;
  lastRefusal: { version: number; kind: string; reason: string; at: string } | null;
}

export interface FleetStatus {
  fleet: string;
  host: string;
  server: string[] | string | null;
  connected: boolean;
  lastError: string | null;
  rolloutBucket: number;
  adopt: boolean;
  queue: PublisherStats & { capacity: number };
  subsystems: Record<string, SubsystemFleetState>;
  updatedAt: string;
}

/** Lines for `mlproxy status`. */
export function formatFleetStatus(f: FleetStatus): string[] {
  const q = f.queue;
  const lines = [
    `fleet ${f.fleet} on ${String(f.server)} as host ${f.host}: ${f.connected ? 'connected' : 'NOT connected'} (updated ${f.updatedAt})${f.lastError ? `; last error: ${f.lastError}` : ''}`,
    `  queue ${q.depth}/${q.capacity}; published ${q.published}, dropped ${q.dropped}, publish errors ${q.errors}; rollout bucket ${f.rolloutBucket.toFixed(3)}${f.adopt ? '' : '; adoption off (publish only)'}`,
  ];
  for (const [name, s] of Object.entries(f.subsystems)) {
    const p = s.pointer;
    lines.push(
      `  ${name}: ${s.state}; fleet pointer ${p ? `v${p.version} (rollout ${p.rollout}${p.pinned ? ', pinned' : ''})` : 'none'}` +
        (s.lastRefusal
          ? `; last refusal v${s.lastRefusal.version} (${s.lastRefusal.kind}) at ${s.lastRefusal.at}`
          : ''),
    );
  }
  return lines;
}
