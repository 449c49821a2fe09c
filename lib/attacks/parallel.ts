/**
 * Crafting on worker threads: the attack's batches are spread over W workers, each with its own
 * copy of the model (sent as tfjs model artifacts) and the same engine backend, fed in batch order
 * as they finish. Every batch is attacked exactly as on the main thread, so the adversarial set is
 * identical for any number of workers.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { ProgressCallback } from '../util/progress';
import { modelWorkerData, type ModelWorkerData } from '../workers/model';
import { workerEntry } from '../workers/entry';
import { runWorkerJobs } from '../workers/pool';
import type { Attack, AttackSpec } from './attack';
import type { ImageBatch } from '../data/types';

/** Gradient steps (image × step) one thread does per second on the MNIST CNN, measured: for the 'auto' worker count. */
const STEPS_PER_SECOND = 450;

/** Worker threads for crafting `n` images with `attack`: `option`, or for 'auto' all cores when the work repays starting them (≳ 3 s), else 1. */
export function craftWorkerCount(option: number | 'auto', attack: Attack, n: number): number {
  const batches = Math.ceil(n / attack.batchSize);
  if (option !== 'auto') {
    if (!Number.isSafeInteger(option) || option < 1)
      throw new RangeError(`workers must be a positive integer or 'auto', found ${String(option)}`);
    return Math.max(1, Math.min(option, batches));
  }
  if (tf.getBackend() === 'tensorflow') return 1; // multi-threaded already
  const seconds = (n * attack.stepsPerImage) / STEPS_PER_SECOND;
  return seconds >= 3 ? Math.max(1, Math.min(availableParallelism(), batches)) : 1;
}

/** What a crafting worker is started with. */
export interface CraftWorkerData extends ModelWorkerData {
  attack: AttackSpec;
}

/** A batch sent to a worker, and its reply. */
export interface CraftBatchMessage {
  start: number;
  count: number;
  shape: [number, number, number];
  images: Float32Array;
}
export interface CraftWorkerReply {
  type: 'ready' | 'batch' | 'progress' | 'error';
  start?: number;
  /** 'progress': the fraction of the batch at `start` done. */
  fraction?: number;
  images?: Float32Array;
  /** 'batch' of a query attack: each image's queries. */
  queries?: Int32Array;
  message?: string;
}

/**
 * The adversarial images of `data` under `attack` against `model`, crafted on `workers` threads
 * (batches of `attack.batchSize`; progress after every batch, and within batches where the attack
 * reports it: CW-L2 after each binary-search step), and for a query attack each image's queries.
 */
export async function craftOnWorkers(
  model: tf.LayersModel,
  data: ImageBatch,
  attack: Attack,
  workers: number,
  onProgress?: ProgressCallback,
): Promise<{ images: Float32Array; queries?: Int32Array }> {
  const { n, height, width, channels } = data;
  const per = height * width * channels;
  const out = new Float32Array(n * per);
  const queries = attack.plan ? new Int32Array(n) : undefined;
  const workerData: CraftWorkerData = { ...(await modelWorkerData(model)), attack: attack.spec };
  const { script, evalCode } = workerEntry(__dirname, __filename, 'craft-worker', 'craftAdversarial with workers > 1');
  let done = 0;
  const partial = new Map<number, number>(); // images done of the batches in progress, by start
  const report = () => {
    let inBatches = 0;
    for (const v of partial.values()) inBatches += v;
    onProgress?.({ stage: attack.label, done: done + inBatches, total: n, unit: 'img' });
  };
  await runWorkerJobs<CraftWorkerReply>({
    script,
    evalCode,
    workerData,
    threads: workers,
    jobs: Math.ceil(n / attack.batchSize),
    name: 'dknn-craft',
    what: 'crafting worker',
    unfinished: 'the set was crafted',
    send: (pool, w, job) => {
      const start = job * attack.batchSize;
      const count = Math.min(attack.batchSize, n - start);
      const images = data.images.slice(start * per, (start + count) * per);
      pool.post(w, { start, count, shape: [height, width, channels], images } satisfies CraftBatchMessage, [
        images.buffer,
      ]);
    },
    receive: (m) => {
      if (m.type === 'progress') {
        partial.set(m.start!, Math.round(m.fraction! * Math.min(attack.batchSize, n - m.start!)));
        report();
        return false;
      }
      out.set(m.images!, m.start! * per);
      if (queries && m.queries) queries.set(m.queries, m.start!);
      partial.delete(m.start!);
      done += m.images!.length / per;
      report();
      return true;
    },
  });
  return { images: out, queries };
}
