/**
 * SimDevice: one open file of a SimKernel, behind the MlpDevice interface. Several
 * SimDevices may share one kernel (a second daemon gets EBUSY); `privileged: false`
 * models a caller without CAP_SYS_ADMIN (EPERM on control ioctls).
 */
import { deviceError } from '../errors.js';
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
} from '../device.js';
import { SimKernel, type SimFile, type SimKernelOptions } from './kernel.js';

export interface SimDeviceOptions {
  /** Attach to this kernel; by default a new one is made from `kernelOptions`. */
  kernel?: SimKernel;
  kernelOptions?: SimKernelOptions;
  /** Models CAP_SYS_ADMIN (default true). */
  privileged?: boolean;
  /** Reported as controller_pid (default process.pid). */
  pid?: number;
}

export class SimDevice implements MlpDevice {
  readonly description: string;
  readonly simulated = true;
  readonly kernel: SimKernel;
  private readonly file: SimFile;
  private readonly ownsKernel: boolean;
  private readonly waits = new Set<() => void>();

  constructor(opts: SimDeviceOptions = {}) {
    this.ownsKernel = opts.kernel === undefined;
    this.kernel = opts.kernel ?? new SimKernel(opts.kernelOptions);
    this.description = `sim (${this.kernel.clock} clock)`;
    this.file = this.kernel.open(opts.privileged ?? true, opts.pid ?? process.pid);
  }

  version(): VersionInfo {
    this.check('MLP_IOC_VERSION');
    return this.kernel.version(this.file);
  }

  subscribe(ids: readonly number[]): void {
    this.check('MLP_IOC_FILE');
    this.kernel.subscribe(this.file, ids);
  }

  interruptWait(): void {
    for (const finish of [...this.waits]) finish();
  }

  listSubsystems(): SubsystemInfo[] {
    this.check('MLP_IOC_SUBSYS_INFO');
    return this.kernel.listSubsystems();
  }

  getState(subsysId: number): StateSnapshot {
    this.check('MLP_IOC_GET_STATE');
    return this.kernel.getState(subsysId);
  }

  recommend(rec: Recommendation): RecommendResult {
    this.check('MLP_IOC_RECOMMEND');
    return this.kernel.recommend(this.file, rec);
  }

  getMode(subsysId: number): ModeInfo {
    this.check('MLP_IOC_GET_MODE');
    return this.kernel.getMode(subsysId);
  }

  setMode(subsysId: number, mode: ModeValue, pin: boolean): void {
    this.check('MLP_IOC_SET_MODE');
    this.kernel.setMode(this.file, subsysId, mode, pin);
  }

  getStatus(subsysId: number): Status {
    this.check('MLP_IOC_GET_STATUS');
    return this.kernel.getStatus(this.file, subsysId);
  }

  claim(subsysId: number): void {
    this.check('MLP_IOC_CLAIM');
    this.kernel.claim(this.file, subsysId, false);
  }

  release(subsysId: number): void {
    this.check('MLP_IOC_CLAIM');
    this.kernel.claim(this.file, subsysId, true);
  }

  heartbeat(subsysId: number): void {
    this.check('MLP_IOC_HEARTBEAT');
    this.kernel.heartbeat(this.file, subsysId);
  }

  readFeedback(): Feedback[] {
    this.check('read');
    return this.file.drain();
  }

  /** Records dropped because this file's ring was full. */
  get droppedFeedback(): number {
    return this.file.dropped;
  }

  waitFeedback(timeoutMs: number): Promise<Feedback[]> {
    this.check('read');
    if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
    if (this.file.ring.length > 0) return Promise.resolve(this.file.drain());
    if (this.kernel.clock === 'auto') {
      // Virtual time runs as fast as the caller: the next window ends now.
      this.kernel.advance(1);
      return Promise.resolve(this.file.drain());
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        unsubscribe();
        this.waits.delete(finish);
        resolve(this.file.closed ? [] : this.file.drain());
      };
      const timer = setTimeout(finish, timeoutMs);
      const unsubscribe = this.file.onRecord(finish);
      this.waits.add(finish);
    });
  }

  /** Closes this file (a controller's close falls its subsystems to EMERGENCY). */
  close(): void {
    if (this.file.closed) return;
    this.kernel.closeFile(this.file);
    if (this.ownsKernel) this.kernel.stop();
  }

  private check(op: string): void {
    if (this.file.closed) throw deviceError(op, 'EBADF');
  }
}
