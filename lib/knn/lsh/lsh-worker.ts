/**
 * Worker thread of a parallel {@link LshIndex} build (`buildThreads > 1`): builds the index's hash
 * functions from the resolved parameters, says it is ready, then hashes each chunk of rows it is sent and replies
 * with the keys, table-major (`l × count`).
 */

import { parentPort, workerData } from 'node:worker_threads';
import type { LshWorkerReply } from './build';
import { createHashFunctions, hashRows } from './hash';
import type { ResolvedLshParameters } from './params';

const { params, kernel } = workerData as { params: ResolvedLshParameters; kernel: 'js' | 'wasm' };
const port = parentPort!;
try {
  const hashes = createHashFunctions(params, kernel);
  port.on('message', (m: { r0: number; count: number; data: Float32Array }) => {
    try {
      const keys = new Float64Array(params.l * m.count);
      hashRows(hashes, m.data, 0, m.count, keys, m.count, 0);
      const reply: LshWorkerReply = { type: 'keys', r0: m.r0, count: m.count, keys };
      port.postMessage(reply, [keys.buffer]);
    } catch (e) {
      port.postMessage({ type: 'error', message: (e as Error).message } satisfies LshWorkerReply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies LshWorkerReply);
} catch (e) {
  port.postMessage({ type: 'error', message: (e as Error).message } satisfies LshWorkerReply);
}
