/**
 * Worker-thread entry of the experiment pool: runs the cells it is sent, one at a time,
 * and posts each result (or the error) back. Loaded from dist/experiments/worker.js.
 */
import { parentPort } from 'node:worker_threads';
import { runCell } from './cell.js';
import type { CellSpec } from './cell.js';

export interface CellRequest {
  id: number;
  cell: CellSpec;
}

export type CellReply =
  { id: number; result: ReturnType<typeof runCell> } | { id: number; error: string };

if (!parentPort) throw new Error('experiments/worker.js must be started as a worker thread');
const port = parentPort;
port.on('message', (req: CellRequest) => {
  let reply: CellReply;
  try {
    reply = { id: req.id, result: runCell(req.cell) };
  } catch (e) {
    reply = { id: req.id, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});
