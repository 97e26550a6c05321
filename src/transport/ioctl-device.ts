/**
 * IoctlDevice: the one device class. It speaks to /dev/mlproxy in system calls (open,
 * ioctl with the byte codec's structs, read of packed feedback records, close) through
 * a Syscalls object (src/transport/syscalls.ts): the real ones (fs and the `ioctl` native
 * addon) by default, or the simulator's byte-level fake kernel
 * (src/transport/sim/fake-kernel.ts, `simDevice()`), which answers them as the module
 * does. Everything here, codec included, runs the same for both.
 *
 * One file descriptor (the kernel queues feedback per open file, so a second
 * descriptor would fill an unread ring and count drops; everything goes through this
 * one), opened O_RDWR (O_RDONLY when EACCES and the caller only reads, e.g. `mlproxy
 * status`).
 *
 * Sizes: the handshake learns the module's ABI minor and struct sizes; every struct
 * is then sent at min(ours, the module's) bytes (the kernel reads a missing tail as
 * zero), so this daemon works with an ABI 1.0 module as with a 1.1 one.
 *
 * Waiting for feedback (ABI 1.1): the file has a kernel read timeout (MLP_IOC_FILE).
 * waitFeedback(t) sets it to t and issues one asynchronous read(); it returns when a
 * record is queued, or after t with 0 bytes. No timer, no polling, no EAGAIN: an idle
 * daemon makes one read() per window (or per t). The read runs off the event loop
 * (libuv), which therefore never blocks; interruptWait() and close() wake it at once
 * with MLP_FILE_WAKE (a read() blocked in the kernel cannot be woken by close()), and
 * the descriptor is closed when that read has returned. readFeedback() reads with a
 * zero timeout: the queued records, never a wait.
 *
 * With an ABI 1.0 module (no read timeout) the file is non-blocking and
 * waitFeedback() polls with non-blocking reads every quarter window, as before.
 */
import { constants as fsc } from 'node:fs';
import * as codec from '../abi/codec.js';
import {
  ABI_MAJOR,
  ABI_MINOR,
  MAX_SUBSYS,
  READ_TIMEOUT_MAX_MS,
  REASON_GONE,
  SIZEOF_FEEDBACK_VER0,
  SIZEOF_VERSION_VER0,
} from '../abi/constants.js';
import { COMMANDS, requestFor, type IoctlName } from '../abi/structs.js';
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
import { deviceError, errnoName } from './errors.js';
import { nodeSyscalls, type Syscalls } from './syscalls.js';

export const DEFAULT_DEVICE_PATH = '/dev/mlproxy';

export interface IoctlDeviceOptions {
  /** Open O_RDONLY when O_RDWR is refused with EACCES (read-only commands). */
  allowReadOnly?: boolean;
  /**
   * The system calls (default: the real ones, nodeSyscalls()); the simulator passes its
   * byte-level fake kernel (src/transport/sim/fake-kernel.ts), a test may pass
   * nodeSyscalls({ ioctl }) to model the ioctls over a real file.
   */
  syscalls?: Syscalls;
  /**
   * At most this many records per readFeedback()/waitFeedback() (default: all that are
   * queued, 64 per read()); a benchmark of the steady state (one record a window): 1.
   */
  maxRecords?: number;
}

const EINVAL_DETAIL: Partial<Record<IoctlName, string>> = {
  MLP_IOC_RECOMMEND:
    'rejected by the kernel: knob count, propensity, ttl_ms, flags, or an epoch in the future',
  MLP_IOC_SET_MODE: 'bad mode or flags',
  MLP_IOC_VERSION: 'struct size mismatch: the daemon and the module disagree on the ABI',
};

/** The ABI 1.0 size of each struct: what a 1.0 module knows (it has no MLP_IOC_FILE). */
const VER0 = Object.fromEntries(
  (Object.keys(COMMANDS) as IoctlName[]).map((k) => [
    k,
    k === 'MLP_IOC_FILE' ? 0 : COMMANDS[k].ver0,
  ]),
) as Record<IoctlName, number>;

/** The largest read(): this many records at once. */
const READ_RECORDS = 64;

