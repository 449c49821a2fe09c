/**
 * Activations on several threads: a pool of W threads — this one and W − 1 workers, each worker
 * with its own copy of the model (tfjs artifacts) on the main thread's backend — extracts batches
 * of images in parallel. The batches are the single-threaded ones (`batchSize` images from
 * `start`), each computed exactly as on one thread (`activation-batch.ts`), and every batch lands
 * in the caller's preallocated output rows, so the values are identical for any number of threads.
 * This thread takes its share of the batches rather than waiting, so W threads cost W − 1 model
 * copies, engines and allocators (~105 MB each on MNIST), not W; each worker has a second batch
 * queued while this thread is busy with its own, so it never waits for this one.
 *
 * A pool belongs to one model and one weight state ({@link activationPool} keys it by the model
 * and its weight hash) and stays alive between calls (a DkNN's calibrate and predict reuse its
 * fit's workers when they extract on several threads); idle workers do not keep the process
 * alive. {@link closeActivationPools} ends them all.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { extractBatchHere, layersModel, slotLayout } from './batch';
import { modelHash } from '../models/weights';
import type { ProgressCallback } from '../util/progress';
import { workerEntry } from '../workers/entry';
import type { ImageBatch } from '../data/types';
import { modelWorkerData, type ModelWorkerData } from '../workers/model';
import { WorkerPool } from '../workers/pool';

/** Below this many images, 'auto' extracts on the main thread (a worker's start-up, ~1 s, would not pay). */
export const AUTO_WORKERS_MIN_IMAGES = 2000;

/** Threads (this one included) for extracting `n` images: the option, or for 'auto' all cores from {@link AUTO_WORKERS_MIN_IMAGES} images on (1 on the multi-threaded native backend). */
export function extractWorkerCount(option: number | 'auto', n: number, batchSize: number): number {
  const batches = Math.max(1, Math.ceil(n / batchSize));
  if (option !== 'auto') {
    if (!Number.isSafeInteger(option) || option < 1)
      throw new RangeError(`workers must be a positive integer or 'auto', found ${String(option)}`);
    return Math.min(option, batches);
  }
  if (tf.getBackend() === 'tensorflow' || n < AUTO_WORKERS_MIN_IMAGES) return 1;
  return Math.min(availableParallelism(), batches);
}

/**
 * A batch sent to a worker, and its reply. The batch travels in a shared staging slot: the images
 * (count × pixels float32) from byte 0, then each layer's rows (count × dims[l]) in the asked order,
 * written there by the worker. Nothing is allocated per batch on either side.
 */
export interface ExtractBatchMessage {
  id: number;
  layers: string[];
  dims: number[];
  shape: [number, number, number];
  count: number;
  slot: SharedArrayBuffer;
}
export interface ExtractWorkerReply {
  type: 'ready' | 'batch' | 'error';
  id?: number;
  message?: string;
}

/** One batch of an extraction: images [start, end) of the data, rows from `row` of the outputs. */
interface Job {
  start: number;
  end: number;
}

/** Batches each worker has sent or queued at once (so that it never waits while this thread computes). */
const WORKER_QUEUE = 2;

/** A pool of extraction threads for one model: this thread and `size − 1` workers (see the module comment). */
export class ActivationPool {
  private readonly workers: WorkerPool<ExtractWorkerReply>;
  private failure: Error | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  /** Staging slots, WORKER_QUEUE per worker, reused by every call (grown when a call needs more). */
  private slots: SharedArrayBuffer[] = [];
  /** Settles when the extraction in progress ends (see {@link extract}). */
  private turnEnd: Promise<void> = Promise.resolve();

  private constructor(
    private readonly model: tf.LayersModel,
    readonly size: number,
    workerData: ModelWorkerData,
  ) {
    const { script, evalCode } = workerEntry(
      __dirname,
      __filename,
      'extract-worker',
      'extractActivations with workers > 1',
    );
    this.workers = new WorkerPool<ExtractWorkerReply>({
      script,
      evalCode,
      workerData,
      threads: size - 1,
      name: 'dknn-extract',
      what: 'extraction worker',
      onReply: (_, m) => {
        const p = this.pending.get(m.id!);
        this.pending.delete(m.id!);
        p?.resolve();
      },
    });
    this.workers.onFailure((e) => this.fail(e));
    this.workers.keepAlive(false);
  }

  /** Worker threads running (`size − 1` until closed, then 0). */
  get workerCount(): number {
    return this.workers.size;
  }

