/** Exit codes of `mlproxy` (documented in --help and docs/daemon.md). */
export const EXIT = {
  /** Done: stopped by a signal, --decisions or --duration. */
  ok: 0,
  /** Runtime failure (device error other than "missing", I/O, bug). */
  failure: 1,
  /** Usage or config error: bad flag, bad config file. */
  usage: 2,
  /** The device (/dev/mlproxy) is missing: the module is not loaded. */
  deviceMissing: 3,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok (stopped by SIGTERM/SIGINT, --decisions or --duration)
  1  runtime failure
  2  usage or config error
  3  device missing (/dev/mlproxy absent: load the module, or use --sim)`;
