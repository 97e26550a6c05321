// A CPU profile of a running node process from a time on, for the guest benchmarks
// (node --import dist/scripts/vm/cpu-prof.js main.js ...). `node --cpu-prof` profiles from the
// start and writes only at a clean exit: under TCG it slowed the daemon's start-up
// past the benchmark's settling time. This one starts sampling MLP_PROF_AFTER_S seconds
// (default 10) after start, every MLP_PROF_INTERVAL_US (default 1000), for
// MLP_PROF_FOR_S seconds (default 30), and writes the profile to MLP_PROF_OUT
// (relative: in MLP_VM_OUT).
import fs from 'node:fs';
import nodePath from 'node:path';
import { Session } from 'node:inspector';

// A relative MLP_PROF_OUT is in the guest's run folder (MLP_VM_OUT), the one place in the
// guest where the host's files are writable.
const out = process.env.MLP_PROF_OUT
  ? nodePath.resolve(process.env.MLP_VM_OUT ?? '.', process.env.MLP_PROF_OUT)
  : undefined;
if (out) {
  const after = Number(process.env.MLP_PROF_AFTER_S ?? 10) * 1000;
  const span = Number(process.env.MLP_PROF_FOR_S ?? 30) * 1000;
  const interval = Number(process.env.MLP_PROF_INTERVAL_US ?? 1000);
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err: Error | null, res?: unknown) =>
        err ? reject(err) : resolve(res),
      ),
    );
  setTimeout(async () => {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval });
    await post('Profiler.start');
    setTimeout(async () => {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      fs.writeFileSync(out, JSON.stringify(profile));
      session.disconnect();
    }, span).unref();
  }, after).unref();
}