export class IoctlDevice implements MlpDevice {
  readonly description: string;
  readonly simulated: boolean;
  readonly readOnly: boolean;
  private fd: number | null;
  private readonly sys: Syscalls;
  private readonly knobCounts = new Map<number, number>();
  /** The ABI minor this file speaks with the module (0: a 1.0 module). */
  private minor = 0;
  /** Bytes sent for each command's struct, and its request number. */
  private readonly size = new Map<IoctlName, number>();
  private readonly request = new Map<IoctlName, number>();
  private recordSize = SIZEOF_FEEDBACK_VER0;
  private readBuf = Buffer.alloc(SIZEOF_FEEDBACK_VER0 * READ_RECORDS);
  private reader = new codec.FeedbackReader(this.readBuf);
  private readonly knobsOf: codec.KnobCounts = (id) => this.knobCounts.get(id);
  private readonly maxRecords: number;
  /** The structs of the calls made every window, reused (no allocation per call). */
  private readonly recBuf = Buffer.alloc(COMMANDS.MLP_IOC_RECOMMEND.layout.size);
  private readonly stateBuf = Buffer.alloc(COMMANDS.MLP_IOC_GET_STATE.layout.size);
  private readonly beatBuf = Buffer.alloc(COMMANDS.MLP_IOC_HEARTBEAT.layout.size);
  /** The file's kernel read timeout as last set, ms. */
  private readTimeoutMs: number | undefined;
  /** The asynchronous read in flight (ABI 1.1), if any. */
  private reading: Promise<Feedback[]> | null = null;
  private closeWhenRead = false;
  /** Records of other subsystems are dropped here too (a 1.0 module cannot subscribe). */
  private subscribed: Set<number> | null = null;
  private pollMs = 10;
  private readonly pendingWaits = new Set<() => void>();

