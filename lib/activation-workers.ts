/**
 * Activations on worker threads: a pool of W workers, each with its own copy of the model (tfjs
 * artifacts) on the main thread's backend, extracts batches of images in parallel. The batches
 * are the single-threaded ones (`batchSize` images from `start`), each computed exactly as on the
 * main thread, and every batch lands in the caller's preallocated output rows, so the values are
 * identical for any number of workers.
 *
 * A pool belongs to one model and one weight state ({@link activationPool} keys it by the model
 * and its weight hash) and stays alive between calls (a DkNN's calibrate and predict reuse its
 * fit's workers); idle workers do not keep the process alive. {@link closeActivationPools} ends
 * them all.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { ImageBatch } from './activations';
import { modelArtifacts } from './attacks/parallel';
import { wasmKernelMode, type WasmKernelMode } from './kernels';
import { modelHash } from './models/weights';
import type { ProgressCallback } from './progress';
import { workerEntry } from './util/worker-entry';

/** Below this many images, 'auto' extracts on the main thread (a worker's start-up, ~1 s, would not pay). */
export const AUTO_WORKERS_MIN_IMAGES = 2000;

/** Worker threads for extracting `n` images: the option, or for 'auto' all cores from {@link AUTO_WORKERS_MIN_IMAGES} images on (1 on the multi-threaded native backend). */
export function extractWorkerCount(option: number | 'auto', n: number, batchSize: number): number {
  const batches = Math.max(1, Math.ceil(n / batchSize));
  if (option !== 'auto') {
    if (!Number.isSafeInteger(option) || option < 1) throw new RangeError(`workers must be a positive integer or 'auto', found ${String(option)}`);
    return Math.min(option, batches);
  }
  if (tf.getBackend() === 'tensorflow' || n < AUTO_WORKERS_MIN_IMAGES) return 1;
  return Math.min(availableParallelism(), batches);
}

/** What an extraction worker is started with. */
export interface ExtractWorkerData {
  artifacts: tf.io.ModelArtifacts;
  backend: string;
  kernelMode: WasmKernelMode;
}

/** A batch sent to a worker, and its reply (one array per layer, in the asked order). */
export interface ExtractBatchMessage {
  id: number;
  layers: string[];
  shape: [number, number, number];
  count: number;
  images: Float32Array;
}
export interface ExtractWorkerReply {
  type: 'ready' | 'batch' | 'error';
  id?: number;
  values?: Float32Array[];
  message?: string;
}

/** One batch of an extraction: images [start, end) of the data, rows from `row` of the outputs. */
interface Job {
  start: number;
  end: number;
}

/** A pool of extraction workers for one model (see the module comment). */
export class ActivationPool {
  private readonly workers: Worker[] = [];
  private readonly ready: Promise<void>;
  private failure: Error | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }>();

  private constructor(readonly size: number, workerData: ExtractWorkerData) {
    const { script, evalCode } = workerEntry(__dirname, __filename, 'extract-worker', 'extractActivations with workers > 1');
    const readies: Promise<void>[] = [];
    for (let i = 0; i < size; i++) {
      const w = new Worker(script, { eval: evalCode, workerData, execArgv: process.execArgv, name: `dknn-extract-${i + 1}` });
      this.workers.push(w);
      readies.push(new Promise<void>((resolve, reject) => {
        w.on('message', (m: ExtractWorkerReply) => {
          if (m.type === 'ready') return resolve();
          if (m.type === 'error') {
            const e = new Error(`extraction worker ${i + 1} failed: ${m.message}`);
            reject(e);
            return this.fail(e);
          }
          const p = this.pending.get(m.id!);
          this.pending.delete(m.id!);
          p?.resolve(m.values!);
        });
        w.on('error', (e) => {
          const err = new Error(`extraction worker ${i + 1} failed: ${e.message}`);
          reject(err);
          this.fail(err);
        });
        w.on('exit', (code) => this.fail(new Error(`extraction worker ${i + 1} exited with code ${code}`)));
      }));
    }
    this.ready = Promise.all(readies).then(() => undefined);
    this.ready.catch(() => undefined);
    this.idle();
  }

  /** A pool of `size` workers running `model` (its current weights). */
  static async create(model: tf.LayersModel, size: number): Promise<ActivationPool> {
    return new ActivationPool(size, { artifacts: await modelArtifacts(model), backend: tf.getBackend(), kernelMode: wasmKernelMode() });
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private idle(): void {
    for (const w of this.workers) w.unref();
  }

  private run(w: Worker, layers: string[], data: ImageBatch, job: Job): Promise<Float32Array[]> {
    if (this.failure) return Promise.reject(this.failure);
    const per = data.height * data.width * data.channels;
    const id = this.nextId++;
    const images = data.images.slice(job.start * per, job.end * per);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: ExtractBatchMessage = { id, layers, shape: [data.height, data.width, data.channels], count: job.end - job.start, images };
      w.postMessage(msg, [images.buffer]);
    });
  }

  /**
   * Extracts `layers` for images [start, end) of `data` in batches of `batchSize`, writing batch
   * rows into `out[l]` (row 0 = image `start`). Progress after every batch.
   */
  async extract(data: ImageBatch, layers: string[], dims: number[], out: Float32Array[], range: { start: number; end: number; batchSize: number }, onProgress?: ProgressCallback, stage = `extract ${layers.join('+')}`): Promise<void> {
    const { start, end, batchSize } = range;
    const jobs: Job[] = [];
    for (let b = start; b < end; b += batchSize) jobs.push({ start: b, end: Math.min(end, b + batchSize) });
    let next = 0;
    let done = 0;
    for (const w of this.workers) w.ref(); // while busy, the workers keep the process alive
    try {
      await this.ready;
      if (this.failure) throw this.failure;
      await Promise.all(this.workers.map(async (w) => {
        while (next < jobs.length) {
          const job = jobs[next++];
          const values = await this.run(w, layers, data, job);
          values.forEach((v, l) => out[l].set(v, (job.start - start) * dims[l]));
          done += job.end - job.start;
          onProgress?.({ stage, done, total: end - start, unit: 'img' });
        }
      }));
    } finally {
      if (this.failure) this.close();
      else this.idle();
    }
  }

  /** Ends the workers. */
  close(): void {
    pools.forEach((p, m) => p.pool === this && pools.delete(m));
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }
}

const pools = new Map<tf.LayersModel, { hash: string; pool: ActivationPool }>();

/** The pool of `size` workers for `model` in its current weights (made once, then reused; remade when the weights or the size change). */
export async function activationPool(model: tf.LayersModel, size: number): Promise<ActivationPool> {
  const hash = modelHash(model);
  const have = pools.get(model);
  if (have && have.hash === hash && have.pool.size === size) return have.pool;
  have?.pool.close();
  const pool = await ActivationPool.create(model, size);
  pools.set(model, { hash, pool });
  return pool;
}

/** Ends every extraction worker of this process. */
export function closeActivationPools(): void {
  for (const { pool } of [...pools.values()]) pool.close();
}
