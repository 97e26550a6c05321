/**
 * The system calls IoctlDevice makes on /dev/mlproxy, behind one small interface: the
 * real ones (fs and the `ioctl` native addon, nodeSyscalls()) by default, or the
 * simulator's byte-level fake kernel (src/transport/sim/fake-kernel.ts), which answers
 * the same calls with the same bytes and errnos. Everything above this interface, the
 * struct codec included, is the same code for the real module and the simulator.
 *
 * Errors are thrown (or passed to read()'s callback) as errno exceptions: an Error with
 * `code` set to the errno name ("EINVAL", "EAGAIN", ...), like Node's own.
 */
import { closeSync, openSync, read as readAsync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DeviceError } from './device.js';

export type ReadCallback = (err: NodeJS.ErrnoException | null, bytesRead: number) => void;

export interface Syscalls {
  /** open(2): a file descriptor (flags: fs.constants O_*). */
  open(path: string, flags: number): number;
  /** close(2). */
  close(fd: number): void;
  /** ioctl(2) with a struct: the kernel reads and writes `data` in place. */
  ioctl(fd: number, request: number, data: Buffer): number;
  /** read(2) on the calling thread: never call it when it could block. */
  readSync(fd: number, buf: Buffer, offset: number, length: number): number;
  /** read(2) off the event loop (it may block in the kernel); the callback runs later. */
  read(fd: number, buf: Buffer, offset: number, length: number, cb: ReadCallback): void;
  /**
   * Set by a simulated kernel: what it is, for the device's description ("sim (auto
   * clock)"); unset for the real system calls.
   */
  readonly simulation?: string;
}

export type IoctlFn = (fd: number, request: number, data?: number | Buffer) => number;

let ioctlFn: IoctlFn | null = null;
function loadIoctl(): IoctlFn {
  if (!ioctlFn) {
    try {
      ioctlFn = createRequire(import.meta.url)('ioctl') as IoctlFn;
    } catch (e) {
      throw new DeviceError(
        `the "ioctl" native addon failed to load (${(e as Error).message}): ` +
          'reinstall dependencies with `npm ci` (needs a C++ toolchain), or use --sim',
        'ENOSYS',
      );
    }
  }
  return ioctlFn;
}

/**
 * The real system calls, with any of them replaced by `over` (a test may model the
 * kernel's ioctls and keep real reads of a FIFO). The addon is loaded only when the
 * real ioctl is used.
 */
export function nodeSyscalls(over: Partial<Syscalls> = {}): Syscalls {
  return {
    open: (path, flags) => openSync(path, flags),
    close: (fd) => closeSync(fd),
    ioctl: over.ioctl ?? loadIoctl(),
    readSync: (fd, buf, offset, length) => readSync(fd, buf, offset, length, null),
    read: (fd, buf, offset, length, cb) => readAsync(fd, buf, offset, length, null, cb),
    ...over,
  };
}
