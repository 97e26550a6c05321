/**
 * A small worker_threads pool for experiment cells: `size` workers, each fed the next
 * cell as soon as it returns one. Results come back in cell order whatever the order of
 * completion, so the output does not depend on the pool size.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CellResult, CellSpec } from './cell.js';
import type { CellReply, CellRequest } from './worker.js';

/** worker.js beside this module (both compiled into dist/experiments/). */
export function workerPath(): string {
  const path = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (!existsSync(path)) {
    throw new Error(
      `experiment worker not found at ${path}; run the compiled CLI from dist/ (npm run build first)`,
    );
  }
  return path;
}

export async function runCellsInPool(
  cells: CellSpec[],
  size: number,
  onDone?: (done: number, total: number, result: CellResult) => void,
): Promise<CellResult[]> {
  const results = new Array<CellResult>(cells.length);
  if (cells.length === 0) return results;
  const nWorkers = Math.max(1, Math.min(size, cells.length));
  const path = workerPath();
  let next = 0;
  let done = 0;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (err: Error) => {
        if (!failed) {
          failed = true;
          reject(err);
        }
      };
      const feed = (w: Worker) => {
        if (next >= cells.length) return;
        const req: CellRequest = { id: next, cell: cells[next] };
        next++;
        w.postMessage(req);
      };
      for (let i = 0; i < nWorkers; i++) {
        const w = new Worker(path);
        workers.push(w);
        w.on('message', (reply: CellReply) => {
          if (failed) return;
          if ('error' in reply) {
            const c = cells[reply.id];
            fail(new Error(`policy ${c.policy} on ${c.envName} seed ${c.seed}: ${reply.error}`));
            return;
          }
          results[reply.id] = reply.result;
          done++;
          onDone?.(done, cells.length, reply.result);
          if (done === cells.length) resolve();
          else feed(w);
        });
        w.on('error', fail);
        w.on('exit', (code) => {
          if (code !== 0) fail(new Error(`experiment worker exited with code ${code}`));
        });
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
