/**
 * The parallel part of an LSH build: hashing the points on worker threads (`lsh-worker.ts`), chunk
 * by chunk, into the same keys a single-thread build computes, and the choice of how many threads.
 */
import { availableParallelism } from 'node:os';
import { HASH_UNITS_PER_SECOND, hashUnitsPerRow } from './hash';
import type { ResolvedLshParameters } from './params';
import { workerEntry } from '../../workers/entry';
import { runWorkerJobs } from '../../workers/pool';

/** Threads for hashing `rows` points (see `LshIndexOptions.buildThreads`). */
export function buildThreadCount(option: number | 'auto', p: ResolvedLshParameters, rows: number): number {
  if (option !== 'auto') return Math.max(1, Math.min(option, rows));
  const seconds = (rows * hashUnitsPerRow(p)) / HASH_UNITS_PER_SECOND;
  return seconds >= 2 ? Math.max(1, Math.min(availableParallelism(), Math.floor(rows / 1024))) : 1;
}

/** A build worker's reply: ready once its hash functions exist, the keys of rows r0 … r0+count−1 (table-major, `l × count`), or an error. */
export interface LshWorkerReply {
  type: 'ready' | 'keys' | 'error';
  r0?: number;
  count?: number;
  keys?: Float64Array;
  message?: string;
}

/**
 * Hashes all rows on `threads` worker threads, chunk by chunk (two chunks in flight per worker),
 * into keysAll (table-major, l × rows). Each worker builds the same hash functions from the
 * parameters, so the keys equal those of a single-thread build.
 */
export async function hashWithWorkers(
  params: ResolvedLshParameters,
  kernel: 'js' | 'wasm',
  data: Float32Array,
  rows: number,
  threads: number,
  keysAll: Float64Array,
  report: ((done: number, total: number) => void) | undefined,
): Promise<void> {
  const dim = params.dim;
  // Chunks of ~0.25 s of work each, at least 16 rows.
  const chunk = Math.max(16, Math.min(4096, Math.floor((0.25 * HASH_UNITS_PER_SECOND) / hashUnitsPerRow(params))));
  const { script, evalCode } = workerEntry(__dirname, __filename, 'lsh-worker', 'LshIndex.build with buildThreads > 1');
  let done = 0;
  await runWorkerJobs<LshWorkerReply>({
    script,
    evalCode,
    workerData: { params, kernel },
    threads,
    jobs: Math.ceil(rows / chunk),
    inFlight: 2,
    name: 'dknn-lsh',
    what: 'LSH build worker',
    unfinished: 'the build finished',
    send: (pool, w, job) => {
      const r0 = job * chunk;
      const count = Math.min(chunk, rows - r0);
      const part = data.slice(r0 * dim, (r0 + count) * dim);
      pool.post(w, { r0, count, data: part }, [part.buffer]);
    },
    receive: (m) => {
      const { r0, count, keys } = m as Required<LshWorkerReply>;
      for (let t = 0; t < params.l; t++) keysAll.set(keys.subarray(t * count, (t + 1) * count), t * rows + r0);
      done += count;
      report?.(done, rows);
      return true;
    },
  });
}
