/**
 * The kernel's rules as the simulator runs them: kmod/mlproxy_rules.c and
 * kmod/mlproxy_landscape.c, the files mlproxy.ko and mlproxy_synthetic.ko are built
 * from, compiled to WebAssembly (rules.wasm next to this file, made by
 * scripts/build-wasm.sh and committed; kmod/wasm/mlproxy_wasm.c is its glue). Loaded
 * synchronously once per process; every SimKernel gets its own instance (its own
 * parameter values and subsystem slots). 64-bit values cross as BigInt; callers pass
 * and get safe-integer numbers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One row of the module's parameter table (kmod/mlproxy_params.h). */
export interface ParamRow {
  /** The module parameter's name (snake_case, as `modprobe mlproxy name=...` takes it). */
  name: string;
  def: number;
  lo: number;
  hi: number;
  /** 0 is allowed besides [lo, hi]. */
  zeroOk: boolean;
}

/** Node's WebAssembly, typed here (the project's lib, ES2022 without DOM, has no types for it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WASM = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The exports of kmod/wasm/mlproxy_wasm.c (i64 arguments and results are BigInt). */
interface Exports {
  memory: { buffer: ArrayBuffer };
  mlpw_nr_params(): number;
  mlpw_param_name(i: number): number;
  mlpw_param_def(i: number): number;
  mlpw_param_lo(i: number): number;
  mlpw_param_hi(i: number): number;
  mlpw_param_zero_ok(i: number): number;
  mlpw_param_ok(i: number, v: number): number;
  mlpw_set_param(i: number, v: number): void;
  mlpw_ttl_max_ms(): number;
  mlpw_eff_limit(): bigint;
  mlpw_knob_ok(min: bigint, max: bigint, step: bigint, def: bigint, maxDelta: bigint): number;
  mlpw_slot_init(slot: number, nr: number): void;
  mlpw_slot_knob(
    slot: number,
    i: number,
    min: bigint,
    max: bigint,
    step: bigint,
    maxDelta: bigint,
    def: bigint,
  ): void;
  mlpw_knob_on_grid(slot: number, i: number, v: bigint): bigint;
  mlpw_set_last(slot: number, i: number, v: bigint): void;
  mlpw_set_knob(slot: number, i: number, v: bigint): void;
  mlpw_knob(slot: number, i: number): bigint;
  mlpw_advice_window(mode: number, epoch: bigint): number;
  mlpw_recommend(
    slot: number,
    epoch: bigint,
    recEpoch: bigint,
    pending: number,
    strict: number,
  ): number;
  mlpw_resolve(
    slot: number,
    epoch: bigint,
    verdict: number,
    expired: number,
    reasons: number,
  ): number;
  mlpw_reasons(slot: number): number;
  mlpw_end_window(
    slot: number,
    epoch: bigint,
    mode: number,
    advice: number,
    idle: number,
    unreliable: number,
    eff: bigint,
    controlled: number,
    live: number,
  ): bigint;
  mlpw_set_mode(slot: number, epoch: bigint, mode: number, pin: number): void;
  mlpw_fall(slot: number, epoch: bigint, why: number): void;
  mlpw_new_baseline(slot: number, epoch: bigint): void;
  mlpw_resync(slot: number): void;
  mlpw_beat(slot: number): void;
  mlpw_trans_nr(slot: number): number;
  mlpw_trans_why(slot: number, i: number): number;
  mlpw_mode(slot: number): number;
  mlpw_pinned(slot: number): number;
  mlpw_good_streak(slot: number): number;
  mlpw_baseline_eff(slot: number): bigint;
  mlpw_last_eff(slot: number): bigint;
  mlpw_transitions(slot: number): bigint;
  mlpw_promotions(slot: number): bigint;
  mlpw_demotions(slot: number): bigint;
  mlpw_emergencies(slot: number): bigint;
  mlpw_heartbeat_misses(slot: number): bigint;
  mlpw_last_transition(slot: number): number;
  mlpw_last_transition_epoch(slot: number): bigint;
  mlpw_hash32(x: number): number;
  mlpw_synth_opt(seed: number, period: number, w: bigint): bigint;
  mlpw_synth_load(w: bigint): bigint;
  mlpw_synth_hint(seed: number, period: number, w: bigint): bigint;
  mlpw_synth_noise(seed: number, period: number, w: bigint): bigint;
  mlpw_synth_eff(seed: number, period: number, w: bigint, level: bigint): bigint;
}

