/**
 * Worker thread of a parallel {@link LshIndex} build (`buildThreads > 1`): builds the index's hash
 * functions from the resolved parameters, says it is ready, then hashes each chunk of rows it is sent and replies
 * with the keys, table-major (`l × count`).
 */

import { serveWorker } from '../../workers/serve';
import type { LshWorkerReply } from './build';
import { createHashFunctions, hashRows } from './hash';
import type { ResolvedLshParameters } from './params';

/** What a build worker is started with. */
interface LshWorkerData {
  params: ResolvedLshParameters;
  kernel: 'js' | 'wasm';
}

serveWorker<LshWorkerData, { r0: number; count: number; data: Float32Array }, LshWorkerReply>(
  'LshIndex.build with buildThreads > 1',
  async ({ params, kernel }, reply) => {
    const hashes = createHashFunctions(params, kernel);
    const handle = (m: { r0: number; count: number; data: Float32Array }) => {
      const keys = new Float64Array(params.l * m.count);
      hashRows(hashes, m.data, 0, m.count, keys, m.count, 0);
      reply({ type: 'keys', r0: m.r0, count: m.count, keys }, [keys.buffer]);
    };
    return { handle };
  },
);
