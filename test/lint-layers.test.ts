/**
 * The layering table of docs/architecture.md is enforced by the lint (eslint.config.js reads
 * it): an import against the table is an error, static, import() and import types alike; an
 * import the table allows is not; and every folder of src/ and every top-level folder of
 * TypeScript has a row, so no new folder escapes the rule.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = resolve(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function layering(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return result.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message);
}

const forbidden: [string, string, string][] = [
  ['src/abi/x.ts', "import type { Mode } from '../transport/device.js';\n", 'src/transport/'],
  ['src/transport/x.ts', "import { Daemon } from '../loop/daemon.js';\n", 'src/loop/'],
  ['src/transport/sim/x.ts', "export * from '../../loop/learner.js';\n", 'src/loop/'],
  ['src/loop/x.ts', "import { startFleetHost } from '../fleet/host.js';\n", 'src/fleet/'],
  ['src/loop/x.ts', "const m = await import('../../experiments/replay.js');\n", 'experiments/'],
  ['src/loop/x.ts', "const m = await import('../../cli/experiments.js');\n", 'cli/'],
  ['src/storage/x.ts', "import { logger } from '../logging.js';\n", 'src/logging.ts'],
  ['policies/x.ts', "import { rewardOf } from '../src/loop/features.js';\n", 'src/loop/'],
  [
    'policies/bandits/x.ts',
    "import type { Mode } from '../../src/abi/constants.js';\n",
    'src/abi/',
  ],
  ['experiments/envs/x.ts', "import { Daemon } from '../../src/loop/daemon.js';\n", 'src/loop/'],
  ['experiments/x.ts', "import { main } from '../cli/main.js';\n", 'cli/'],
  ['experiments/x.ts', "await import('../cli/commands/replay.js');\n", 'cli/'],
  ['src/fleet/x.ts', "import type { Io } from '../../cli/commands/common.js';\n", 'cli/'],
  ['demo/x.ts', "import { main } from '../cli/main.js';\n", 'cli/'],
  ['src/fleet/host.ts', "import { evaluate } from '../ope/evaluate.js';\n", 'src/ope/'],
  [
    'src/fleet/trainer.ts',
    "import { evaluate } from '../../experiments/replay.js';\n",
    'experiments/',
  ],
  ['src/ope/x.ts', "import { FleetTrainer } from '../fleet/trainer.js';\n", 'src/fleet/'],
  [
    'src/ope/x.ts',
    "import { summaryTable } from '../../experiments/results.js';\n",
    'experiments/',
  ],
  ['cli/run.ts', "import { simulate } from '../demo/simulate.js';\n", 'demo/'],
  ['cli/commands/x.ts', "import { MAIN } from '../../test/helpers/spawn-cli.js';\n", 'test/'],
  ['src/config/x.ts', "let t: import('../loop/daemon.js').Daemon;\n", 'src/loop/'],
];

for (const [file, code, target] of forbidden) {
  test(`${file} may not: ${code.trim()}`, async (t) => {
    const messages = await layering(file, code);
    t.is(messages.length, 1, messages.join('\n'));
    t.regex(messages[0], new RegExp(`may not import ${target.replace(/[.]/g, '\\.')} `));
  });
}

const allowed: [string, string][] = [
  ['src/transport/x.ts', "import { ABI_MAJOR } from '../abi/constants.js';\n"],
  ['src/transport/sim/x.ts', "import { ABI_MAJOR } from '../../abi/constants.js';\n"],
  ['src/loop/x.ts', "import { makePolicy } from '../../policies/registry.js';\n"],
  ['experiments/envs/x.ts', "import { rewardOf } from '../../src/loop/features.js';\n"],
  ['experiments/envs/x.ts', "import { buildArms } from '../../src/loop/arms.js';\n"],
  ['src/fleet/trainer.ts', "import { evaluate } from '../ope/evaluate.js';\n"],
  ['cli/main.ts', "await import('./experiments.js');\n"],
  ['cli/experiments.ts', "import { GATE_DEFAULTS } from '../src/ope/defaults.js';\n"],
  ['cli/commands/x.ts', "import { replayProblem } from '../../experiments/replay.js';\n"],
  ['cli/run.ts', "import { Daemon } from '../src/loop/daemon.js';\n"],
  ['demo/x.ts', "import { renderSvg } from '../experiments/report.js';\n"],
  ['demo/x.ts', "import { Daemon } from '../src/loop/daemon.js';\n"],
  ['bench/x.ts', "import { main } from '../cli/main.js';\n"],
  ['test/x.ts', "import { main } from '../cli/main.js';\n"],
  ['src/abi/x.ts', "import { endianness } from 'node:os';\nimport { a } from './codec.js';\n"],
];

for (const [file, code] of allowed) {
  test(`${file} may: ${code.trim()}`, async (t) => {
    t.deepEqual(await layering(file, code), []);
  });
}

test('experiments/ may import only arms.ts and features.ts of src/loop/', async (t) => {
  const messages = await layering(
    'experiments/x.ts',
    "import { a } from '../src/loop/arms.js';\nimport { b } from '../src/loop/armsx.js';\n",
  );
  t.is(messages.length, 1);
});

test('every folder of src/ and every top-level TypeScript folder has a row', async (t) => {
  const { layeringTable } = (await import(pathToFileURL(join(ROOT, 'eslint.config.js')).href)) as {
    layeringTable: () => { path: string }[];
  };
  const rows = new Set(layeringTable().map((r) => r.path));
  const top = ['cli', 'policies', 'experiments', 'demo', 'bench', 'scripts', 'test', 'kmod'];
  const src = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).map((e) =>
    e.isDirectory() ? `src/${e.name}/` : `src/${e.name}`,
  );
  for (const path of [...top.map((d) => `${d}/`), ...src]) {
    t.true(rows.has(path), `docs/architecture.md's layering table has no row for ${path}`);
  }
});
