/**
 * Opens the device the daemon runs on: IoctlDevice on /dev/mlproxy, or (--sim) the same
 * IoctlDevice over the simulator's fake kernel (src/transport/sim/fake-kernel.ts). A
 * missing device is a clear error naming both fixes.
 */
import { existsSync } from 'node:fs';
import type { MlpDevice } from './device.js';
import { DeviceError } from './device.js';
import { DEFAULT_DEVICE_PATH, IoctlDevice } from './ioctl-device.js';
import { simDevice } from './sim/fake-kernel.js';
import type { SimKernelOptions } from './sim/kernel.js';

export interface OpenDeviceOptions {
  /** Use the simulated device instead of /dev/mlproxy. */
  sim?: boolean;
  /** Device node (default /dev/mlproxy). */
  path?: string;
  /** Read-only use (status): fall back to O_RDONLY when not root. */
  readOnly?: boolean;
  /** SimKernel options when sim (default: real-time clock, both subsystems). */
  simOptions?: SimKernelOptions;
}

export function openDevice(opts: OpenDeviceOptions = {}): MlpDevice {
  if (opts.sim) return simDevice({ kernelOptions: { clock: 'real', ...opts.simOptions } });
  const path = opts.path ?? DEFAULT_DEVICE_PATH;
  if (!existsSync(path)) {
    throw new DeviceError(
      `${path} does not exist: the mlproxy kernel module is not loaded. Load it with ` +
        '`sudo modprobe mlproxy` (or `sudo insmod kmod/mlproxy.ko`), or run on the ' +
        'simulated device with --sim',
      'ENOENT',
    );
  }
  return new IoctlDevice(path, { allowReadOnly: opts.readOnly });
}
