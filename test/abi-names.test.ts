/**
 * The ABI's names come from the header: every MLP_MODE_*, MLP_VERDICT_*, MLP_TRANS_* and
 * MLP_REASON_* #define of kmod/include/uapi/linux/mlproxy.h is named by src/abi/names.ts
 * (lower case, indexed by value or bit; the values are the constants gcc checks in
 * abi-header.test.ts), and src/transport/device.ts hands on the same objects, not copies.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as constants from '../src/abi/constants.js';
import {
  MODE_NAMES,
  Mode,
  REASON_NAMES,
  Reason,
  TRANSITION_NAMES,
  Transition,
  VERDICT_NAMES,
  Verdict,
  reasonNames,
} from '../src/abi/names.js';
import * as device from '../src/transport/device.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const header = readFileSync(join(ROOT, 'kmod/include/uapi/linux/mlproxy.h'), 'utf8');
const table = constants as unknown as Record<string, number>;

/** The header's MLP_<prefix>* names (flags MLP_<prefix>F_* left out), by their values. */
function headerNames(prefix: string, bit = false): string[] {
  const out: string[] = [];
  for (const m of header.matchAll(new RegExp(`^#define\\s+MLP_(${prefix}(\\w+))\\s`, 'gm'))) {
    if (m[2].startsWith('F_')) continue;
    const value = table[m[1]];
    out[bit ? Math.log2(value) : value] = m[2].toLowerCase();
  }
  return out;
}

test('mode, verdict, transition and reason names are the header names', (t) => {
  t.deepEqual([...MODE_NAMES], headerNames('MODE_'));
  t.deepEqual([...VERDICT_NAMES], headerNames('VERDICT_'));
  t.deepEqual([...TRANSITION_NAMES], headerNames('TRANS_'));
  t.deepEqual([...REASON_NAMES], headerNames('REASON_', true));
  t.deepEqual(MODE_NAMES.slice(0, 4), ['emergency', 'learning', 'collaboration', 'recommendation']);
  t.is(TRANSITION_NAMES[constants.TRANS_ADMIN], 'admin');
});

test('the enums carry the constants under their names', (t) => {
  t.is(Mode.Emergency, constants.MODE_EMERGENCY);
  t.is(Mode.Recommendation, constants.MODE_RECOMMENDATION);
  t.false('F_pin' in Mode, 'MLP_MODE_F_PIN is a flag, not a mode');
  t.is(Verdict.Shadowed, constants.VERDICT_SHADOWED);
  t.is(Transition.Collapse, constants.TRANS_COLLAPSE);
  t.is(Reason.Baseline_window, constants.REASON_BASELINE_WINDOW);
  t.is(Object.keys(Mode).length, constants.NR_MODES);
  t.deepEqual(reasonNames(constants.REASON_STALE | constants.REASON_GONE), ['stale', 'gone']);
});

test('src/transport/device.ts re-exports the ABI names, it keeps no copy', (t) => {
  t.is(device.Mode, Mode);
  t.is(device.MODE_NAMES, MODE_NAMES);
  t.is(device.Verdict, Verdict);
  t.is(device.VERDICT_NAMES, VERDICT_NAMES);
});
