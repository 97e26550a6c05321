/**
 * In the QEMU guest: the C selftests of kmod/tools/testing/selftests/mlproxy (the
 * kselftest harness), built on the host by scripts/vm/build-selftests.sh and run by
 * their own mlproxy.sh, one node:test per run (each run loads the modules and
 * parameters its program needs: the ladder walk, the ABI 1.1 file options and GONE
 * records, knob arithmetic at the widest bounds, efficiencies <= 0, lock-free
 * readers, window timing, mlproxy.ko alone and per-user open accounting, a
 * multithreaded stress with the selftest module reloaded underneath). mlproxy.sh
 * fails a run on any kernel splat. Run by scripts/vm/test-vm.sh.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  kernelMark,
  kernelProblems,
  moduleLoaded,
  requireGuest,
  unloadModule,
} from './helpers/guest.js';

const RUNS = [
  'ladder',
  'abi',
  'knob',
  'eff-zero',
  'eff-negative',
  'lock',
  'timing',
  'bare',
  'stress',
] as const;

let dir = '';

before(() => {
  kernelMark('C selftests');
  requireGuest();
  dir = process.env.MLP_SELFTESTS ?? '';
  if (!dir || !existsSync(join(dir, 'mlproxy.sh'))) {
    throw new Error('MLP_SELFTESTS is not a built selftests folder: run `npm run test:vm`');
  }
  if (moduleLoaded()) unloadModule();
});

after(() => {
  if (moduleLoaded()) unloadModule();
  assert.deepEqual(kernelProblems(), [], 'no kernel warnings or oopses');
});

for (const run of RUNS) {
  test(`C selftests: ${run}`, () => {
    const r = spawnSync('sh', [join(dir, 'mlproxy.sh')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        MLPROXY_KO_DIR: dirname(requireGuest()),
        MLPROXY_TESTS: run,
      },
      timeout: 900_000,
    });
    process.stdout.write(r.stdout.replace(/^/gm, '  '));
    process.stderr.write(r.stderr);
    assert.equal(r.status, 0, `mlproxy.sh (${run}) exited ${String(r.status)}`);
    assert.match(r.stdout, new RegExp(`^ok \\d+ ${run}$`, 'm'));
  });
}