  constructor(
    readonly path = DEFAULT_DEVICE_PATH,
    opts: IoctlDeviceOptions = {},
  ) {
    this.sys = opts.syscalls ?? nodeSyscalls();
    this.simulated = this.sys.simulation !== undefined;
    this.maxRecords = opts.maxRecords ?? Infinity;
    if (
      !(this.maxRecords >= 1) ||
      (opts.maxRecords !== undefined && !Number.isInteger(this.maxRecords))
    ) {
      throw new RangeError(`maxRecords must be an integer >= 1, got ${String(opts.maxRecords)}`);
    }
    for (const name of Object.keys(COMMANDS) as IoctlName[]) this.setSize(name, VER0[name]);
    let readOnly = false;
    let fd: number;
    try {
      fd = this.sys.open(path, fsc.O_RDWR);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      const denied = () =>
        deviceError(
          `open ${path}`,
          'EACCES',
          'the device node is 0600 root: run as root (or give a group access with a udev rule)',
        );
      if (code === 'EACCES' && opts.allowReadOnly) {
        try {
          fd = this.sys.open(path, fsc.O_RDONLY);
        } catch (e2) {
          if ((e2 as NodeJS.ErrnoException).code === 'EACCES') throw denied();
          throw deviceError(`open ${path}`, (e2 as NodeJS.ErrnoException).code ?? 'EIO');
        }
        readOnly = true;
      } else if (code === 'ENOENT' || code === 'ENXIO' || code === 'ENODEV') {
        throw deviceError(
          `open ${path}`,
          code,
          'the mlproxy kernel module is not loaded: load it with `modprobe mlproxy` ' +
            '(or `insmod mlproxy.ko`), or run on the simulated device with --sim',
        );
      } else if (code === 'EACCES') {
        throw denied();
      } else {
        throw deviceError(`open ${path}`, code);
      }
    }
    this.fd = fd;
    this.readOnly = readOnly;
    this.description = `${this.sys.simulation ?? `ioctl:${path}`}${readOnly ? ' (read-only)' : ''}`;
    try {
      this.handshake(readOnly);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private setSize(name: IoctlName, size: number): void {
    this.size.set(name, size);
    this.request.set(name, size ? requestFor(name, size) : 0);
  }

  /** VERSION at our size, or at the 1.0 size for a module that does not know ours. */
  private askVersion(): codec.VersionReply {
    try {
      this.setSize('MLP_IOC_VERSION', COMMANDS.MLP_IOC_VERSION.layout.size);
      return codec.decodeVersion(this.call('MLP_IOC_VERSION', codec.encodeVersion()));
    } catch (e) {
      if (!(e instanceof DeviceError) || !['ENOTTY', 'EINVAL'].includes(e.code)) throw e;
      this.setSize('MLP_IOC_VERSION', SIZEOF_VERSION_VER0);
      return codec.decodeVersion(this.call('MLP_IOC_VERSION', codec.encodeVersion()));
    }
  }

  private handshake(readOnly: boolean): void {
    const v = this.askVersion();
    if (!v.compatible) {
      throw new DeviceError(
        `ABI mismatch: the module speaks mlproxy ABI ${v.abiMajor}.${v.abiMinor}, this daemon ` +
          `${ABI_MAJOR}.${ABI_MINOR}: upgrade the daemon or the module so the majors match`,
        'EPROTO',
      );
    }
    const theirs: Record<IoctlName, number> = {
      MLP_IOC_VERSION: v.sizes.version,
      MLP_IOC_SUBSYS_INFO: v.sizes.subsysInfo,
      MLP_IOC_GET_STATE: v.sizes.state,
      MLP_IOC_RECOMMEND: v.sizes.recommendation,
      MLP_IOC_GET_MODE: v.sizes.mode,
      MLP_IOC_SET_MODE: v.sizes.mode,
      MLP_IOC_GET_STATUS: v.sizes.status,
      MLP_IOC_CLAIM: v.sizes.claim,
      MLP_IOC_HEARTBEAT: v.sizes.claim,
      MLP_IOC_FILE: v.fileMinor >= 1 ? v.sizes.fileConfig : 0,
    };
    const bad = (Object.keys(theirs) as IoctlName[]).filter(
      (k) => k !== 'MLP_IOC_FILE' && theirs[k] < VER0[k],
    );
    if (bad.length > 0) {
      throw new DeviceError(
        `ABI mismatch: the module's structs are smaller than ABI 1.0 (${bad
          .map((k) => `${k}: ${theirs[k]} < ${VER0[k]}`)
          .join('; ')}): rebuild the module and the daemon from the same mlproxy.h`,
        'EPROTO',
      );
    }
    for (const name of Object.keys(theirs) as IoctlName[]) {
      this.setSize(name, Math.min(COMMANDS[name].layout.size, theirs[name]));
    }
    this.minor = v.fileMinor >= 1 && theirs.MLP_IOC_FILE > 0 ? 1 : 0;
    if (this.minor >= 1) {
      this.recordSize = Math.min(codec.FEEDBACK_SIZE, v.sizes.feedback);
      this.configure({ recordSize: this.recordSize, readTimeoutMs: 0 });
    } else {
      // A 1.0 module has no read timeout: read non-blocking and poll.
      if (this.fd !== null) this.sys.close(this.fd);
      this.fd = null;
      const flags = (readOnly ? fsc.O_RDONLY : fsc.O_RDWR) | fsc.O_NONBLOCK;
      this.fd = this.sys.open(this.path, flags);
    }
    this.readBuf = Buffer.alloc(this.recordSize * Math.min(READ_RECORDS, this.maxRecords));
    this.reader = new codec.FeedbackReader(this.readBuf);
    const subs = this.listSubsystems();
    const minWindow = Math.min(...subs.map((s) => s.windowMs), 200);
    this.pollMs = Math.min(50, Math.max(1, Math.floor(minWindow / 4)));
  }

  /** MLP_IOC_FILE (ABI 1.1). */
  private configure(req: codec.FileConfigRequest): codec.FileConfig {
    const c = codec.decodeFileConfig(this.call('MLP_IOC_FILE', codec.encodeFileConfig(req)));
    this.readTimeoutMs = c.readTimeoutMs;
    return c;
  }

  private call(name: IoctlName, buf: Buffer, subsysId?: number): Buffer {
    if (this.fd === null || this.closeWhenRead) throw deviceError(name, 'EBADF');
    const size = this.size.get(name) ?? 0;
    if (size === 0) throw deviceError(name, 'ENOTTY', 'the module speaks ABI 1.0, without it');
    const b = codec.truncate(buf, size);
    try {
      this.sys.ioctl(this.fd, this.request.get(name) ?? 0, b);
    } catch (e) {
      const code = errnoName(e as NodeJS.ErrnoException);
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
    return b;
  }

  version(): VersionInfo {
    const {
      sizes: _sizes,
      fileMinor: _minor,
      ...info
    } = codec.decodeVersion(this.call('MLP_IOC_VERSION', codec.encodeVersion()));
    return info;
  }

  /**
   * The subsystems in registration order. On ABI 1.1 every answer carries the
   * registry generation; a listing that raced with a (un)registration is taken again.
   */
  listSubsystems(): SubsystemInfo[] {
    for (let attempt = 0; ; attempt++) {
      const v = this.version();
      const n = Math.min(v.nrSubsys, MAX_SUBSYS);
      const out: SubsystemInfo[] = [];
      let raced = false;
      for (let i = 0; i < n && !raced; i++) {
        try {
          const b = this.call('MLP_IOC_SUBSYS_INFO', codec.encodeSubsysInfoQuery(i));
          if (this.minor >= 1 && codec.decodeSubsysInfoPlace(b).generation !== v.generation) {
            raced = true;
          } else {
            out.push(codec.decodeSubsysInfo(b));
          }
        } catch (e) {
          // A subsystem unregistered between VERSION and SUBSYS_INFO.
          if (!(e instanceof DeviceError) || e.code !== 'ENOENT') throw e;
          raced = true;
        }
      }
      if (!raced || attempt >= 20) {
        for (const s of out) this.knobCounts.set(s.id, s.knobs.length);
        return out;
      }
    }
  }

  getState(subsysId: number): StateSnapshot {
    return codec.decodeState(
      this.call('MLP_IOC_GET_STATE', codec.encodeStateQuery(subsysId, this.stateBuf), subsysId),
    );
  }

  recommend(rec: Recommendation): RecommendResult {
    // The decision path: one reused buffer, no allocation per call.
    return codec.decodeRecommendResult(
      this.call('MLP_IOC_RECOMMEND', codec.encodeRecommendation(rec, this.recBuf), rec.subsysId),
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
    this.call('MLP_IOC_HEARTBEAT', codec.encodeClaim(subsysId, false, this.beatBuf), subsysId);
  }

  subscribe(ids: readonly number[]): void {
    if (this.minor >= 1) this.configure({ subscribe: ids });
    this.subscribed = ids.length ? new Set(ids) : null;
  }

  /** Decodes n bytes of this.readBuf into records (knobs trimmed to the subsystem). */
  private decode(n: number): Feedback[] {
    const out: Feedback[] = [];
    for (const f of this.reader.decode(n, this.recordSize, this.knobsOf)) {
      if (this.subscribed && !this.subscribed.has(f.subsysId)) continue;
      if (f.reasons & REASON_GONE) this.knobCounts.delete(f.subsysId);
      out.push(f);
    }
    return out;
  }

  readFeedback(): Feedback[] {
    if (this.fd === null || this.closeWhenRead) throw deviceError('read', 'EBADF');
    // A read in flight takes the queued records: they go to its waitFeedback().
    if (this.reading) return [];
    if (this.minor >= 1 && this.readTimeoutMs !== 0) this.configure({ readTimeoutMs: 0 });
    const out: Feedback[] = [];
    for (;;) {
      let n: number;
      try {
        n = this.sys.readSync(this.fd, this.readBuf, 0, this.readBuf.length);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') break;
        throw deviceError('read', code ?? 'EIO');
      }
      if (n === 0) break;
      out.push(...this.decode(n));
      if (n < this.readBuf.length || out.length >= this.maxRecords) break;
    }
    return out;
  }

  waitFeedback(timeoutMs: number): Promise<Feedback[]> {
    if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
    if (this.minor < 1) return this.pollFeedback(timeoutMs);
    if (this.fd === null || this.closeWhenRead) return Promise.resolve([]);
    if (this.reading) {
      // Another caller's read is in flight (it takes the queued records): wait for it,
      // then for what is left of this caller's time. Without the deadline a second waiter
      // could wait forever while the first one keeps reading (each of its reads begins
      // before this continuation runs).
      const deadline = Date.now() + timeoutMs;
      return this.reading.then(() => {
        const left = deadline - Date.now();
        return left > 0 ? this.waitFeedback(left) : [];
      });
    }
    const ms = Math.min(READ_TIMEOUT_MAX_MS, Math.ceil(timeoutMs));
    if (this.readTimeoutMs !== ms) this.configure({ readTimeoutMs: ms });
    const fd = this.fd;
    this.reading = new Promise<Feedback[]>((resolve, reject) => {
      this.sys.read(fd, this.readBuf, 0, this.readBuf.length, (err, n) => {
        this.reading = null;
        if (this.closeWhenRead) {
          this.closeWhenRead = false;
          this.fd = null;
          this.sys.close(fd);
          resolve([]);
          return;
        }
        if (err) {
          reject(deviceError('read', err.code ?? 'EIO'));
          return;
        }
        try {
          resolve(n > 0 ? this.decode(n) : []);
        } catch (e) {
          reject(e);
        }
      });
    });
    return this.reading;
  }

  /** The ABI 1.0 wait: non-blocking reads every pollMs until a record or the timeout. */
  private pollFeedback(timeoutMs: number): Promise<Feedback[]> {
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

  /** A blocked read returns now: timeout 0 for a read about to start, WAKE for one waiting. */
  private wake(): void {
    if (this.fd === null) return;
    try {
      this.sys.ioctl(
        this.fd,
        this.request.get('MLP_IOC_FILE') ?? 0,
        codec.encodeFileConfig({ readTimeoutMs: 0, wake: true }),
      );
      this.readTimeoutMs = 0;
    } catch {
      // the file is going away; the read returns by its timeout
    }
  }

  interruptWait(): void {
    if (this.reading && this.minor >= 1) this.wake();
    for (const cancel of [...this.pendingWaits]) cancel();
  }

  close(): void {
    if (this.fd === null || this.closeWhenRead) return;
    if (this.reading) {
      // Close once the read in flight has returned (woken now), never under it.
      this.wake();
      this.closeWhenRead = true;
      return;
    }
    const fd = this.fd;
    this.fd = null;
    this.sys.close(fd);
    for (const cancel of [...this.pendingWaits]) cancel();
  }
}
