/**
 * In the QEMU guest, on the real mlproxy.ko: its parameters are the table SimKernel reads
 * from the WebAssembly build of the same rules (kmod/mlproxy_params.h), name for name,
 * default for default, and it accepts and refuses exactly the table's ranges. Run by
 * scripts/vm/test-vm.sh.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { PARAM_TABLE } from '../../src/transport/sim/rules.js';
import {
  kernelLog,
  kernelMark,
  kernelProblems,
  moduleLoaded,
  requireGuest,
  unloadModule,
} from './helpers/guest.js';

const PARAMS_DIR = '/sys/module/mlproxy/parameters';

before(() => {
  kernelMark('params suite');
  if (moduleLoaded()) unloadModule();
});
after(() => {
  if (moduleLoaded()) unloadModule();
});

/** insmod mlproxy.ko alone (no subsystem module) with these parameters. */
function insmodCore(params: Readonly<Record<string, number>>): { ok: boolean; stderr: string } {
  const args = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  const r = spawnSync('insmod', [requireGuest(), ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: r.stderr.trim() };
}

function readParams(): Map<string, string> {
  return new Map(
    readdirSync(PARAMS_DIR).map((n) => [n, readFileSync(`${PARAMS_DIR}/${n}`, 'utf8').trim()]),
  );
}

test("the module's parameters are the table's, with its defaults", () => {
  assert.ok(insmodCore({}).ok);
  try {
    const seen = readParams();
    const core = [...seen.keys()].filter((n) => !n.startsWith('ra_')).sort();
    assert.deepEqual(core, PARAM_TABLE.map((r) => r.name).sort());
    for (const r of PARAM_TABLE) assert.equal(seen.get(r.name), String(r.def), r.name);
  } finally {
    unloadModule();
  }
});

test("every parameter at the table's lo and at its hi loads", () => {
  for (const end of ['lo', 'hi'] as const) {
    const params = Object.fromEntries(PARAM_TABLE.map((r) => [r.name, r[end]]));
    const r = insmodCore(params);
    assert.ok(r.ok, `${end}: ${r.stderr}`);
    const seen = readParams();
    for (const p of PARAM_TABLE) assert.equal(seen.get(p.name), String(p[end]), p.name);
    unloadModule();
  }
});

test("a value outside the table's range is refused, naming the parameter and its range", () => {
  const bad: [string, number][] = [];
  for (const r of PARAM_TABLE) {
    bad.push([r.name, r.hi + 1]);
    if (r.lo > 0 && !(r.lo === 1 && r.zeroOk)) bad.push([r.name, r.zeroOk ? 1 : r.lo - 1]);
  }
  for (const [name, v] of bad) {
    const r = insmodCore({ [name]: v });
    assert.ok(!r.ok, `${name}=${v} must be refused`);
    assert.ok(!moduleLoaded());
    const row = PARAM_TABLE.find((p) => p.name === name)!;
    assert.ok(
      kernelLog().some((l) =>
        l.includes(`parameter ${name}=${v} is out of range [${row.lo}, ${row.hi}]`),
      ),
      `the log names ${name}=${v}`,
    );
  }
  const zeroOk = PARAM_TABLE.filter((r) => r.zeroOk);
  assert.ok(zeroOk.length > 0);
  for (const r of zeroOk) {
    assert.ok(insmodCore({ [r.name]: 0 }).ok, `${r.name}=0 loads`);
    unloadModule();
  }
  assert.deepEqual(kernelProblems(), []);
});
