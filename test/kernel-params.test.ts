/**
 * The module parameters are stated once, in kmod/mlproxy_params.h: the simulator reads
 * them from the WebAssembly build of the kernel's rules, and these tests hold
 * docs/kernel-module.md's table and SimKernel's checks to that table.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PARAMS, SimKernel } from '../src/transport/sim/kernel.js';
import { PARAM_TABLE, paramRange } from '../src/transport/sim/rules.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

test('the table read from rules.wasm is kmod/mlproxy_params.h', (t) => {
  const header = readFileSync(path.join(root, 'kmod/mlproxy_params.h'), 'utf8');
  const rows = [...header.matchAll(/^MLP_PARAM\(\w+, (\w+), (\d+), (\d+), (\d+), ([01])\)$/gm)].map(
    (m) => ({ name: m[1], def: +m[2], lo: +m[3], hi: +m[4], zeroOk: m[5] === '1' }),
  );
  t.true(rows.length >= 12);
  t.deepEqual(
    PARAM_TABLE.map((r) => ({ ...r })),
    rows,
    'rebuild the WebAssembly: npm run build:wasm',
  );
});

test("docs/kernel-module.md's parameter table states the table's defaults and ranges", (t) => {
  const doc = readFileSync(path.join(root, 'docs/kernel-module.md'), 'utf8');
  for (const row of PARAM_TABLE) {
    const line = doc.split('\n').find((l) => l.startsWith(`| \`${row.name}\` |`));
    t.truthy(line, `docs/kernel-module.md lists ${row.name}`);
    const [, , def, range] = line!.split('|').map((c) => c.trim());
    t.is(Number(def), row.def, `${row.name}'s default`);
    t.is(range, paramRange(row).replace('..', ' .. '), `${row.name}'s range`);
  }
});

test("SimKernel takes the module's defaults and refuses exactly what the module refuses", (t) => {
  for (const row of PARAM_TABLE) {
    const key = camel(row.name) as keyof typeof DEFAULT_PARAMS;
    if (!(key in DEFAULT_PARAMS)) {
      t.is(row.name, 'max_open', 'only the per-user open limit is not modelled');
      continue;
    }
    t.is(DEFAULT_PARAMS[key], row.def, row.name);
    const ok = (v: number) => {
      try {
        new SimKernel({ params: { [key]: v } }).stop();
        return true;
      } catch (e) {
        t.regex((e as Error).message, new RegExp(`the module's ${row.name}`));
        return false;
      }
    };
    t.true(ok(row.lo), `${row.name}=${row.lo}`);
    t.true(ok(row.hi), `${row.name}=${row.hi}`);
    t.false(ok(row.hi + 1), `${row.name}=${row.hi + 1}`);
    if (row.lo > 0) t.is(ok(0), row.zeroOk, `${row.name}=0`);
    if (row.lo > 1) t.false(ok(row.lo - 1), `${row.name}=${row.lo - 1}`);
  }
});
