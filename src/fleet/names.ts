/**
 * Everything the fleet names on the NATS server derives from the fleet name, here and
 * only here (docs/fleet.md lists them):
 *   stream   MLPROXY_<fleet>            subjects mlproxy.<fleet>.ev.<host>.<subsystem>.<kind>
 *   KV       mlproxy_<fleet>            keys policy.<subsystem> (the pointer), trainer.<subsystem>
 *   objects  mlproxy_<fleet>_policies   names <subsystem>/v<version>.json
 */
import { createHash } from 'node:crypto';

export const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

export type EventKind = 'decision' | 'reward';

export function checkName(what: string, name: string): string {
  if (!NAME_RE.test(name)) {
    throw new Error(
      `${what} "${name}" must be 1 to 64 letters, digits, "_" or "-" (it becomes part of NATS subjects and bucket names)`,
    );
  }
  return name;
}

export function streamName(fleet: string): string {
  return `MLPROXY_${fleet}`;
}

export function eventsFilter(fleet: string): string {
  return `mlproxy.${fleet}.ev.>`;
}

/** A subject token for a host name: anything but letters, digits, _ and - becomes _. */
export function hostToken(host: string): string {
  return host.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128) || '_';
}

export function eventSubject(
  fleet: string,
  host: string,
  subsystem: string,
  kind: EventKind,
): string {
  return `mlproxy.${fleet}.ev.${hostToken(host)}.${subsystem}.${kind}`;
}

export function kvBucket(fleet: string): string {
  return `mlproxy_${fleet}`;
}

export function objectBucket(fleet: string): string {
  return `mlproxy_${fleet}_policies`;
}

export function pointerKey(subsystem: string): string {
  return `policy.${subsystem}`;
}

export const POINTER_KEYS = 'policy.*';

export function trainerKey(subsystem: string): string {
  return `trainer.${subsystem}`;
}

export function objectName(subsystem: string, version: number): string {
  return `${subsystem}/v${version}.json`;
}

/** The version in an object name written by objectName(), or undefined. */
export function versionOfObject(subsystem: string, name: string): number | undefined {
  const m = /^(.+)\/v(\d+)\.json$/.exec(name);
  return m && m[1] === subsystem ? Number(m[2]) : undefined;
}

/**
 * The host's stable place in [0, 1) for staged rollouts: a version with rollout share s
 * goes to the hosts whose bucket is below s, the same hosts for every version.
 */
export function rolloutBucket(fleet: string, host: string): number {
  const h = createHash('sha256').update(`${fleet}\0${host}`).digest();
  return h.readUInt32BE(0) / 2 ** 32;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
