/**
 * The parallel part of an LSH build: hashing the points on worker threads (`lsh-worker.ts`), chunk
 * by chunk, into the same keys a single-thread build computes, and the choice of how many threads.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HASH_UNITS_PER_SECOND, hashUnitsPerRow } from './lsh-hash';
import type { ResolvedLshParameters } from './lsh-params';
import { workerEntry } from '../util/worker-entry';

/** Threads for hashing `rows` points (see `LshIndexOptions.buildThreads`). */
export function buildThreadCount(option: number | 'auto', p: ResolvedLshParameters, rows: number): number {
  if (option !== 'auto') return Math.max(1, Math.min(option, rows));
  const seconds = (rows * hashUnitsPerRow(p)) / HASH_UNITS_PER_SECOND;
  return seconds >= 2 ? Math.max(1, Math.min(availableParallelism(), Math.floor(rows / 1024))) : 1;
}

/** A build worker's reply: the keys of rows r0 … r0+count−1, table-major (`l × count`). */
export interface LshWorkerReply {
  r0: number;
  count: number;
  keys?: Float64Array;
  error?: string;
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
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      let failed = false;
      const fail = (e: Error) => {
        if (!failed) {
          failed = true;
          reject(e);
        }
      };
      const feed = (w: Worker) => {
        if (failed || next >= rows) return;
        const r0 = next;
        const count = Math.min(chunk, rows - r0);
        next += count;
        const part = data.slice(r0 * dim, (r0 + count) * dim);
        w.postMessage({ r0, count, data: part }, [part.buffer]);
      };
      for (let i = 0; i < threads; i++) {
        const w = new Worker(script, { eval: evalCode, workerData: { params, kernel }, execArgv: process.execArgv, name: `dknn-lsh-${i + 1}` });
        workers.push(w);
        w.on('message', (m: LshWorkerReply) => {
          if (m.error !== undefined || !m.keys) {
            fail(new Error(`LSH build worker ${i + 1} failed: ${m.error ?? 'no keys'}`));
            return;
          }
          const l = params.l;
          for (let t = 0; t < l; t++) keysAll.set(m.keys.subarray(t * m.count, (t + 1) * m.count), t * rows + m.r0);
          done += m.count;
          report?.(done, rows);
          if (done === rows) resolve();
          else feed(w);
        });
        w.on('error', (e) => fail(new Error(`LSH build worker ${i + 1} failed: ${e.message}`)));
        w.on('exit', (code) => {
          if (done < rows) fail(new Error(`LSH build worker ${i + 1} exited with code ${code} before the build finished`));
        });
        feed(w);
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
