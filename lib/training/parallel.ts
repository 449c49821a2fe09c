/**
 * Data-parallel gradients for {@link trainModel} (`workers > 1`): W − 1 `worker_threads` Workers
 * plus the calling thread each compute the gradient of the mean loss on one shard of every batch.
 *
 * Memory shared with the workers (SharedArrayBuffer): the batch (images and labels, written by
 * the main thread), the model's trainable weights (written by the main thread after every Adam
 * step), one gradient buffer per worker (written by that worker), and a control array of
 * generation counters (`Atomics`) that orders those writes and checks that every side sees the
 * step it expects. Messages carry only the step number, the shard bounds and the shard's loss.
 *
 * Determinism: shard k of a batch of `size` images is rows [⌊k·size/W⌋, ⌊(k+1)·size/W⌋); the
 * main thread takes shard 0, worker k − 1 shard k; gradients are combined in shard order.
 * The same seed and worker count therefore reproduce the same weights bit for bit.
 */
import { WorkerPool } from '../workers/pool';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../engine/backend';
import type { WasmKernelMode } from '../engine/kernels';
import { workerEntry } from '../workers/entry';
import type { EngineWorkerData } from '../workers/model';
import type { Architecture } from '../models/metadata';

/** Where one trainable weight lives in the flat shared weight and gradient buffers. */
export interface WeightSlot {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** Image geometry of a batch. */
export interface BatchGeometry {
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

/** What every worker is started with (`workerData`). */
export interface GradientWorkerData extends BatchGeometry, EngineWorkerData {
  /** Shard index of this worker (1 … W − 1; the main thread is shard 0). */
  index: number;
  architecture: Architecture;
  layout: WeightSlot[];
  /** Images of a warm-up step run before reporting ready (kernel set-up); 0 for none. */
  warmupImages: number;
  weights: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  x: SharedArrayBuffer;
  y: SharedArrayBuffer;
  /** Int32 generation counters: [0] weights (step number), [k] gradients of shard k. */
  control: SharedArrayBuffer;
}

/** Main → worker. */
export interface StepMessage {
  type: 'step';
  step: number;
  /** First row of the shard in the shared batch. */
  start: number;
  size: number;
}

/** Worker → main. */
export type WorkerReply =
  | { type: 'ready'; numTensors: number }
  | { type: 'done'; step: number; loss: number; correct: number; numTensors: number }
  | { type: 'error'; message: string; stack?: string };

/** Loss and correct predictions of one shard. */
export interface ShardResult {
  loss: number;
  correct: number;
}

/** Layout of `vars` in one flat float32 buffer, in order. */
export function weightLayout(
  weights: readonly { originalName: string; shape: readonly (number | null)[] }[],
): WeightSlot[] {
  let offset = 0;
  return weights.map((w) => {
    const shape = w.shape.map((d) => d as number);
    const length = shape.reduce((a, b) => a * b, 1);
    const slot = { name: w.originalName, shape, offset, length };
    offset += length;
    return slot;
  });
}

/** Total floats of a layout. */
export function layoutSize(layout: readonly WeightSlot[]): number {
  return layout.reduce((a, s) => a + s.length, 0);
}

/** Rows [start, end) of shard `k` of `W` for a batch of `size` rows. */
export function shardBounds(size: number, workers: number, k: number): [number, number] {
  return [Math.floor((k * size) / workers), Math.floor(((k + 1) * size) / workers)];
}

/**
 * Gradient of the mean softmax cross-entropy of `model` on `n` images (NHWC `x`, labels `y`)
 * with respect to `vars`, written into `out` at the offsets of `layout` (which lists `vars` in
 * order). Returns the mean loss and the number of correct predictions. No tensor outlives the call.
 */
export function shardGradients(
  model: tf.LayersModel,
  vars: tf.Variable[],
  layout: readonly WeightSlot[],
  geometry: BatchGeometry,
  x: Float32Array,
  y: Int32Array,
  n: number,
  out: Float32Array,
): ShardResult {
  const { height, width, channels, numClasses } = geometry;
  // Copies: the cpu backend keeps a typed array as the tensor's storage, and these are shared.
  const xt = tf.tensor4d(x.slice(0, n * height * width * channels), [n, height, width, channels]);
  const yt = tf.tensor1d(y.slice(0, n), 'int32');
  let correctT: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.apply(xt, { training: true }) as tf.Tensor2D;
    correctT = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), yt), 'float32')));
    return tf.losses.softmaxCrossEntropy(tf.oneHot(yt, numClasses), logits) as tf.Scalar;
  }, vars);
  try {
    vars.forEach((v, i) => out.set(grads[v.name].dataSync(), layout[i].offset));
    return { loss: value.dataSync()[0], correct: correctT!.dataSync()[0] };
  } finally {
    tf.dispose([xt, yt, value, correctT!, ...Object.values(grads)]);
  }
}

interface Pending {
  step: number;
  resolve: (r: ShardResult) => void;
  reject: (e: Error) => void;
}

/** Options of {@link GradientPool.start}. */
export interface GradientPoolOptions extends BatchGeometry {
  /** Shards per batch, the main thread included (≥ 2). */
  workers: number;
  architecture: Architecture;
  backend: BackendName;
  kernelMode: WasmKernelMode;
  layout: WeightSlot[];
  batchSize: number;
  /** Images of each worker's warm-up step at start (0 for none). */
  warmupImages: number;
}

/**
 * The workers of data-parallel training and the memory they share with the main thread. Create
 * with {@link GradientPool.start}; always {@link GradientPool.close} it (it terminates the workers).
 */
