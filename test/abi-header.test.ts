/**
 * The codec checked against the C header: gcc compiles a program that prints
 * sizeof and offsetof of every field of every struct, every #define constant and
 * every ioctl request number of kmod/include/uapi/linux/mlproxy.h; each must equal
 * the codec's. The header's struct bodies are also parsed for field names, so a
 * field added to the header but missing from the codec fails here too.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as constants from '../src/abi/constants.js';
import { ALL_STRUCTS, IOCTLS } from '../src/abi/structs.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const UAPI = join(ROOT, 'kmod', 'include', 'uapi');
const HEADER = join(UAPI, 'linux', 'mlproxy.h');
const header = readFileSync(HEADER, 'utf8');
const hasGcc = spawnSync('gcc', ['--version']).status === 0;

/** struct name -> field names, in order, from the header text. */
function parseStructs(src: string): Map<string, string[]> {
  const noComments = src.replace(/\/\*[\s\S]*?\*\//g, '');
  const out = new Map<string, string[]>();
  for (const m of noComments.matchAll(/struct\s+(\w+)\s*\{([^}]*)\}\s*;/g)) {
    const fields = m[2]
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => /(\w+)\s*(\[[^\]]*\])?$/.exec(d)?.[1] ?? `<unparsed: ${d}>`);
    out.set(m[1], fields);
  }
  return out;
}

/** Numeric #define names of the header (strings and the include guard excluded). */
function parseDefines(src: string): string[] {
  return [...src.matchAll(/^#define\s+(MLP_\w+)\s+(.+)$/gm)]
    .filter((m) => !m[2].trim().startsWith('"'))
    .map((m) => m[1]);
}

test('the header parses into the same structs and fields as the codec', (t) => {
  const parsed = parseStructs(header);
  t.deepEqual([...parsed.keys()].sort(), ALL_STRUCTS.map((s) => s.cName).sort());
  for (const s of ALL_STRUCTS) {
    t.deepEqual(
      s.fields.map((f) => f.name),
      parsed.get(s.cName),
      `fields of struct ${s.cName}`,
    );
  }
});

const gccTest = hasGcc ? test : test.skip;
if (!hasGcc) console.warn('abi-header: gcc not found, the sizeof/offsetof check is SKIPPED');

gccTest('gcc agrees with the codec on every size, offset, constant and ioctl number', (t) => {
  const lines: string[] = [];
  const expected = new Map<string, string>();
  for (const s of ALL_STRUCTS) {
    lines.push(`P("sizeof ${s.cName}", sizeof(struct ${s.cName}));`);
    expected.set(`sizeof ${s.cName}`, String(s.size));
    for (const f of s.fields) {
      const key = `${s.cName}.${f.name}`;
      lines.push(`P("offsetof ${key}", offsetof(struct ${s.cName}, ${f.name}));`);
      lines.push(`P("sizeof ${key}", sizeof(((struct ${s.cName} *)0)->${f.name}));`);
      expected.set(`offsetof ${key}`, String(f.offset));
      expected.set(`sizeof ${key}`, String(f.size));
    }
  }
  const table = constants as unknown as Record<string, unknown>;
  for (const name of parseDefines(header)) {
    if (name === 'MLP_DEVICE_NAME') continue;
    lines.push(`P("${name}", (unsigned long long)(${name}));`);
    const ours = name.startsWith('MLP_IOC_')
      ? ((IOCTLS as Record<string, number>)[name] ?? table[name.slice(4)])
      : table[name.slice(4)];
    t.true(typeof ours === 'number', `codec defines ${name} (as ${name.slice(4)})`);
    expected.set(name, String(ours));
  }
  for (const name of Object.keys(IOCTLS)) t.true(expected.has(name), `${name} is in the header`);
  lines.push(`printf("MLP_DEVICE_NAME %s\\n", MLP_DEVICE_NAME);`);
  expected.set('MLP_DEVICE_NAME', constants.DEVICE_NAME);

  const dir = mkdtempSync(join(tmpdir(), 'mlp-abi-'));
  try {
    const c = join(dir, 'abi.c');
    writeFileSync(
      c,
      [
        '#include <stdio.h>',
        '#include <stddef.h>',
        '#include <linux/mlproxy.h>',
        '#define P(k, v) printf("%s %llu\\n", k, (unsigned long long)(v))',
        'int main(void) {',
        ...lines.map((l) => '  ' + l),
        '  return 0;',
        '}',
      ].join('\n'),
    );
    const exe = join(dir, 'abi');
    execFileSync('gcc', ['-std=c11', '-Wall', '-Werror', `-I${UAPI}`, '-o', exe, c]);
    const out = execFileSync(exe, { encoding: 'utf8' });
    const got = new Map(
      out
        .trim()
        .split('\n')
        .map((l) => {
          const i = l.lastIndexOf(' ');
          return [l.slice(0, i), l.slice(i + 1)] as [string, string];
        }),
    );
    t.is(got.size, expected.size);
    for (const [k, v] of expected) t.is(got.get(k), v, k);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
