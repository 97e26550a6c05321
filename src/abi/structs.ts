/**
 * The structs of kmod/include/uapi/linux/mlproxy.h, field by field in header order,
 * and the ioctl request numbers built from their sizes.
 */
import {
  IOC_MAGIC,
  IOC_READ,
  IOC_WRITE,
  MAX_FEATURES,
  MAX_KNOBS,
  MAX_SUBSYS,
  NAME_LEN,
  NR_MODES,
  SIZEOF_CLAIM_VER0,
  SIZEOF_FILE_CONFIG_VER0,
  SIZEOF_MODE_VER0,
  SIZEOF_RECOMMENDATION_VER0,
  SIZEOF_STATE_VER0,
  SIZEOF_STATUS_VER0,
  SIZEOF_SUBSYS_INFO_VER0,
  SIZEOF_VERSION_VER0,
  UNIT_LEN,
  ioc,
} from './constants.js';
import { StructLayout } from './layout.js';

export const mlpVersion = new StructLayout('mlp_version', [
  { name: 'size', type: 'u32' },
  { name: 'abi_major', type: 'u32' },
  { name: 'abi_minor', type: 'u32' },
  { name: 'compatible', type: 'u32' },
  { name: 'nr_subsys', type: 'u32' },
  { name: 'max_subsys', type: 'u32' },
  { name: 'max_features', type: 'u32' },
  { name: 'max_knobs', type: 'u32' },
  { name: 'ring_records', type: 'u32' },
  { name: 'sizeof_subsys_info', type: 'u32' },
  { name: 'sizeof_state', type: 'u32' },
  { name: 'sizeof_recommendation', type: 'u32' },
  { name: 'sizeof_mode', type: 'u32' },
  { name: 'sizeof_status', type: 'u32' },
  { name: 'sizeof_feedback', type: 'u32' },
  { name: 'sizeof_claim', type: 'u32' },
  // ABI 1.1
  { name: 'sizeof_version', type: 'u32' },
  { name: 'sizeof_file_config', type: 'u32' },
  { name: 'generation', type: 'u64' },
  { name: 'file_minor', type: 'u32' },
  { name: '__reserved', type: 'u32' },
]);

export const mlpFeatureDesc = new StructLayout('mlp_feature_desc', [
  { name: 'name', type: 'char', count: NAME_LEN },
  { name: 'unit', type: 'char', count: UNIT_LEN },
  { name: 'scale', type: 'u32' },
  { name: '__reserved', type: 'u32' },
]);

export const mlpKnobDesc = new StructLayout('mlp_knob_desc', [
  { name: 'name', type: 'char', count: NAME_LEN },
  { name: 'unit', type: 'char', count: UNIT_LEN },
  { name: 'min', type: 's64' },
  { name: 'max', type: 's64' },
  { name: 'step', type: 's64' },
  { name: 'def', type: 's64' },
  { name: 'max_delta', type: 's64' },
]);

export const mlpSubsysInfo = new StructLayout('mlp_subsys_info', [
  { name: 'size', type: 'u32' },
  { name: 'index', type: 'u32' },
  { name: 'id', type: 'u32' },
  { name: 'nr_features', type: 'u32' },
  { name: 'nr_knobs', type: 'u32' },
  { name: 'window_ms', type: 'u32' },
  { name: 'name', type: 'char', count: NAME_LEN },
  { name: 'features', type: mlpFeatureDesc, count: MAX_FEATURES },
  { name: 'knobs', type: mlpKnobDesc, count: MAX_KNOBS },
  // ABI 1.1
  { name: 'generation', type: 'u64' },
  { name: 'flags', type: 'u32' },
  { name: '__reserved', type: 'u32' },
]);

export const mlpState = new StructLayout('mlp_state', [
  { name: 'size', type: 'u32' },
  { name: 'subsys_id', type: 'u32' },
  { name: 'epoch', type: 'u64' },
  { name: 'time_ns', type: 'u64' },
  { name: 'mode', type: 'u32' },
  { name: 'next_advice', type: 'u32' },
  { name: 'nr_features', type: 'u32' },
  { name: 'nr_knobs', type: 'u32' },
  { name: 'features', type: 's64', count: MAX_FEATURES },
  { name: 'knobs', type: 's64', count: MAX_KNOBS },
  { name: 'baseline_eff', type: 's64' },
  // ABI 1.1
  { name: 'window_start_ns', type: 'u64' },
  { name: 'next_window_ns', type: 'u64' },
]);