export class GradientPool {
  /** The shared batch: images (batchSize × pixels) and labels. */
  readonly x: Float32Array;
  readonly y: Int32Array;
  /** Gradients of the main thread's shard (not shared). */
  readonly mainGrads: Float32Array;
  /** Live tensors in each worker after its latest step (its model's weights when nothing leaks). */
  readonly workerTensors: number[];
  private readonly weights: Float32Array;
  private readonly grads: Float32Array[];
  private readonly control: Int32Array;
  private readonly pool: WorkerPool<WorkerReply>;
  private readonly pending: (Pending | undefined)[] = [];

  private constructor(private readonly options: GradientPoolOptions) {
    const pixels = options.height * options.width * options.channels;
    const total = layoutSize(options.layout);
    const floats = (n: number) => new Float32Array(new SharedArrayBuffer(4 * n));
    this.x = floats(options.batchSize * pixels);
    this.y = new Int32Array(new SharedArrayBuffer(4 * options.batchSize));
    this.weights = floats(total);
    this.grads = Array.from({ length: options.workers - 1 }, () => floats(total));
    this.control = new Int32Array(new SharedArrayBuffer(4 * options.workers));
    this.mainGrads = new Float32Array(total);
    this.workerTensors = new Array<number>(options.workers - 1).fill(0);
    const { script, evalCode } = workerEntry(__dirname, __filename, 'train-worker', 'trainModel: workers > 1');
    this.pool = new WorkerPool<WorkerReply>({
      script,
      evalCode,
      workerData: (i: number) => this.workerData(i),
      threads: options.workers - 1,
      name: 'dknn-train',
      what: 'trainModel worker',
      onReady: (i, m) => {
        if (m.type === 'ready') this.workerTensors[i] = m.numTensors;
      },
      onReply: (i, m) => this.done(i, m),
    });
    this.pool.onFailure((e) => {
      for (let i = 0; i < this.pending.length; i++) this.settle(i)?.reject(e);
    });
  }

  /** Starts W − 1 workers and waits until each has built its model (and warmed up). */
  static async start(options: GradientPoolOptions): Promise<GradientPool> {
    const pool = new GradientPool(options);
    try {
      await pool.pool.ready;
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private workerData(i: number): GradientWorkerData {
    const o = this.options;
    return {
      index: i + 1,
      architecture: o.architecture,
      backend: o.backend,
      kernelMode: o.kernelMode,
      layout: o.layout,
      warmupImages: o.warmupImages,
      height: o.height,
      width: o.width,
      channels: o.channels,
      numClasses: o.numClasses,
      weights: this.weights.buffer as SharedArrayBuffer,
      grads: this.grads[i].buffer as SharedArrayBuffer,
      x: this.x.buffer as SharedArrayBuffer,
      y: this.y.buffer as SharedArrayBuffer,
      control: this.control.buffer as SharedArrayBuffer,
    };
  }

  /** Clears and returns worker i's pending step. */
  private settle(i: number): Pending | undefined {
    const p = this.pending[i];
    this.pending[i] = undefined;
    return p;
  }

  /** A worker's result of a step: checked against the step it was asked for and the gradients it published. */
  private done(i: number, m: WorkerReply): void {
    if (m.type !== 'done') return;
    const p = this.pending[i];
    const fail = (message: string) => this.settle(i)?.reject(new Error(`trainModel worker ${i + 1}: ${message}`));
    if (!p || p.step !== m.step)
      return fail(`unexpected result of step ${m.step} (waiting for ${p ? `step ${p.step}` : 'nothing'})`);
    if (Atomics.load(this.control, i + 1) !== m.step)
      return fail(`gradients of step ${m.step} not published (found step ${Atomics.load(this.control, i + 1)})`);
    this.settle(i);
    this.workerTensors[i] = m.numTensors;
    p.resolve({ loss: m.loss, correct: m.correct });
  }

  /** Where each trainable weight lives in the shared weight and gradient buffers. */
  get layout(): readonly WeightSlot[] {
    return this.options.layout;
  }

  /** Copies the weights of `vars` (in layout order) into shared memory for step `step`. */
  publishWeights(vars: tf.Variable[], step: number): void {
    vars.forEach((v, i) => this.weights.set(v.dataSync() as Float32Array, this.options.layout[i].offset));
    Atomics.store(this.control, 0, step);
  }

  /**
   * Starts step `step` on the workers: worker k − 1 computes the gradient of shard k of the
   * `size` rows now in {@link x}/{@link y}. Resolves with the results of shards 1 … W − 1 (an
   * empty shard gives loss 0, correct 0). Rejects with the worker's message if one fails.
   */
  dispatch(step: number, size: number): Promise<ShardResult[]> {
    const jobs = Array.from({ length: this.options.workers - 1 }, (_, i) => {
      const [start, end] = shardBounds(size, this.options.workers, i + 1);
      if (end === start) return Promise.resolve({ loss: 0, correct: 0 });
      const failed = this.pool.failure;
      if (failed) return Promise.reject(failed);
      return new Promise<ShardResult>((resolve, reject) => {
        this.pending[i] = { step, resolve, reject };
        const msg: StepMessage = { type: 'step', step, start, size: end - start };
        this.pool.post(i, msg);
      });
    });
    const all = Promise.all(jobs);
    all.catch(() => undefined); // the caller may fail on its own shard before awaiting this
    return all;
  }

  /** The gradients of shard `k` (0 = main thread). */
  shardGrads(k: number): Float32Array {
    return k === 0 ? this.mainGrads : this.grads[k - 1];
  }

  /** Terminates every worker. Safe to call more than once. */
  async close(): Promise<void> {
    const err = new Error('trainModel: worker pool closed');
    for (let i = 0; i < this.pending.length; i++) this.settle(i)?.reject(err);
    await this.pool.close();
  }
}
