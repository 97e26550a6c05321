/**
 * FakeKernel: the simulator behind /dev/mlproxy's system calls. It implements the
 * Syscalls interface IoctlDevice runs on, and answers open(), ioctl(), read() and
 * close() the way kmod/mlproxy_main.c does: it takes the request number apart
 * (magic, number, direction, size), applies the ioctl rules of docs/abi.md (ENOTTY,
 * EPERM, EBADF, the size rules with EINVAL and E2BIG, EFAULT for a buffer shorter than
 * the request's size, unknown flags and nonzero __reserved: EINVAL), decodes the struct
 * bytes with the ABI's layouts (src/abi/codec.ts, the kernel's half), calls SimKernel's
 * public methods, and writes the answer into the caller's buffer: min(caller's size,
 * the kernel's) bytes, `size` set to what was filled. read() hands out packed feedback
 * records of the file's record size (ABI 1.1 MLP_IOC_FILE), waits at most the file's
 * read timeout (0 bytes after it or after MLP_FILE_WAKE; EAGAIN when O_NONBLOCK), and
 * EINVAL for a buffer smaller than one record.
 *
 * So the simulator runs the daemon's whole transport, the byte codec included: IoctlDevice
 * is the one device class (`simDevice()` below builds one over a SimKernel).
 *
 * Time: on the "auto" clock a read() that finds nothing queued advances the kernel to
 * its next window end at once (virtual time runs as fast as the reader); on the
 * "manual" and "real" clocks it waits for a record, MLP_FILE_WAKE or the read timeout
 * in wall time (a test advances a manual clock meanwhile; the real clock's windows end
 * on timers). A synchronous read (readSync) never waits: with nothing queued and a
 * nonzero timeout it fails rather than block the event loop (IoctlDevice reads
 * synchronously only with timeout 0 or O_NONBLOCK).
 *
 * Privilege and the process: one FakeKernel is one process's view of the device:
 * `privileged` models CAP_SYS_ADMIN, `pid` the controller_pid it reports. Several
 * FakeKernels (processes) may share one SimKernel.
 */
import { constants as fsc } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as codec from '../../abi/codec.js';
import {
  ABI_MAJOR,
  ABI_MINOR,
  CLAIM_F_RELEASE,
  FILE_SET_READ_TIMEOUT,
  FILE_SET_RECORD_SIZE,
  FILE_SET_SUBSCRIBE,
  FILE_WAKE,
  INFO_F_BY_ID,
  IOC_MAGIC,
  IOC_READ,
  MAX_KNOBS,
  MAX_SUBSYS,
  MAX_TTL_MS,
  MODE_F_PIN,
  NR_MODES,
  PROB_SCALE,
  READ_TIMEOUT_MAX_MS,
  READ_TIMEOUT_NONE,
  REC_F_STRICT,
  SIZEOF_FEEDBACK_VER0,
} from '../../abi/constants.js';
import { COMMANDS, mlpState, mlpStatus, type IoctlName } from '../../abi/structs.js';
import type { ModeValue } from '../../abi/names.js';
import { DeviceError } from '../device.js';
import { IoctlDevice } from '../ioctl-device.js';
import type { ReadCallback, Syscalls } from '../syscalls.js';
import { SimKernel, type SimFile, type SimKernelOptions } from './kernel.js';

/** The path the fake device answers to (the real device's, in the fake's own namespace). */
export const SIM_DEVICE_PATH = '/dev/mlproxy';

/** Open files per unprivileged user before open() fails with EAGAIN (module parameter max_open). */
const DEFAULT_MAX_OPEN = 64;

const STATE_ID = mlpState.offsetOf('subsys_id');
const STATUS_ID = mlpStatus.offsetOf('subsys_id');

