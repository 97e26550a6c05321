/**
 * DeviceError messages shared by IoctlDevice and SimDevice, so both report the same
 * failure the same way: "<ioctl>: <ERRNO> (<what it means here and the fix>)".
 */
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
};

export function deviceError(op: string, code: string, detail?: string): DeviceError {
  const hint = detail ?? HINTS[code] ?? 'unexpected error';
  return new DeviceError(`${op}: ${code} (${hint})`, code);
}
