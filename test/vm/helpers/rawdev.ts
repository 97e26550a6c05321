/**
 * A thin, errno-transparent handle on /dev/mlproxy for the in-guest tests: every
 * ioctl through the `ioctl` npm package with exact-size buffers from src/abi, and
 * read() of feedback records. Unlike the daemon's IoctlDevice it lets tests see
 * the raw errno of every call and send malformed requests.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  FEEDBACK_SIZE,
  decodeFeedbackRecords,
  decodeFileConfig,
  encodeFileConfig,
  type FileConfig,
  type FileConfigRequest,
  decodeMode,
  decodeRecommendResult,
  decodeState,
  decodeStatus,
  decodeSubsysInfo,
  decodeVersion,
  encodeClaim,
  encodeMode,
  encodeModeQuery,
  encodeRecommendation,
  encodeStateQuery,
  encodeStatusQuery,
  encodeSubsysInfoQuery,
  encodeVersion,
  type VersionReply,
} from '../../../src/abi/codec.js';
import { IOCTLS, type IoctlName } from '../../../src/abi/structs.js';
import type {
  Feedback,
  ModeInfo,
  RecommendResult,
  Recommendation,
  StateSnapshot,
  Status,
  SubsystemInfo,
} from '../../../src/transport/device.js';
import { errnoName } from '../../../src/transport/errors.js';
import { DEVICE_PATH } from './guest.js';

/** The `ioctl` package (CommonJS, untyped): request must be an unsigned 32-bit number. */
export type IoctlFn = (fd: number, request: number, arg?: Buffer | number) => number;
export const ioctl = createRequire(import.meta.url)('ioctl') as IoctlFn;

/** The errno name of a failed system call ("EPERM", ...), or undefined on success. */
export function errnoOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code !== 'string' && typeof err.errno !== 'number') throw e;
    return errnoName(err);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** A synchronous sleep (the ioctl calls are synchronous too). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export class RawDevice {
  readonly fd: number;
  private closed = false;

  constructor(opts: { nonblock?: boolean; path?: string; readOnly?: boolean } = {}) {
    const flags =
      (opts.readOnly ? constants.O_RDONLY : constants.O_RDWR) |
      (opts.nonblock ? constants.O_NONBLOCK : 0);
    this.fd = openSync(opts.path ?? DEVICE_PATH, flags);
  }

  /** MLP_IOC_FILE: this file's record size, read timeout, subscription, wake. */
  configure(req: FileConfigRequest): FileConfig {
    return decodeFileConfig(this.call('MLP_IOC_FILE', encodeFileConfig(req)));
  }

  /** One ioctl by header name; buf must be exactly the struct's size. */
  call(name: IoctlName, buf: Buffer): Buffer {
    ioctl(this.fd, IOCTLS[name], buf);
    return buf;
  }

  version(): VersionReply {
    return decodeVersion(this.call('MLP_IOC_VERSION', encodeVersion()));
  }

  subsystems(): SubsystemInfo[] {
    const n = this.version().nrSubsys;
    const out: SubsystemInfo[] = [];
    for (let i = 0; i < n; i++) {
      out.push(decodeSubsysInfo(this.call('MLP_IOC_SUBSYS_INFO', encodeSubsysInfoQuery(i))));
    }
    return out;
  }

  subsystem(name: string): SubsystemInfo {
    const s = this.subsystems().find((x) => x.name === name);
    if (!s) throw new Error(`subsystem "${name}" is not registered`);
    return s;
  }

  state(id: number): StateSnapshot {
    return decodeState(this.call('MLP_IOC_GET_STATE', encodeStateQuery(id)));
  }

  recommend(rec: Recommendation): RecommendResult {
    return decodeRecommendResult(this.call('MLP_IOC_RECOMMEND', encodeRecommendation(rec)));
  }

  getMode(id: number): ModeInfo {
    return decodeMode(this.call('MLP_IOC_GET_MODE', encodeModeQuery(id)));
  }

  setMode(id: number, mode: number, pin: boolean): void {
    this.call('MLP_IOC_SET_MODE', encodeMode(id, mode, pin));
  }

  status(id: number): Status {
    return decodeStatus(this.call('MLP_IOC_GET_STATUS', encodeStatusQuery(id)));
  }

  claim(id: number): void {
    this.call('MLP_IOC_CLAIM', encodeClaim(id));
  }

  release(id: number): void {
    this.call('MLP_IOC_CLAIM', encodeClaim(id, true));
  }

  heartbeat(id: number): void {
    this.call('MLP_IOC_HEARTBEAT', encodeClaim(id));
  }

  /**
   * read() of up to maxRecords feedback records. Blocks on a blocking file until
   * one is queued; on a non-blocking file returns [] when none is (EAGAIN).
   */
  readFeedback(maxRecords = 64, recordSize = FEEDBACK_SIZE): Feedback[] {
    const buf = Buffer.alloc(recordSize * maxRecords);
    let n: number;
    try {
      n = readSync(this.fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return [];
      throw e;
    }
    return decodeFeedbackRecords(buf.subarray(0, n));
  }

  /** Records queued now (the file must be non-blocking). */
  drainFeedback(): Feedback[] {
    const out: Feedback[] = [];
    for (let got = this.readFeedback(); got.length; got = this.readFeedback()) out.push(...got);
    return out;
  }

  /**
   * On a non-blocking file: the records queued now, or, when none is, the first
   * ones to arrive (polling every pollMs; a window always ends, so this returns).
   */
  waitFeedback(pollMs = 2): Feedback[] {
    for (;;) {
      const got = this.drainFeedback();
      if (got.length) return got;
      sleepMs(pollMs);
    }
  }

  close(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
  }
}
