/**
 * The device interface of the daemon: one view of /dev/mlproxy, implemented by one
 * class, IoctlDevice, on the real module or on the simulator's fake kernel
 * (src/transport/sim/fake-kernel.ts: SimKernel behind the same system calls). The shapes it answers with are the ABI's (src/abi/types.ts), and the mode
 * and verdict names are derived from the header's constants (src/abi/names.ts); both are
 * re-exported here for the device's users.
 */
import type * as abi from '../abi/types.js';
import type { ModeValue } from '../abi/names.js';

export type * from '../abi/types.js';
export { MODE_NAMES, Mode, VERDICT_NAMES, Verdict } from '../abi/names.js';
export type { ModeValue, VerdictValue } from '../abi/names.js';

/** Raised for every errno the device answers, with the ioctl named. */
export class DeviceError extends Error {
  override name = 'DeviceError';
  constructor(
    message: string,
    /** errno name, e.g. "EPERM", "EBUSY", "EINVAL", "ENOENT", "ENODEV". */
    readonly code: string,
  ) {
    super(message);
  }
}

export interface MlpDevice {
  /** "ioctl:/dev/mlproxy", or on the simulator "sim (<clock> clock)". */
  readonly description: string;
  readonly simulated: boolean;
  version(): abi.VersionInfo;
  listSubsystems(): abi.SubsystemInfo[];
  getState(subsysId: number): abi.StateSnapshot;
  recommend(rec: abi.Recommendation): abi.RecommendResult;
  getMode(subsysId: number): abi.ModeInfo;
  setMode(subsysId: number, mode: ModeValue, pin: boolean): void;
  getStatus(subsysId: number): abi.Status;
  claim(subsysId: number): void;
  release(subsysId: number): void;
  heartbeat(subsysId: number): void;
  /** Feedback records queued now, without waiting. */
  readFeedback(): abi.Feedback[];
  /**
   * Resolves with the queued records as soon as at least one is queued, or with []
   * after timeoutMs. Never busy-waits.
   */
  waitFeedback(timeoutMs: number): Promise<abi.Feedback[]>;
  /** Makes a pending waitFeedback() resolve now (with what is queued, maybe nothing). */
  interruptWait(): void;
  /**
   * Receive feedback records of these subsystem ids only (empty: of every subsystem,
   * the default). Records of other subsystems are not queued for this file at all.
   */
  subscribe(ids: readonly number[]): void;
  close(): void;
}
