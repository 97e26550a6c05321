/**
 * Constants of kmod/include/uapi/linux/mlproxy.h, by the same names without the
 * MLP_ prefix where that reads well. test/abi-header.test.ts compares every one of
 * them with the header through gcc. Their names (Mode, MODE_NAMES, ...) are derived from
 * these in names.ts.
 */

export const ABI_MAJOR = 1;
export const ABI_MINOR = 1;

/** Struct sizes of ABI 1.0: the smallest the kernel accepts (callers built against 1.0). */
export const SIZEOF_VERSION_VER0 = 64;
export const SIZEOF_SUBSYS_INFO_VER0 = 1656;
export const SIZEOF_STATE_VER0 = 240;
export const SIZEOF_RECOMMENDATION_VER0 = 192;
export const SIZEOF_MODE_VER0 = 16;
export const SIZEOF_CLAIM_VER0 = 16;
export const SIZEOF_STATUS_VER0 = 224;
export const SIZEOF_FEEDBACK_VER0 = 136;
/** Added in ABI 1.1. */
export const SIZEOF_FILE_CONFIG_VER0 = 96;

export const DEVICE_NAME = 'mlproxy';
export const NAME_LEN = 32;
export const UNIT_LEN = 16;
export const MAX_SUBSYS = 16;
export const MAX_FEATURES = 16;
export const MAX_KNOBS = 8;

export const EFF_SCALE = 1000000;
export const PROB_SCALE = 1000000000;

export const MODE_EMERGENCY = 0;
export const MODE_LEARNING = 1;
export const MODE_COLLABORATION = 2;
export const MODE_RECOMMENDATION = 3;
export const NR_MODES = 4;

export const MODE_F_PIN = 1 << 0;

export const VERDICT_NONE = 0;
export const VERDICT_APPLIED = 1;
export const VERDICT_CLAMPED = 2;
export const VERDICT_REJECTED = 3;
export const VERDICT_SHADOWED = 4;

export const REASON_OUT_OF_BOUNDS = 1 << 0;
export const REASON_OFF_GRID = 1 << 1;
export const REASON_STEP_LIMIT = 1 << 2;
export const REASON_STALE = 1 << 3;
export const REASON_RATE_LIMIT = 1 << 4;
export const REASON_EXPIRED = 1 << 5;
export const REASON_EMERGENCY = 1 << 6;
export const REASON_BASELINE_WINDOW = 1 << 7;
/** Feedback only: the subsystem found nothing to measure; eff = baseline_eff. */
export const REASON_IDLE = 1 << 8;
/** Feedback only: the subsystem was unregistered (the last record of its id). */
export const REASON_GONE = 1 << 9;
/** Feedback only: the window was measured only in part (eff is not to be trusted). */
export const REASON_UNRELIABLE = 1 << 10;

export const REC_F_STRICT = 1 << 0;
export const CLAIM_F_RELEASE = 1 << 0;
export const INFO_F_BY_ID = 1 << 0;

/** struct mlp_file_config.flags: what MLP_IOC_FILE changes. */
export const FILE_SET_RECORD_SIZE = 1 << 0;
export const FILE_SET_READ_TIMEOUT = 1 << 1;
export const FILE_SET_SUBSCRIBE = 1 << 2;
/** Blocked readers of the file return now (0 bytes when nothing is queued). */
export const FILE_WAKE = 1 << 3;
/** read_timeout_ms: a blocking read() may wait forever (the default). */
export const READ_TIMEOUT_NONE = 0xffffffff;
export const READ_TIMEOUT_MAX_MS = 3600000;

export const TRANS_NONE = 0;
export const TRANS_PROMOTE = 1;
export const TRANS_REGRESSION = 2;
export const TRANS_COLLAPSE = 3;
export const TRANS_CLOSED = 4;
export const TRANS_HEARTBEAT = 5;
export const TRANS_RECOVER = 6;
export const TRANS_ADMIN = 7;
/** The administrator changed the setting the baseline stands for. */
export const TRANS_BASELINE = 8;

export const STATUS_F_PINNED = 1 << 0;
export const STATUS_F_CONTROLLED = 1 << 1;
export const STATUS_F_HEARTBEAT_OK = 1 << 2;
export const STATUS_F_MINE = 1 << 3;

/** Maximum ttl_ms of a recommendation. */
export const MAX_TTL_MS = 60000;

export const IOC_MAGIC = 0xe3;

// asm-generic/ioctl.h: dir (2 bits) << 30 | size (14 bits) << 16 | type << 8 | nr.
export const IOC_NONE = 0;
export const IOC_WRITE = 1;
export const IOC_READ = 2;

/**
 * The _IOC encoding as an UNSIGNED 32-bit number: `dir << 30` overflows into the sign
 * bit of a JavaScript int32, and the ioctl package rejects negative request numbers.
 */
export function ioc(dir: number, type: number, nr: number, size: number): number {
  if (size >= 1 << 14) throw new RangeError(`ioctl argument size ${size} exceeds 14 bits`);
  return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}
