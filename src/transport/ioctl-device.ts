/**
 * IoctlDevice: the real /dev/mlproxy through the `ioctl` native addon.
 *
 * One file descriptor, opened O_RDWR | O_NONBLOCK (O_RDONLY when EACCES and the
 * caller only reads, e.g. `mlproxy status`). The kernel queues feedback per open
 * file, so a second descriptor would fill an unread ring and count drops; everything
 * goes through this one.
 *
 * waitFeedback() polls with non-blocking reads on a timer (setTimeout, a quarter of
 * the shortest window, 1..50 ms) until a record is queued or the timeout passes. Why
 * not a blocking read: it would occupy a libuv threadpool thread until a record
 * arrives, and close() cannot wake it (closing an fd does not interrupt a read in
 * progress), so a module that stops producing windows would hang the daemon. Polling
 * at window cadence costs a few syscalls per window, never spins, and close() simply
 * cancels the timer.
 */
import { closeSync, constants as fsc, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as codec from '../abi/codec.js';
import { ABI_MAJOR, ABI_MINOR, MAX_SUBSYS } from '../abi/constants.js';
import { IOCTLS, type IoctlName } from '../abi/structs.js';
import { DeviceError } from './device.js';
import type {
  Feedback,
  MlpDevice,
  ModeInfo,
  ModeValue,
  RecommendResult,
  Recommendation,
  StateSnapshot,
  Status,
  SubsystemInfo,
  VersionInfo,
} from './device.js';
import { deviceError } from './errors.js';

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

export const DEFAULT_DEVICE_PATH = '/dev/mlproxy';

export interface IoctlDeviceOptions {
  /** Open O_RDONLY when O_RDWR is refused with EACCES (read-only commands). */
  allowReadOnly?: boolean;
  /** The ioctl(2) call; tests pass a model of the kernel here (default: the addon). */
  ioctl?: IoctlFn;
}

const EINVAL_DETAIL: Partial<Record<IoctlName, string>> = {
  MLP_IOC_RECOMMEND:
    'rejected by the kernel: knob count, propensity, ttl_ms, flags, or an epoch in the future',
  MLP_IOC_SET_MODE: 'bad mode or flags',
  MLP_IOC_VERSION: 'struct size mismatch: the daemon and the module disagree on the ABI',
};

export class IoctlDevice implements MlpDevice {
  readonly description: string;
  readonly simulated = false;
  readonly readOnly: boolean;
  private fd: number | null;
  private readonly ioctl: IoctlFn;
  private readonly knobCounts = new Map<number, number>();
  private pollMs = 10;
  private readonly readBuf: Buffer;
  private readonly pendingWaits = new Set<() => void>();

  constructor(
    readonly path = DEFAULT_DEVICE_PATH,
    opts: IoctlDeviceOptions = {},
  ) {
    this.ioctl = opts.ioctl ?? loadIoctl();
    let readOnly = false;
    let fd: number;
    try {
      fd = openSync(path, fsc.O_RDWR | fsc.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      if (code === 'EACCES' && opts.allowReadOnly) {
        fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
        readOnly = true;
      } else if (code === 'ENOENT' || code === 'ENXIO' || code === 'ENODEV') {
        throw deviceError(
          `open ${path}`,
          code,
          'the mlproxy kernel module is not loaded: load it with `modprobe mlproxy` ' +
            '(or `insmod mlproxy.ko`), or run on the simulated device with --sim',
        );
      } else {
        throw deviceError(`open ${path}`, code);
      }
    }
    this.fd = fd;
    this.readOnly = readOnly;
    this.description = `ioctl:${path}${readOnly ? ' (read-only)' : ''}`;
    this.readBuf = Buffer.alloc(codec.FEEDBACK_SIZE * 64);
    try {
      this.handshake();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private handshake(): void {
    const v = codec.decodeVersion(this.call('MLP_IOC_VERSION', codec.encodeVersion()));
    if (!v.compatible) {
      throw new DeviceError(
        `ABI mismatch: the module speaks mlproxy ABI ${v.abiMajor}.${v.abiMinor}, this daemon ` +
          `${ABI_MAJOR}.${ABI_MINOR}: upgrade the daemon or the module so the majors match`,
        'EPROTO',
      );
    }
    const bad = Object.entries(codec.LOCAL_SIZES).filter(
      ([k, size]) => v.sizes[k as keyof typeof v.sizes] !== size,
    );
    if (bad.length > 0) {
      throw new DeviceError(
        'ABI mismatch in struct sizes (' +
          bad
            .map(([k, s]) => `${k}: module ${v.sizes[k as keyof typeof v.sizes]}, daemon ${s}`)
            .join('; ') +
          '): rebuild the module and the daemon from the same mlproxy.h',
        'EPROTO',
      );
    }
    const subs = this.listSubsystems();
    const minWindow = Math.min(...subs.map((s) => s.windowMs), 200);
    this.pollMs = Math.min(50, Math.max(1, Math.floor(minWindow / 4)));
  }

  private call(name: IoctlName, buf: Buffer, subsysId?: number): Buffer {
    if (this.fd === null) throw deviceError(name, 'EBADF');
    try {
      this.ioctl(this.fd, IOCTLS[name], buf);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const code = err.code ?? `errno ${String(err.errno)}`;
      let detail: string | undefined;
      if ((code === 'ENOENT' || code === 'EINVAL') && subsysId !== undefined) {
        detail = `subsystem id ${subsysId}: ${code === 'ENOENT' ? 'no such subsystem (see `mlproxy status`)' : (EINVAL_DETAIL[name] ?? 'invalid argument')}`;
      } else if (code === 'EINVAL') {
        detail = EINVAL_DETAIL[name];
      } else if (code === 'EBADF' && this.readOnly) {
        detail = 'the device is open read-only: run as root to control it';
      }
      throw deviceError(name, code, detail);
    }
    return buf;
  }

  version(): VersionInfo {
    const { sizes: _sizes, ...info } = codec.decodeVersion(
      this.call('MLP_IOC_VERSION', codec.encodeVersion()),
    );
    return info;
  }

  listSubsystems(): SubsystemInfo[] {
    const n = Math.min(this.version().nrSubsys, MAX_SUBSYS);
    const out: SubsystemInfo[] = [];
    for (let i = 0; i < n; i++) {
      try {
        out.push(
          codec.decodeSubsysInfo(this.call('MLP_IOC_SUBSYS_INFO', codec.encodeSubsysInfoQuery(i))),
        );
      } catch (e) {
        // A subsystem unregistered between VERSION and SUBSYS_INFO: the list is shorter.
        if (e instanceof DeviceError && e.code === 'ENOENT') break;
        throw e;
      }
    }
    for (const s of out) this.knobCounts.set(s.id, s.knobs.length);
    return out;
  }

  getState(subsysId: number): StateSnapshot {
    return codec.decodeState(
      this.call('MLP_IOC_GET_STATE', codec.encodeStateQuery(subsysId), subsysId),
    );
  }

  recommend(rec: Recommendation): RecommendResult {
    return codec.decodeRecommendResult(
      this.call('MLP_IOC_RECOMMEND', codec.encodeRecommendation(rec), rec.subsysId),
    );
  }

  getMode(subsysId: number): ModeInfo {
    return codec.decodeMode(
      this.call('MLP_IOC_GET_MODE', codec.encodeModeQuery(subsysId), subsysId),
    );
  }

  setMode(subsysId: number, mode: ModeValue, pin: boolean): void {
    this.call('MLP_IOC_SET_MODE', codec.encodeMode(subsysId, mode, pin), subsysId);
  }

  getStatus(subsysId: number): Status {
    return codec.decodeStatus(
      this.call('MLP_IOC_GET_STATUS', codec.encodeStatusQuery(subsysId), subsysId),
    );
  }

  claim(subsysId: number): void {
    this.call('MLP_IOC_CLAIM', codec.encodeClaim(subsysId), subsysId);
  }

  release(subsysId: number): void {
    this.call('MLP_IOC_CLAIM', codec.encodeClaim(subsysId, true), subsysId);
  }

  heartbeat(subsysId: number): void {
    this.call('MLP_IOC_HEARTBEAT', codec.encodeClaim(subsysId), subsysId);
  }

  readFeedback(): Feedback[] {
    if (this.fd === null) throw deviceError('read', 'EBADF');
    const out: Feedback[] = [];
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.readBuf, 0, this.readBuf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') break;
        throw deviceError('read', code ?? 'EIO');
      }
      if (n === 0) break;
      for (const f of codec.decodeFeedbackRecords(this.readBuf.subarray(0, n))) {
        const nk = this.knobCounts.get(f.subsysId);
        if (nk !== undefined) f.knobs = f.knobs.slice(0, nk);
        out.push(f);
      }
      if (n < this.readBuf.length) break;
    }
    return out;
  }

  waitFeedback(timeoutMs: number): Promise<Feedback[]> {
    if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
    const first = this.readFeedback();
    if (first.length > 0 || timeoutMs === 0) return Promise.resolve(first);
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (records: Feedback[]) => {
        clearTimeout(timer);
        this.pendingWaits.delete(cancel);
        resolve(records);
      };
      const cancel = () => done([]);
      const tick = () => {
        try {
          const records = this.fd === null ? [] : this.readFeedback();
          const left = deadline - Date.now();
          if (records.length > 0 || left <= 0 || this.fd === null) return done(records);
          timer = setTimeout(tick, Math.min(this.pollMs, left));
        } catch (e) {
          clearTimeout(timer);
          this.pendingWaits.delete(cancel);
          reject(e);
        }
      };
      this.pendingWaits.add(cancel);
      timer = setTimeout(tick, Math.min(this.pollMs, timeoutMs));
    });
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
    for (const cancel of [...this.pendingWaits]) cancel();
  }
}
