/** Argument parsers for the CLI: each rejects bad input with a message naming the fix. */
import { InvalidArgumentError } from 'commander';
import { LOG_LEVELS } from '../src/config/schema.js';
import type { LogLevel } from '../src/config/schema.js';
import { checkPolicySpec } from '../src/config/load.js';

export function parseIntArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer in [${min}, ${max}], got "${value}"`);
    }
    return n;
  };
}

export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`must be a number >= 0, got "${value}"`);
  }
  return n;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000 };

/** "20s", "500ms", "2m", "1h" or plain seconds ("20") -> milliseconds; 0 = no limit. */
export function parseDuration(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!m) {
    throw new InvalidArgumentError(
      `must be a duration such as 20s, 500ms, 2m or 1h (0 = no limit), got "${value}"`,
    );
  }
  return Number(m[1]) * UNITS[m[2] ?? 's'];
}

export function parseLogLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  }
  return value as LogLevel;
}

export function parsePolicy(value: string): string {
  const problem = checkPolicySpec(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}
