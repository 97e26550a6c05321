/**
 * The systemd notification protocol without a native addon: Node cannot send on a unix
 * datagram socket, so messages go through systemd-notify(1), started asynchronously (the
 * event loop never waits for it). Run as a child of the daemon with CAP_SYS_ADMIN,
 * systemd-notify sends on behalf of its parent (the main pid); otherwise it waits until
 * the manager has processed the message, so nothing is lost to the exit race (see
 * systemd-notify(1)); the unit sets NotifyAccess=all for that case.
 *
 * Used only when systemd asks for it ($NOTIFY_SOCKET): READY=1 once the daemon runs,
 * WATCHDOG=1 from the daemon's loop (so a stuck loop stops the pings and systemd
 * restarts the service), STOPPING=1 at the end. Without $NOTIFY_SOCKET nothing runs.
 */
import { execFile } from 'node:child_process';

export interface Notifier {
  /** READY=1 (Type=notify). */
  ready(status?: string): void;
  /** Called often (every loop turn): sends WATCHDOG=1 at most every half WatchdogSec. */
  alive(): void;
  stopping(): void;
}

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  /** The command (tests point it at a fake). */
  command?: string;
  now?: () => number;
  onError?: (message: string) => void;
}

const NOOP: Notifier = { ready() {}, alive() {}, stopping() {} };

export function systemdNotifier(options: NotifierOptions = {}): Notifier {
  const env = options.env ?? process.env;
  if (!env.NOTIFY_SOCKET) return NOOP;
  const command = options.command ?? 'systemd-notify';
  const now = options.now ?? Date.now;
  // systemd sets WATCHDOG_PID to the pid it watches; another pid (a child of ours) ignores it.
  const watchdogUsec =
    env.WATCHDOG_USEC && (!env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid)
      ? Number(env.WATCHDOG_USEC)
      : 0;
  const intervalMs = watchdogUsec > 0 ? watchdogUsec / 1000 / 2 : Infinity;
  let inFlight = false;
  let lastPing = -Infinity;
  let reported = false;
  const send = (args: string[]): void => {
    inFlight = true;
    execFile(command, args, { timeout: 10000 }, (err, _stdout, stderr) => {
      inFlight = false;
      if (err && !reported) {
        reported = true;
        options.onError?.(
          `systemd notification failed (${command} ${args.join(' ')}: ${stderr.trim() || err.message}); ` +
            'is systemd-notify installed (package systemd)?',
        );
      }
    });
  };
  return {
    ready(status) {
      send(['--ready', ...(status ? [`--status=${status}`] : [])]);
      lastPing = now();
    },
    alive() {
      if (watchdogUsec <= 0 || inFlight || now() - lastPing < intervalMs) return;
      lastPing = now();
      send(['WATCHDOG=1']);
    },
    stopping() {
      send(['STOPPING=1']);
    },
  };
}
