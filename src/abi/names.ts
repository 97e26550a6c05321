/**
 * The ABI's vocabulary by name, derived from the header's constants (constants.ts, which
 * test/abi-header.test.ts holds to kmod/include/uapi/linux/mlproxy.h through gcc): the
 * `Mode` of MLP_MODE_EMERGENCY is `Mode.Emergency`, its name 'emergency'. Nothing here
 * restates a value or a name, so a constant added to constants.ts is named at once.
 */
import * as C from './constants.js';

type Constants = typeof C;

/** The constants `<prefix><NAME>` (flags `<prefix>F_*` left out) as `{ Name: value }`. */
type Members<P extends string> = {
  [
    K in keyof Constants as K extends `${P}F_${string}`
      ? never
      : K extends `${P}${infer S}`
        ? Constants[K] extends number
          ? Capitalize<Lowercase<S>>
          : never
        : never
  ]: Constants[K] & {}; // & {}: a literal that stays literal in an object literal
};

function members<P extends string>(prefix: P): Readonly<Members<P>> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(C)) {
    if (!key.startsWith(prefix) || key.startsWith(`${prefix}F_`) || typeof value !== 'number') {
      continue;
    }
    const s = key.slice(prefix.length).toLowerCase();
    out[s[0].toUpperCase() + s.slice(1)] = value;
  }
  return Object.freeze(out) as unknown as Readonly<Members<P>>;
}

/**
 * Names indexed by value (`by: 'bit'`: by bit number, for flag sets), lower case as in the
 * header. The values must be dense from 0: a hole is a constant missing from constants.ts.
 */
function namesOf<M extends Record<string, number>>(
  prefix: string,
  e: M,
  by: 'value' | 'bit' = 'value',
): readonly Lowercase<keyof M & string>[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(e)) {
    const i = by === 'bit' ? Math.log2(value) : value;
    if (!Number.isInteger(i) || out[i] !== undefined) {
      throw new Error(
        `src/abi/constants.ts: ${prefix}${key.toUpperCase()} = ${value} is not a distinct ${by}`,
      );
    }
    out[i] = key.toLowerCase();
  }
  for (let i = 0; i < out.length; i++) {
    if (out[i] === undefined) throw new Error(`src/abi/constants.ts: no ${prefix}* has ${by} ${i}`);
  }
  return Object.freeze(out) as readonly Lowercase<keyof M & string>[];
}

/** enum mlp_mode. */
export const Mode = members('MODE_');
export type ModeValue = (typeof Mode)[keyof typeof Mode];
export const MODE_NAMES = namesOf('MODE_', Mode);

/** enum mlp_verdict. */
export const Verdict = members('VERDICT_');
export type VerdictValue = (typeof Verdict)[keyof typeof Verdict];
export const VERDICT_NAMES = namesOf('VERDICT_', Verdict);

/** enum mlp_transition: why the kernel changed a subsystem's mode. */
export const Transition = members('TRANS_');
export type TransitionValue = (typeof Transition)[keyof typeof Transition];
export const TRANSITION_NAMES = namesOf('TRANS_', Transition);

/** MLP_REASON_* bits; names lowest bit first (for messages and logs). */
export const Reason = members('REASON_');
export const REASON_NAMES = namesOf('REASON_', Reason, 'bit');

export function reasonNames(bits: number): string[] {
  return REASON_NAMES.filter((_, i) => (bits >>> i) & 1);
}