export const mlpRecommendation = new StructLayout('mlp_recommendation', [
  { name: 'size', type: 'u32' },
  { name: 'subsys_id', type: 'u32' },
  { name: 'epoch', type: 'u64' },
  { name: 'model_version', type: 'u64' },
  { name: 'propensity', type: 'u32' },
  { name: 'nr_knobs', type: 'u32' },
  { name: 'ttl_ms', type: 'u32' },
  { name: 'flags', type: 'u32' },
  { name: 'knobs', type: 's64', count: MAX_KNOBS },
  { name: 'rec_id', type: 'u64' },
  { name: 'target_epoch', type: 'u64' },
  { name: 'verdict', type: 'u32' },
  { name: 'reasons', type: 'u32' },
  { name: 'applied', type: 's64', count: MAX_KNOBS },
]);

export const mlpMode = new StructLayout('mlp_mode', [
  { name: 'size', type: 'u32' },
  { name: 'subsys_id', type: 'u32' },
  { name: 'mode', type: 'u32' },
  { name: 'flags', type: 'u32' },
]);

export const mlpClaim = new StructLayout('mlp_claim', [
  { name: 'size', type: 'u32' },
  { name: 'subsys_id', type: 'u32' },
  { name: 'flags', type: 'u32' },
  { name: '__reserved', type: 'u32' },
]);

export const mlpStatus = new StructLayout('mlp_status', [
  { name: 'size', type: 'u32' },
  { name: 'subsys_id', type: 'u32' },
  { name: 'mode', type: 'u32' },
  { name: 'flags', type: 'u32' },
  { name: 'epoch', type: 'u64' },
  { name: 'windows', type: 'u64' },
  { name: 'advice_windows', type: 'u64' },
  { name: 'baseline_windows', type: 'u64' },
  { name: 'mode_windows', type: 'u64', count: NR_MODES },
  { name: 'recs', type: 'u64' },
  { name: 'recs_applied', type: 'u64' },
  { name: 'recs_clamped', type: 'u64' },
  { name: 'recs_rejected', type: 'u64' },
  { name: 'recs_shadowed', type: 'u64' },
  { name: 'recs_expired', type: 'u64' },
  { name: 'feedback_records', type: 'u64' },
  { name: 'feedback_dropped', type: 'u64' },
  { name: 'transitions', type: 'u64' },
  { name: 'promotions', type: 'u64' },
  { name: 'demotions', type: 'u64' },
  { name: 'emergencies', type: 'u64' },
  { name: 'heartbeat_misses', type: 'u64' },
  { name: 'last_transition_epoch', type: 'u64' },
  { name: 'last_transition', type: 'u32' },
  { name: 'good_streak', type: 'u32' },
  { name: 'baseline_eff', type: 's64' },
  { name: 'last_eff', type: 's64' },
  { name: 'controller_pid', type: 's32' },
  { name: '__reserved', type: 'u32' },
  // ABI 1.1
  { name: 'work_ns', type: 'u64' },
  { name: 'work_max_ns', type: 'u64' },
  { name: 'late_max_ns', type: 'u64' },
  { name: 'replans', type: 'u64' },
]);

export const mlpFeedback = new StructLayout('mlp_feedback', [
  { name: 'size', type: 'u32' },
  { name: 'subsys_id', type: 'u32' },
  { name: 'rec_id', type: 'u64' },
  { name: 'epoch', type: 'u64' },
  { name: 'window_start_ns', type: 'u64' },
  { name: 'window_ns', type: 'u64' },
  { name: 'mode', type: 'u32' },
  { name: 'applied', type: 'u32' },
  { name: 'verdict', type: 'u32' },
  { name: 'reasons', type: 'u32' },
  { name: 'baseline_eff', type: 's64' },
  { name: 'eff', type: 's64' },
  { name: 'knobs', type: 's64', count: MAX_KNOBS },
  // ABI 1.1: the state of window epoch + 1
  { name: 'next_mode', type: 'u32' },
  { name: 'next_advice', type: 'u32' },
  { name: 'nr_features', type: 'u32' },
  { name: 'nr_knobs', type: 'u32' },
  { name: 'next_end_ns', type: 'u64' },
  { name: 'next_features', type: 's64', count: MAX_FEATURES },
  { name: 'next_knobs', type: 's64', count: MAX_KNOBS },
]);

