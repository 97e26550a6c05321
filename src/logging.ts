/**
 * The daemon's logger: pino JSON lines on stdout (journald under systemd), or
 * pino-pretty's human format when stdout is a TTY. Writes are synchronous so that the
 * last lines before a crash or exit are not lost.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** Human format; default: stdout is a TTY. */
  pretty?: boolean;
  /** Where to write (default stdout, fd 1). */
  fd?: number;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const fd = options.fd ?? 1;
  const human = options.pretty ?? Boolean(process.stdout.isTTY);
  const base = { base: { pid: process.pid }, level };
  if (human) {
    return pino(
      base,
      pretty({
        destination: fd,
        sync: true,
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
      }),
    );
  }
  return pino(base, pino.destination({ fd, sync: true }));
}
