/**
 * Crafting on worker threads: the attack's batches are spread over W workers, each with its own
 * copy of the model (sent as tfjs model artifacts) and the same engine backend, fed in batch order
 * as they finish. Every batch is attacked exactly as on the main thread, so the adversarial set is
 * identical for any number of workers.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { ImageBatch } from '../activations';
import { wasmKernelMode } from '../kernels';
import type { ProgressCallback } from '../progress';
import { workerEntry } from '../util/worker-entry';
import type { Attack } from './attack';

/** Gradient steps (image × step) one thread does per second on the MNIST CNN, measured: for the 'auto' worker count. */
const STEPS_PER_SECOND = 450;

/** Worker threads for crafting `n` images with `attack`: `option`, or for 'auto' all cores when the work repays starting them (≳ 3 s), else 1. */
export function craftWorkerCount(option: number | 'auto', attack: Attack, n: number): number {
  const batches = Math.ceil(n / attack.batchSize);
  if (option !== 'auto') {
    if (!Number.isSafeInteger(option) || option < 1) throw new RangeError(`workers must be a positive integer or 'auto', found ${String(option)}`);
    return Math.max(1, Math.min(option, batches));
  }
  if (tf.getBackend() === 'tensorflow') return 1; // multi-threaded already
  const seconds = (n * attack.stepsPerImage) / STEPS_PER_SECOND;
  return seconds >= 3 ? Math.max(1, Math.min(availableParallelism(), batches)) : 1;
}

/** What a crafting worker is started with. */
export interface CraftWorkerData {
  artifacts: tf.io.ModelArtifacts;
  backend: string;
  kernelMode: string;
  attack: { name: string; options: Record<string, unknown> };
}

/** A batch sent to a worker, and its reply. */
export interface CraftBatchMessage {
  start: number;
  count: number;
  shape: [number, number, number];
  images: Float32Array;
}
export interface CraftWorkerReply {
  type: 'ready' | 'batch' | 'error';
  start?: number;
  images?: Float32Array;
  message?: string;
}

/** The model as tfjs artifacts (topology + weights), to rebuild it in a worker. */
export async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let out: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    out = { ...a, weightData: tf.io.CompositeArrayBuffer.join(a.weightData!) };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return out!;
}

/**
 * The adversarial images of `data` under `attack` against `model`, crafted on `workers` threads
 * (batches of `attack.batchSize`, progress after every batch).
 */
export async function craftOnWorkers(model: tf.LayersModel, data: ImageBatch, attack: Attack, workers: number, onProgress?: ProgressCallback): Promise<Float32Array> {
  const { n, height, width, channels } = data;
  const per = height * width * channels;
  const out = new Float32Array(n * per);
  const workerData: CraftWorkerData = {
    artifacts: await modelArtifacts(model), backend: tf.getBackend(), kernelMode: wasmKernelMode(),
    attack: { name: attack.name, options: { ...attack.options } },
  }; // prettier-ignore
  const { script, evalCode } = workerEntry(__dirname, __filename, 'craft-worker', 'craftAdversarial with workers > 1');
  const threads: Worker[] = [];
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
        if (failed || next >= n) return;
        const start = next;
        const count = Math.min(attack.batchSize, n - start);
        next += count;
        const images = data.images.slice(start * per, (start + count) * per);
        w.postMessage({ start, count, shape: [height, width, channels], images } satisfies CraftBatchMessage, [images.buffer]);
      };
      for (let i = 0; i < workers; i++) {
        const w = new Worker(script, { eval: evalCode, workerData, execArgv: process.execArgv, name: `dknn-craft-${i + 1}` });
        threads.push(w);
        w.on('message', (m: CraftWorkerReply) => {
          if (m.type === 'error') return fail(new Error(`crafting worker ${i + 1} failed: ${m.message}`));
          if (m.type === 'ready') return feed(w);
          out.set(m.images!, m.start! * per);
          done += m.images!.length / per;
          onProgress?.({ stage: attack.label, done, total: n, unit: 'img' });
          if (done === n) resolve();
          else feed(w);
        });
        w.on('error', (e) => fail(new Error(`crafting worker ${i + 1} failed: ${e.message}`)));
        w.on('exit', (code) => {
          if (done < n) fail(new Error(`crafting worker ${i + 1} exited with code ${code} before the set was crafted`));
        });
      }
    });
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
  return out;
}