export const mlpFileConfig = new StructLayout('mlp_file_config', [
  { name: 'size', type: 'u32' },
  { name: 'flags', type: 'u32' },
  { name: 'record_size', type: 'u32' },
  { name: 'read_timeout_ms', type: 'u32' },
  { name: 'queued', type: 'u32' },
  { name: 'nr_subscribed', type: 'u32' },
  { name: 'subscribed', type: 'u32', count: MAX_SUBSYS },
  { name: 'dropped', type: 'u64' },
]);

/** Every struct of the header, by C name (the gcc check iterates this). */
export const ALL_STRUCTS: readonly StructLayout[] = [
  mlpVersion,
  mlpFeatureDesc,
  mlpKnobDesc,
  mlpSubsysInfo,
  mlpState,
  mlpRecommendation,
  mlpMode,
  mlpClaim,
  mlpStatus,
  mlpFeedback,
  mlpFileConfig,
];

const RW = IOC_READ | IOC_WRITE;

/**
 * Each command (docs/abi.md's table, mlproxy_main.c's mlp_iocs[]): its number,
 * direction, struct (the 1.1 layout), the struct's 1.0 size (smaller is -EINVAL; FILE
 * came in 1.1 at its full size) and whether it controls (CAP_SYS_ADMIN and a file open
 * for writing).
 */
export const COMMANDS = {
  MLP_IOC_VERSION: {
    nr: 0x00,
    dir: RW,
    layout: mlpVersion,
    ver0: SIZEOF_VERSION_VER0,
    control: false,
  },
  MLP_IOC_SUBSYS_INFO: {
    nr: 0x01,
    dir: RW,
    layout: mlpSubsysInfo,
    ver0: SIZEOF_SUBSYS_INFO_VER0,
    control: false,
  },
  MLP_IOC_GET_STATE: {
    nr: 0x02,
    dir: RW,
    layout: mlpState,
    ver0: SIZEOF_STATE_VER0,
    control: false,
  },
  MLP_IOC_RECOMMEND: {
    nr: 0x03,
    dir: RW,
    layout: mlpRecommendation,
    ver0: SIZEOF_RECOMMENDATION_VER0,
    control: true,
  },
  MLP_IOC_GET_MODE: { nr: 0x04, dir: RW, layout: mlpMode, ver0: SIZEOF_MODE_VER0, control: false },
  MLP_IOC_SET_MODE: {
    nr: 0x05,
    dir: IOC_WRITE,
    layout: mlpMode,
    ver0: SIZEOF_MODE_VER0,
    control: true,
  },
  MLP_IOC_GET_STATUS: {
    nr: 0x06,
    dir: RW,
    layout: mlpStatus,
    ver0: SIZEOF_STATUS_VER0,
    control: false,
  },
  MLP_IOC_CLAIM: {
    nr: 0x07,
    dir: IOC_WRITE,
    layout: mlpClaim,
    ver0: SIZEOF_CLAIM_VER0,
    control: true,
  },
  MLP_IOC_HEARTBEAT: {
    nr: 0x08,
    dir: IOC_WRITE,
    layout: mlpClaim,
    ver0: SIZEOF_CLAIM_VER0,
    control: true,
  },
  MLP_IOC_FILE: {
    nr: 0x09,
    dir: RW,
    layout: mlpFileConfig,
    ver0: SIZEOF_FILE_CONFIG_VER0,
    control: false,
  },
} as const;

export type IoctlName = keyof typeof COMMANDS;

/**
 * The request number of a command for a struct of `size` bytes: the kernel reads
 * _IOC_SIZE as the caller's size (smaller = an older ABI, larger = a newer one).
 */
export function requestFor(name: IoctlName, size: number): number {
  const c = COMMANDS[name];
  return ioc(c.dir, IOC_MAGIC, c.nr, size);
}

/** ioctl request numbers for the full (1.1) structs, unsigned, by header name. */
export const IOCTLS = Object.fromEntries(
  Object.entries(COMMANDS).map(([k, c]) => [k, ioc(c.dir, IOC_MAGIC, c.nr, c.layout.size)]),
) as Record<IoctlName, number>;
