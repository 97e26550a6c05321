/**
 * DeviceError messages: "<ioctl>: <ERRNO> (<what it means here and the fix>)", built by
 * IoctlDevice from the errno of the real module or of the simulator's fake kernel (whose
 * SimKernel raises its errnos with deviceError() too), so both report a failure alike.
 */
import { constants as osConstants } from 'node:os';
import { DeviceError } from './device.js';

const HINTS: Record<string, string> = {
  EPERM: 'needs CAP_SYS_ADMIN: run the daemon as root',
  EACCES: 'no permission on /dev/mlproxy: run as root or fix the device node mode',
  EBUSY: 'another open file controls this subsystem: stop the other daemon first',
  ENOENT: 'no such subsystem: list them with `mlproxy status`',
  EINVAL: 'invalid argument',
  ENODEV: 'the mlproxy module went away: reload it with `modprobe mlproxy`',
  EBADF: 'the device is closed',
  ENOTTY: 'not an mlproxy device, or an ABI mismatch between the daemon and the module',
  EFAULT: 'bad buffer passed to the kernel',
  E2BIG: 'the struct is larger than the module knows and its tail is not zero: an ABI mismatch',
  EAGAIN: 'too many open files of /dev/mlproxy for this user (module parameter max_open)',
};

/**
 * The errno name of a failed system call: its code, or the name of its errno number
 * when Node gave no code (the ioctl addon's errors have none for E2BIG).
 */
export function errnoName(e: NodeJS.ErrnoException): string {
  if (e.code) return e.code;
  const n = Math.abs(e.errno ?? 0);
  const name = Object.entries(osConstants.errno).find(([, v]) => v === n)?.[0];
  return name ?? `errno ${String(e.errno)}`;
}

export function deviceError(op: string, code: string, detail?: string): DeviceError {
  const hint = detail ?? HINTS[code] ?? 'unexpected error';
  return new DeviceError(`${op}: ${code} (${hint})`, code);
}