/** An errno exception, like the ones Node and the ioctl addon throw. */
function errno(code: string, syscall: string, detail?: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: ${syscall}${detail ? ` (${detail})` : ''}`);
  e.code = code;
  e.errno = -(osConstants.errno[code as keyof typeof osConstants.errno] ?? 0);
  e.syscall = syscall;
  return e;
}

/** One open file of the fake device: the kernel's file and this file's settings. */
interface OpenFile {
  readonly file: SimFile;
  readonly writable: boolean;
  readonly nonblock: boolean;
  recordSize: number;
  readTimeoutMs: number;
  /** Readers waiting in read(); MLP_FILE_WAKE (and close) finish them. */
  readonly waiting: Set<() => void>;
}

type Handler = (f: OpenFile, k: Buffer) => void;

/** One command: its handler, direction, kernel struct size, 1.0 size and whether it controls. */
interface Command {
  readonly fn: Handler;
  readonly dir: number;
  readonly ksize: number;
  readonly minsize: number;
  readonly control: boolean;
  /** The kernel's copy of the struct, reused by every call (no allocation per call). */
  readonly kbuf: Buffer;
}

/** Unprivileged open files per kernel (the module's per-user count; one user here). */
const userFiles = new WeakMap<SimKernel, number>();

export interface FakeKernelOptions {
  /** Models CAP_SYS_ADMIN (default true). */
  privileged?: boolean;
  /** Reported as controller_pid (default process.pid). */
  pid?: number;
  /** The module parameter max_open (default 64). */
  maxOpen?: number;
  /** Stop the kernel (its real-time timers) when this process's last file closes. */
  ownsKernel?: boolean;
}

export class FakeKernel implements Syscalls {
  readonly simulation: string;
  private readonly privileged: boolean;
  private readonly pid: number;
  private readonly maxOpen: number;
  private readonly ownsKernel: boolean;
  private readonly files = new Map<number, OpenFile>();
  private nextFd = 3;
  private readonly commands: (Command | undefined)[] = [];

  constructor(
    readonly kernel: SimKernel,
    opts: FakeKernelOptions = {},
  ) {
    this.simulation = `sim (${kernel.clock} clock)`;
    this.privileged = opts.privileged ?? true;
    this.pid = opts.pid ?? process.pid;
    this.maxOpen = opts.maxOpen ?? DEFAULT_MAX_OPEN;
    this.ownsKernel = opts.ownsKernel ?? false;
    const def = (name: IoctlName, fn: Handler) => {
      const c = COMMANDS[name];
      const ksize = c.layout.size;
      this.commands[c.nr] = {
        fn,
        dir: c.dir,
        ksize,
        minsize: c.ver0,
        control: c.control,
        kbuf: Buffer.alloc(ksize),
      };
    };
    def('MLP_IOC_VERSION', (f, k) => this.version(f, k));
    def('MLP_IOC_SUBSYS_INFO', (_f, k) => this.subsysInfo(k));
    def('MLP_IOC_GET_STATE', (_f, k) => this.getState(k));
    def('MLP_IOC_RECOMMEND', (f, k) => this.recommend(f, k));
    def('MLP_IOC_GET_MODE', (_f, k) => this.getMode(k));
    def('MLP_IOC_SET_MODE', (f, k) => this.setMode(f, k));
    def('MLP_IOC_GET_STATUS', (f, k) => this.getStatus(f, k));
    def('MLP_IOC_CLAIM', (f, k) => this.claim(f, k, false));
    def('MLP_IOC_HEARTBEAT', (f, k) => this.claim(f, k, true));
    def('MLP_IOC_FILE', (f, k) => this.fileConfig(f, k));
  }

  // ---- open / close ----------------------------------------------------------------------

  open(path: string, flags: number): number {
    if (path !== SIM_DEVICE_PATH) throw errno('ENOENT', 'open', path);
    if (!this.privileged) {
      const n = userFiles.get(this.kernel) ?? 0;
      if (n >= this.maxOpen) throw errno('EAGAIN', 'open', `max_open ${this.maxOpen}`);
      userFiles.set(this.kernel, n + 1);
    }
    let file: SimFile;
    try {
      file = this.kernel.open(this.privileged, this.pid);
    } catch (e) {
      if (!this.privileged) userFiles.set(this.kernel, (userFiles.get(this.kernel) ?? 1) - 1);
      throw this.translate(e, 'open');
    }
    const fd = this.nextFd++;
    this.files.set(fd, {
      file,
      writable: (flags & 3) !== fsc.O_RDONLY,
      nonblock: (flags & fsc.O_NONBLOCK) !== 0,
      recordSize: SIZEOF_FEEDBACK_VER0,
      readTimeoutMs: READ_TIMEOUT_NONE,
      waiting: new Set(),
    });
    return fd;
  }

  close(fd: number): void {
    const f = this.fileOf(fd, 'close');
    this.files.delete(fd);
    if (!this.privileged) userFiles.set(this.kernel, (userFiles.get(this.kernel) ?? 1) - 1);
    this.kernel.closeFile(f.file);
    for (const finish of [...f.waiting]) finish();
    if (this.ownsKernel && this.files.size === 0) this.kernel.stop();
  }

  private fileOf(fd: number, syscall: string): OpenFile {
    const f = this.files.get(fd);
    if (!f) throw errno('EBADF', syscall);
    return f;
  }

  // ---- ioctl -------------------------------------------------------------------------------

  ioctl(fd: number, request: number, data: Buffer): number {
    const f = this.fileOf(fd, 'ioctl');
    const nr = request & 0xff;
    const usize = (request >>> 16) & 0x3fff;
    const dir = request >>> 30;
    const c = this.commands[nr];
    if (((request >>> 8) & 0xff) !== IOC_MAGIC || !c || dir !== c.dir) {
      throw errno('ENOTTY', 'ioctl');
    }
    if (c.control) {
      if (!this.privileged) throw errno('EPERM', 'ioctl');
      if (!f.writable) throw errno('EBADF', 'ioctl');
    }
    if (usize < c.minsize) throw errno('EINVAL', 'ioctl', `size ${usize} < ${c.minsize}`);
    // The caller's struct is usize bytes at `data`: a shorter buffer is a bad pointer.
    if (!Buffer.isBuffer(data) || data.length < usize) throw errno('EFAULT', 'ioctl');
    // copy_struct_from_user(): a missing tail reads as zero, an unknown one must be zero.
    // A caller of exactly the kernel's size (the daemon, always) is answered in place:
    // the handlers decode all input before they write, and write only on success.
    const exact = usize === c.ksize && data.length === usize;
    const k = exact ? data : c.kbuf;
    if (!exact) {
      if (usize <= c.ksize) {
        data.copy(k, 0, 0, usize);
        k.fill(0, usize);
      } else {
        for (let i = c.ksize; i < usize; i++) if (data[i] !== 0) throw errno('E2BIG', 'ioctl');
        data.copy(k, 0, 0, c.ksize);
      }
    }
    if (k.readUInt32LE(0) !== usize) throw errno('EINVAL', 'ioctl', 'size field');
    try {
      c.fn(f, k);
    } catch (e) {
      throw this.translate(e, 'ioctl');
    }
    if (c.dir & IOC_READ) {
      const out = Math.min(usize, c.ksize);
      k.writeUInt32LE(out, 0);
      if (!exact) k.copy(data, 0, 0, out);
    }
    return 0;
  }

  /**
   * SimKernel's DeviceErrors are the errnos the module returns; a RangeError is the
   * codec's refusal of an integer beyond 2^53 (which the module would take): EINVAL.
   */
  private translate(e: unknown, syscall: string): unknown {
    if (e instanceof DeviceError) return errno(e.code, syscall, e.message);
    if (e instanceof RangeError) return errno('EINVAL', syscall, e.message);
    return e;
  }

  private version(f: OpenFile, k: Buffer): void {
    const req = codec.decodeVersionRequest(k);
    if (req.reserved) throw errno('EINVAL', 'ioctl', 'mlp_version.__reserved');
    const compatible = req.abiMajor === ABI_MAJOR;
    // The file speaks the caller's minor from now on (0 for another major).
    const v = this.kernel.version(f.file, compatible ? req.abiMinor : 0);
    codec
      .encodeVersionReply({
        ...v,
        abiMajor: ABI_MAJOR,
        abiMinor: ABI_MINOR,
        compatible,
        fileMinor: f.file.minor,
        sizes: codec.LOCAL_SIZES,
      })
      .copy(k);
  }

  private subsysInfo(k: Buffer): void {
    const req = codec.decodeSubsysInfoRequest(k);
    if (req.flags & ~INFO_F_BY_ID || req.reserved) throw errno('EINVAL', 'ioctl');
    const all = this.kernel.listSubsystems();
    const index = req.flags & INFO_F_BY_ID ? all.findIndex((s) => s.id === req.id) : req.index;
    if (index < 0 || index >= all.length) throw errno('ENOENT', 'ioctl');
    const { generation } = this.kernel.version();
    codec.encodeSubsysInfo(all[index], index, generation, req.flags).copy(k);
  }

  private getState(k: Buffer): void {
    codec.encodeState(this.kernel.getState(k.readUInt32LE(STATE_ID)), k);
  }

  private recommend(f: OpenFile, k: Buffer): void {
    const r = codec.decodeRecommendationRequest(k);
    if (
      r.flags & ~REC_F_STRICT ||
      !r.propensity ||
      r.propensity > PROB_SCALE ||
      r.ttlMs > MAX_TTL_MS ||
      r.nrKnobs > MAX_KNOBS
    ) {
      throw errno('EINVAL', 'ioctl', 'flags, propensity, ttl_ms or nr_knobs');
    }
    if (!r.ttlMs) r.ttlMs = this.kernel.params.defaultTtlMs;
    const res = this.kernel.recommend(f.file, {
      subsysId: r.subsysId,
      epoch: r.epoch,
      modelVersion: r.modelVersion,
      propensity: r.propensity / PROB_SCALE,
      knobs: r.knobs.slice(0, r.nrKnobs),
      ttlMs: r.ttlMs,
      strict: (r.flags & REC_F_STRICT) !== 0,
    });
    codec.encodeRecommendReply(r, res, k);
  }

  private getMode(k: Buffer): void {
    const { subsysId } = codec.decodeModeRequest(k);
    codec.encodeModeReply(subsysId, this.kernel.getMode(subsysId)).copy(k);
  }

  private setMode(f: OpenFile, k: Buffer): void {
    const m = codec.decodeModeRequest(k);
    if (m.mode >= NR_MODES || m.flags & ~MODE_F_PIN) throw errno('EINVAL', 'ioctl');
    this.kernel.setMode(f.file, m.subsysId, m.mode as ModeValue, (m.flags & MODE_F_PIN) !== 0);
  }

  private getStatus(f: OpenFile, k: Buffer): void {
    codec.encodeStatus(this.kernel.getStatus(f.file, k.readUInt32LE(STATUS_ID))).copy(k);
  }

  private claim(f: OpenFile, k: Buffer, beat: boolean): void {
    const c = codec.decodeClaim(k);
    if (c.reserved || c.flags & ~(beat ? 0 : CLAIM_F_RELEASE)) throw errno('EINVAL', 'ioctl');
    if (beat) this.kernel.heartbeat(f.file, c.subsysId);
    else this.kernel.claim(f.file, c.subsysId, (c.flags & CLAIM_F_RELEASE) !== 0);
  }

  private fileConfig(f: OpenFile, k: Buffer): void {
    const c = codec.decodeFileConfigRequest(k);
    const known = FILE_SET_RECORD_SIZE | FILE_SET_READ_TIMEOUT | FILE_SET_SUBSCRIBE | FILE_WAKE;
    if (c.flags & ~known) throw errno('EINVAL', 'ioctl', 'flags');
    if (
      c.flags & FILE_SET_RECORD_SIZE &&
      (c.recordSize < SIZEOF_FEEDBACK_VER0 || c.recordSize > codec.FEEDBACK_SIZE)
    ) {
      throw errno('EINVAL', 'ioctl', 'record_size');
    }
    if (
      c.flags & FILE_SET_READ_TIMEOUT &&
      c.readTimeoutMs > READ_TIMEOUT_MAX_MS &&
      c.readTimeoutMs !== READ_TIMEOUT_NONE
    ) {
      throw errno('EINVAL', 'ioctl', 'read_timeout_ms');
    }
    const ids = c.subscribed.slice(0, c.nrSubscribed);
    if (c.flags & FILE_SET_SUBSCRIBE) {
      if (c.nrSubscribed > MAX_SUBSYS || ids.includes(0)) throw errno('EINVAL', 'ioctl', 'ids');
    }
    if (c.flags & FILE_SET_RECORD_SIZE) f.recordSize = c.recordSize;
    if (c.flags & FILE_SET_READ_TIMEOUT) f.readTimeoutMs = c.readTimeoutMs;
    if (c.flags & FILE_SET_SUBSCRIBE) this.kernel.subscribe(f.file, ids);
    codec
      .encodeFileConfigReply(c.flags, {
        recordSize: f.recordSize,
        readTimeoutMs: f.readTimeoutMs,
        queued: f.file.ring.length,
        subscribed: [...f.file.subscribed],
        dropped: f.file.dropped,
      })
      .copy(k);
    if (c.flags & FILE_WAKE) for (const finish of [...f.waiting]) finish();
  }

  // ---- read --------------------------------------------------------------------------------

  /** Copies whole queued records into buf (as many as fit); bytes copied. */
  private copyOut(f: OpenFile, buf: Buffer, offset: number, length: number): number {
    const ring = f.file.ring;
    const n = Math.min(ring.length, Math.floor(length / f.recordSize));
    if (n === 0) return 0;
    const records = ring.splice(0, n);
    for (let i = 0; i < n; i++) {
      codec.encodeFeedbackInto(records[i], buf, offset + i * f.recordSize, f.recordSize);
    }
    return n * f.recordSize;
  }

  /** The checks every read() makes first; the open file. */
  private readable(fd: number, buf: Buffer, offset: number, length: number): OpenFile {
    const f = this.fileOf(fd, 'read');
    if (!Buffer.isBuffer(buf) || offset < 0 || length < 0 || offset + length > buf.length) {
      throw errno('EFAULT', 'read');
    }
    if (length < f.recordSize) throw errno('EINVAL', 'read', `buffer < ${f.recordSize} bytes`);
    return f;
  }

  readSync(fd: number, buf: Buffer, offset: number, length: number): number {
    const f = this.readable(fd, buf, offset, length);
    if (f.file.ring.length > 0) return this.copyOut(f, buf, offset, length);
    if (f.nonblock) throw errno('EAGAIN', 'read');
    if (f.readTimeoutMs === 0) return 0;
    if (this.kernel.clock === 'auto') {
      this.kernel.advance(1);
      return this.copyOut(f, buf, offset, length);
    }
    throw new Error(
      'a blocking read() of the simulated device on a wall clock would block the event ' +
        'loop: read asynchronously, or set the read timeout to 0 (MLP_IOC_FILE)',
    );
  }

  read(fd: number, buf: Buffer, offset: number, length: number, cb: ReadCallback): void {
    let f: OpenFile;
    try {
      f = this.readable(fd, buf, offset, length);
    } catch (e) {
      queueMicrotask(() => cb(e as NodeJS.ErrnoException, 0));
      return;
    }
    const done = (n: number) => queueMicrotask(() => cb(null, n));
    if (f.file.ring.length > 0) return done(this.copyOut(f, buf, offset, length));
    if (f.nonblock) {
      queueMicrotask(() => cb(errno('EAGAIN', 'read'), 0));
      return;
    }
    if (f.readTimeoutMs === 0) return done(0);
    if (this.kernel.clock === 'auto') {
      // Virtual time runs as fast as the reader: the next window ends now.
      this.kernel.advance(1);
      return done(this.copyOut(f, buf, offset, length));
    }
    // Wall time: a record, MLP_FILE_WAKE, close, or the read timeout ends the wait. The
    // records are taken as the wait ends; the caller hears of them a microtask later.
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      unsubscribe();
      f.waiting.delete(finish);
      done(this.files.get(fd) === f ? this.copyOut(f, buf, offset, length) : 0);
    };
    const timer =
      f.readTimeoutMs === READ_TIMEOUT_NONE ? null : setTimeout(finish, f.readTimeoutMs);
    const unsubscribe = f.file.onRecord(finish);
    f.waiting.add(finish);
  }
}

export interface SimDeviceOptions extends FakeKernelOptions {
  /** Attach to this kernel; by default a new one is made from `kernelOptions` (and owned). */
  kernel?: SimKernel;
  kernelOptions?: SimKernelOptions;
  /** IoctlDevice's maxRecords. */
  maxRecords?: number;
}

/**
 * The simulated device: an IoctlDevice whose system calls a FakeKernel answers. Several
 * may share one SimKernel (a second daemon gets EBUSY); `privileged: false` models a
 * caller without CAP_SYS_ADMIN (EPERM on control ioctls).
 */
export function simDevice(opts: SimDeviceOptions = {}): IoctlDevice {
  const kernel = opts.kernel ?? new SimKernel(opts.kernelOptions);
  const syscalls = new FakeKernel(kernel, {
    ...opts,
    ownsKernel: opts.ownsKernel ?? opts.kernel === undefined,
  });
  return new IoctlDevice(SIM_DEVICE_PATH, { syscalls, maxRecords: opts.maxRecords });
}