  /** A pool of `size` threads (this one and `size − 1` workers) running `model` (its current weights). */
  static async create(model: tf.LayersModel, size: number): Promise<ActivationPool> {
    if (!Number.isSafeInteger(size) || size < 2)
      throw new RangeError(`an activation pool needs at least 2 threads (this one and a worker), found ${size}`);
    return new ActivationPool(model, size, await modelWorkerData(model));
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Runs `job` on worker `w` through staging slot `slot`; resolves when the rows are in the slot. */
  private run(
    w: number,
    slot: SharedArrayBuffer,
    layers: string[],
    dims: number[],
    data: ImageBatch,
    job: Job,
    pixels: number,
  ): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const count = job.end - job.start;
    new Float32Array(slot, 0, count * pixels).set(data.images.subarray(job.start * pixels, job.end * pixels));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: ExtractBatchMessage = {
        id,
        layers,
        dims,
        shape: [data.height, data.width, data.channels],
        count,
        slot,
      };
      this.workers.post(w, msg);
    });
  }

  /** The staging slots for batches of `batchSize` images of `pixels` values and layers `dims`. */
  private stagingSlots(batchSize: number, pixels: number, dims: readonly number[]): SharedArrayBuffer[] {
    const bytes = 4 * slotLayout(batchSize, pixels, dims).floats;
    const want = this.workers.size * WORKER_QUEUE;
    if (this.slots.length !== want || this.slots[0].byteLength < bytes) {
      this.slots = Array.from({ length: want }, () => new SharedArrayBuffer(bytes));
    }
    return this.slots;
  }

  /**
   * Extracts `layers` for images [start, end) of `data` in batches of `batchSize`, writing batch
   * rows into `out[l]` (row 0 = image `start`), on this thread and the workers. Progress after
   * every batch.
   */
  extract(
    data: ImageBatch,
    layers: string[],
    dims: number[],
    out: Float32Array[],
    range: { start: number; end: number; batchSize: number },
    onProgress?: ProgressCallback,
    stage = `extract ${layers.join('+')}`,
  ): Promise<void> {
    // One call at a time: the staging slots are the pool's (a second call waits for the first).
    const run = this.turnEnd.then(() => this.extractNow(data, layers, dims, out, range, onProgress, stage));
    this.turnEnd = run.catch(() => undefined);
    return run;
  }

  private async extractNow(
    data: ImageBatch,
    layers: string[],
    dims: number[],
    out: Float32Array[],
    range: { start: number; end: number; batchSize: number },
    onProgress: ProgressCallback | undefined,
    stage: string,
  ): Promise<void> {
    const { start, end, batchSize } = range;
    const jobs: Job[] = [];
    for (let b = start; b < end; b += batchSize) jobs.push({ start: b, end: Math.min(end, b + batchSize) });
    let next = 0;
    let done = 0;
    const finished = (job: Job) => {
      done += job.end - job.start;
      onProgress?.({ stage, done, total: end - start, unit: 'img' });
    };
    const sub = layersModel(this.model, layers);
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    const here = async () => {
      await turn(); // the workers' first batches go out first
      while (next < jobs.length) {
        const job = jobs[next++];
        await extractBatchHere(sub, data, job.start, job.end, out, dims, start);
        finished(job);
        await turn(); // lets the workers' replies in, and their next batches out
      }
    };
    const pixels = data.height * data.width * data.channels;
    const slots = this.stagingSlots(batchSize, pixels, dims);
    const queued = (w: number, slot: SharedArrayBuffer) => async () => {
      await this.workers.ready; // this thread starts meanwhile
      if (this.failure) throw this.failure;
      while (next < jobs.length) {
        const job = jobs[next++];
        await this.run(w, slot, layers, dims, data, job, pixels);
        const count = job.end - job.start;
        const at = slotLayout(count, pixels, dims).layers;
        dims.forEach((d, l) => out[l].set(new Float32Array(slot, 4 * at[l], count * d), (job.start - start) * d));
        finished(job);
      }
    };
    this.workers.keepAlive(true); // while busy, the workers keep the process alive
    try {
      if (this.failure) throw this.failure;
      const lanes = [
        ...Array.from({ length: this.workers.size }, (_, i) =>
          Array.from({ length: WORKER_QUEUE }, (_, q) => queued(i, slots[i * WORKER_QUEUE + q])),
        ).flat(),
        here,
      ];
      await Promise.all(
        lanes.map((lane) =>
          lane().catch((e: unknown) => {
            next = jobs.length; // the other lanes stop after their current batch
            throw e;
          }),
        ),
      );
    } finally {
      if (this.failure) this.close();
      else this.workers.keepAlive(false);
    }
  }

  /** Ends the workers. */
  close(): void {
    pools.forEach((p, m) => p.pool === this && pools.delete(m));
    void this.workers.close();
  }
}

const pools = new Map<tf.LayersModel, { hash: string; pool: ActivationPool }>();

/** The pool of `size` threads for `model` in its current weights (made once, then reused; remade when the weights or the size change). */
export async function activationPool(model: tf.LayersModel, size: number): Promise<ActivationPool> {
  const hash = modelHash(model);
  const have = pools.get(model);
  if (have && have.hash === hash && have.pool.size === size) return have.pool;
  have?.pool.close();
  const pool = await ActivationPool.create(model, size);
  pools.set(model, { hash, pool });
  return pool;
}

/** Threads of `model`'s pool (this one included), 0 when it has none. */
export function activationPoolThreads(model: tf.LayersModel): number {
  return pools.get(model)?.pool.size ?? 0;
}

/** Ends the extraction workers of `model`, if it has any (a later extraction on workers starts new ones). */
export function closeActivationPool(model: tf.LayersModel): void {
  pools.get(model)?.pool.close();
}

/** Ends every extraction worker of this process. */
export function closeActivationPools(): void {
  for (const { pool } of [...pools.values()]) pool.close();
}