/**
 * rules.wasm next to the compiled module (dist/src/transport/sim/, where `npm run build`
 * copies it, and so in the npm package), else in the source tree beside rules.ts.
 */
function wasmPath(): string {
  const candidates = [
    new URL('./rules.wasm', import.meta.url),
    new URL('../../../../src/transport/sim/rules.wasm', import.meta.url),
  ].map((u) => fileURLToPath(u));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `the kernel rules' WebAssembly is missing (looked for ${candidates.join(', ')}): ` +
        'run `npm run build` (it copies src/transport/sim/rules.wasm into dist/)',
    );
  }
  return found;
}

const MODULE = new WASM.Module(readFileSync(wasmPath()));

function instantiate(): Exports {
  return new WASM.Instance(MODULE, {}).exports as Exports;
}

/** The instance for the stateless functions (parameter table, landscape, hash). */
const SHARED = instantiate();

function cString(x: Exports, ptr: number): string {
  const bytes = new Uint8Array(x.memory.buffer, ptr);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** kmod/mlproxy_params.h, read from the WebAssembly build (table order). */
export const PARAM_TABLE: readonly ParamRow[] = Object.freeze(
  Array.from({ length: SHARED.mlpw_nr_params() }, (_, i) =>
    Object.freeze({
      name: cString(SHARED, SHARED.mlpw_param_name(i)),
      def: SHARED.mlpw_param_def(i) >>> 0,
      lo: SHARED.mlpw_param_lo(i) >>> 0,
      hi: SHARED.mlpw_param_hi(i) >>> 0,
      zeroOk: SHARED.mlpw_param_zero_ok(i) !== 0,
    }),
  ),
);

/** MLP_TTL_MAX_MS: the largest ttl_ms of a recommendation. */
export const TTL_MAX_MS = SHARED.mlpw_ttl_max_ms();
/** MLP_EFF_LIMIT: raw efficiencies are clamped into [0, this]. */
export const EFF_LIMIT = Number(SHARED.mlpw_eff_limit());

/** mlp_param_ok(): the module's check of one parameter value. */
export function paramOk(row: ParamRow, v: number): boolean {
  const i = PARAM_TABLE.indexOf(row);
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff && SHARED.mlpw_param_ok(i, v) !== 0;
}

/** The range of a parameter as the module's error message states it. */
export function paramRange(row: ParamRow): string {
  return `${row.zeroOk ? '0 or ' : ''}${row.lo}..${row.hi}`;
}

/** mlp_hash32(): lowbias32, the integer hash of docs/subsystems.md. */
export function hash32(x: number): number {
  return SHARED.mlpw_hash32(x >>> 0) >>> 0;
}

/** The synthetic landscape's parameters (mlproxy_synthetic.ko's seed and period). */
export interface SynthParams {
  seed: number;
  period: number;
}

/** The landscape of mlproxy_landscape.c: window w is a u64 epoch held in a number. */
export const landscape = {
  /** The best level of window w. */
  opt: (w: number, p: SynthParams): number =>
    Number(SHARED.mlpw_synth_opt(p.seed >>> 0, p.period >>> 0, BigInt(w))),
  /** The load ramp (permille). */
  load: (w: number): number => Number(SHARED.mlpw_synth_load(BigInt(w))),
  /** The phase_hint feature (permille). */
  hint: (w: number, p: SynthParams): number =>
    Number(SHARED.mlpw_synth_hint(p.seed >>> 0, p.period >>> 0, BigInt(w))),
  /** The noise in window w's efficiency (raw, +-20000). */
  noise: (w: number, p: SynthParams): number =>
    Number(SHARED.mlpw_synth_noise(p.seed >>> 0, p.period >>> 0, BigInt(w))),
  /** eff(w, level) in units of 1/MLP_EFF_SCALE. */
  eff: (w: number, level: number, p: SynthParams): number =>
    Number(SHARED.mlpw_synth_eff(p.seed >>> 0, p.period >>> 0, BigInt(w), BigInt(level))),
};

/** A knob's numbers as the rules need them. */
export interface KnobLimits {
  min: number;
  max: number;
  step: number;
  maxDelta: number;
  def: number;
}

/** mlp_knob_ok(): the module's check of a knob schema's numbers. */
export function knobOk(k: KnobLimits): boolean {
  return (
    [k.min, k.max, k.step, k.def, k.maxDelta].every((v) => Number.isSafeInteger(v)) &&
    SHARED.mlpw_knob_ok(
      BigInt(k.min),
      BigInt(k.max),
      BigInt(k.step),
      BigInt(k.def),
      BigInt(k.maxDelta),
    ) !== 0
  );
}

/** What the end of a window tells the ladder (struct mlp_window_end). */
export interface WindowEnd {
  epoch: number;
  /** The mode the window ran in. */
  mode: number;
  advice: boolean;
  idle: boolean;
  unreliable: boolean;
  /** measure()'s raw efficiency, not clamped yet (ignored when idle). */
  eff: number;
  controlled: boolean;
  live: boolean;
}

/** The ladder's state and counters of one subsystem (struct mlp_ladder). */
export interface LadderView {
  mode: number;
  pinned: boolean;
  goodStreak: number;
  baselineEff: number;
  lastEff: number;
  transitions: number;
  promotions: number;
  demotions: number;
  emergencies: number;
  heartbeatMisses: number;
  lastTransition: number;
  lastTransitionEpoch: number;
}

const b = (v: boolean): number => (v ? 1 : 0);

/**
 * One simulated kernel's rules: its parameter values and a slot per registered
 * subsystem, holding what struct mlp_subsys holds for the rules (the ladder, the
 * knob limits, the knobs of the last advice that ran).
 */
export class KernelRules {
  private readonly x = instantiate();

  /** values: every parameter of the table by name, checked by the caller. */
  constructor(values: Readonly<Record<string, number>>) {
    PARAM_TABLE.forEach((row, i) => this.x.mlpw_set_param(i, values[row.name] ?? row.def));
  }

  /** mlp_advice_window(). */
  adviceWindow(mode: number, epoch: number): boolean {
    return this.x.mlpw_advice_window(mode, BigInt(epoch)) !== 0;
  }

  /** A subsystem registers in slot: EMERGENCY, no reference; its knobs' limits. */
  initSlot(slot: number, knobs: readonly KnobLimits[]): void {
    this.x.mlpw_slot_init(slot, knobs.length);
    knobs.forEach((k, i) =>
      this.x.mlpw_slot_knob(
        slot,
        i,
        BigInt(k.min),
        BigInt(k.max),
        BigInt(k.step),
        BigInt(k.maxDelta),
        BigInt(k.def),
      ),
    );
  }

  /** mlp_knob_on_grid() with knob i's limits: a new baseline's default. */
  knobOnGrid(slot: number, i: number, v: number): number {
    return Number(this.x.mlpw_knob_on_grid(slot, i, BigInt(v)));
  }

  /** The advice that runs now is the step limit's reference. */
  setLast(slot: number, knobs: readonly number[]): void {
    knobs.forEach((v, i) => this.x.mlpw_set_last(slot, i, BigInt(v)));
  }

  /** mlp_recommend_verdict(): the verdict, its reasons and the knobs as limited. */
  recommend(
    slot: number,
    r: {
      epoch: number;
      recEpoch: number;
      pending: boolean;
      strict: boolean;
      knobs: readonly number[];
    },
  ): { verdict: number; reasons: number; applied: number[] } {
    r.knobs.forEach((v, i) => this.x.mlpw_set_knob(slot, i, BigInt(v)));
    const verdict = this.x.mlpw_recommend(
      slot,
      BigInt(r.epoch),
      BigInt(r.recEpoch),
      b(r.pending),
      b(r.strict),
    );
    return {
      verdict,
      reasons: this.x.mlpw_reasons(slot) >>> 0,
      applied: r.knobs.map((_, i) => Number(this.x.mlpw_knob(slot, i))),
    };
  }

  /** mlp_resolve_pending(): the verdict pending advice ends with as window epoch starts. */
  resolve(
    slot: number,
    epoch: number,
    verdict: number,
    expired: boolean,
    reasons: number,
  ): { verdict: number; reasons: number } {
    const v = this.x.mlpw_resolve(slot, BigInt(epoch), verdict, b(expired), reasons);
    return { verdict: v, reasons: this.x.mlpw_reasons(slot) >>> 0 };
  }

  /** mlp_ladder_end_window(): returns the efficiency the window's record reports (raw). */
  endWindow(slot: number, w: WindowEnd): number {
    return Number(
      this.x.mlpw_end_window(
        slot,
        BigInt(w.epoch),
        w.mode,
        b(w.advice),
        b(w.idle),
        b(w.unreliable),
        BigInt(w.idle ? 0 : w.eff),
        b(w.controlled),
        b(w.live),
      ),
    );
  }

  /** mlp_ladder_set_mode(): MLP_IOC_SET_MODE. */
  setMode(slot: number, epoch: number, mode: number, pin: boolean): void {
    this.x.mlpw_set_mode(slot, BigInt(epoch), mode, b(pin));
  }

  /** mlp_ladder_fall(): a safety fall (the controlling file closed). */
  fall(slot: number, epoch: number, why: number): void {
    this.x.mlpw_fall(slot, BigInt(epoch), why);
  }

  /** mlp_ladder_new_baseline(): someone else changed the baseline's setting. */
  newBaseline(slot: number, epoch: number): void {
    this.x.mlpw_new_baseline(slot, BigInt(epoch));
  }

  /** mlp_ladder_resync(): after parked time. */
  resync(slot: number): void {
    this.x.mlpw_resync(slot);
  }

  /** mlp_ladder_beat(): the controller called. */
  beat(slot: number): void {
    this.x.mlpw_beat(slot);
  }

  /** The mode changes (their MLP_TRANS_* reasons) of the last ladder call. */
  transitions(slot: number): number[] {
    return Array.from({ length: this.x.mlpw_trans_nr(slot) }, (_, i) =>
      this.x.mlpw_trans_why(slot, i),
    );
  }

  mode(slot: number): number {
    return this.x.mlpw_mode(slot);
  }

  pinned(slot: number): boolean {
    return this.x.mlpw_pinned(slot) !== 0;
  }

  /** The raw reference (0: none). */
  baselineEff(slot: number): number {
    return Number(this.x.mlpw_baseline_eff(slot));
  }

  ladder(slot: number): LadderView {
    const x = this.x;
    return {
      mode: x.mlpw_mode(slot),
      pinned: x.mlpw_pinned(slot) !== 0,
      goodStreak: x.mlpw_good_streak(slot) >>> 0,
      baselineEff: Number(x.mlpw_baseline_eff(slot)),
      lastEff: Number(x.mlpw_last_eff(slot)),
      transitions: Number(x.mlpw_transitions(slot)),
      promotions: Number(x.mlpw_promotions(slot)),
      demotions: Number(x.mlpw_demotions(slot)),
      emergencies: Number(x.mlpw_emergencies(slot)),
      heartbeatMisses: Number(x.mlpw_heartbeat_misses(slot)),
      lastTransition: x.mlpw_last_transition(slot),
      lastTransitionEpoch: Number(x.mlpw_last_transition_epoch(slot)),
    };
  }
}
