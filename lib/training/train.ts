import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../engine/backend';
import { seededPermutation } from '../data/split';
import { createRng, type Rng } from '../util/random';
import { wasmKernelMode } from '../engine/kernels';
import type { ProgressCallback } from '../util/progress';
import { GradientPool, shardBounds, shardGradients, weightLayout } from './parallel';
import { readContainer, writeContainer } from '../artifacts/container';
import { loadModelTensors, modelTensors, type StoredTensor } from '../models/weights';
import type { Architecture } from '../models/zoo';
import type { LabeledImages } from '../data/types';

/** Options of {@link trainModel}; defaults are the reference's (CleverHans MNIST tutorial). */
export interface TrainArgs {
  /** Passes over the training data. Default 6. */
  epochs?: number;
  /** Images per Adam step. Default 500. */
  batchSize?: number;
  /** Adam learning rate (β1 0.9, β2 0.999, ε 1e-8). Default 0.001. */
  learningRate?: number;
  /** Seed of the per-epoch shuffling (epoch e uses permutation seed `seed + e`). Default 1234. */
  seed?: number;
  /** Where to write a checkpoint (weights + Adam state + history) after every epoch, atomically. */
  checkpointPath?: string;
  /** Continue from `checkpointPath` when it exists. Default true. */
  resume?: boolean;
  /** Evaluated after every epoch (accuracy recorded in the history), e.g. the test set. */
  evalData?: LabeledImages;
  /** Progress reports (one per step; stage `train epoch e/E`, unit `img`). */
  onProgress?: ProgressCallback;
  /** Checked between steps: when aborted, training stops (the last finished epoch is checkpointed). */
  signal?: AbortSignal;
  /**
   * Threads computing gradients, the calling thread included. Default 1: everything in this
   * thread (the tfjs wasm backend is single-threaded under Node, so this uses one core).
   * W > 1: data-parallel training on W − 1 `worker_threads` Workers plus this thread: every batch
   * is split into W equal-ish shards (fixed order), each thread computes the gradient of the mean
   * loss on its shard with its own copy of the model, this thread combines them weighted by shard
   * size (the gradient of the full batch's mean loss) and applies Adam once; weights and gradients
   * travel through SharedArrayBuffers. Use W = number of cores (2 on a 2-core machine).
   *
   * Same seed and same `workers` give identical weights; different `workers` differ only by float
   * summation order (≈ 1e-5 relative after a few steps). Needs {@link architecture}; the model must
   * have no non-trainable weights. Checkpoints do not record `workers`: a run may resume with another
   * value. Pointless with the `tensorflow` backend, which is multi-threaded already.
   */
  workers?: number;
  /**
   * The zoo architecture `model` was built from (see `createModel`): each worker builds its own copy
   * from it. Required when `workers > 1`, ignored otherwise.
   */
  architecture?: Architecture;
  /**
   * Early stopping: after every epoch the accuracy on `data` (a validation set, e.g. from
   * `splitByGroup`) is measured; training stops when it has not improved for `patience` epochs,
   * and the model ends with the weights of its best epoch (`TrainResult.earlyStopping`).
   */
  earlyStopping?: { data: LabeledImages; patience: number };
  /**
   * Data augmentation: called on every batch (its images, in place) with a generator seeded by the
   * seed and the step, so a run is reproducible (e.g. {@link randomShiftAugment}). Default: none.
   */
  augment?: (images: Float32Array, n: number, shape: [number, number, number], rng: Rng) => void;
}

export { randomShiftAugment } from './augment';

/** One finished epoch. */
export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  /** Training accuracy over the epoch (weights changing as it goes). */
  accuracy: number;
  /** Accuracy on `evalData` after the epoch (NaN without evalData). */
  evalAccuracy: number;
  seconds: number;
  imagesPerSecond: number;
  /** Threads that computed the gradients (`TrainArgs.workers`; absent in checkpoints made before the option existed). */
  workers?: number;
  /** With early stopping: the accuracy on the validation set after the epoch. */
  validationAccuracy?: number;
}

/** One Adam step. */
export interface StepRecord {
  epoch: number;
  step: number;
  loss: number;
  accuracy: number;
}

/** What {@link trainModel} returns. */
export interface TrainResult {
  epochs: EpochRecord[];
  steps: StepRecord[];
  /** Epochs already done in the checkpoint this run resumed from (0 if none). */
  resumedFromEpoch: number;
  /** With early stopping: the epoch whose weights the model ends with, its validation accuracy, and whether training stopped early. */
  earlyStopping?: { bestEpoch: number; bestAccuracy: number; stopped: boolean; validationAccuracy: number[] };
  /** True when `signal` stopped the run before the last epoch. */
  interrupted: boolean;
  /** Training throughput of this run (images per second of step time, evaluation excluded). */
  imagesPerSecond: number;
  args: Required<
    Omit<
      TrainArgs,
      'checkpointPath' | 'evalData' | 'onProgress' | 'signal' | 'architecture' | 'earlyStopping' | 'augment'
    >
  >;
  /**
   * With `workers > 1`: the live tensors of each worker at the end (the weights of its model copy
   * when nothing leaks), in worker order.
   */
  workerTensors?: number[];
}

/** The size of the model's (single) output: its number of classes. */
function outputUnits(model: tf.LayersModel): number {
  const shape = model.outputs[0].shape;
  const units = shape[shape.length - 1];
  if (typeof units !== 'number')
    throw new Error(
      `trainModel: the model's output shape [${shape.join(', ')}] has no known class count; give the data's numClasses`,
    );
  return units;
}

function checkArgs(
  data: LabeledImages,
  epochs: number,
  batchSize: number,
  learningRate: number,
  workers: number,
): void {
  const pixels = data.height * data.width * data.channels;
  if (data.images.length !== data.n * pixels) {
    throw new Error(
      `trainModel: expected ${data.n}×${data.height}×${data.width}×${data.channels} = ${data.n * pixels} pixel values, found ${data.images.length}`,
    );
  }
  if (data.labels.length !== data.n)
    throw new Error(`trainModel: expected ${data.n} labels, found ${data.labels.length}`);
  if (data.n === 0) throw new Error('trainModel: the training set is empty; expected at least 1 labelled image');
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new Error(`trainModel: epochs must be a positive integer, found ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`trainModel: batchSize must be a positive integer, found ${batchSize}`);
  if (!(learningRate > 0)) throw new Error(`trainModel: learningRate must be > 0, found ${learningRate}`);
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`trainModel: workers must be a positive integer, found ${workers}`);
}

/** Checks what data-parallel training needs of the model and the arguments. */
function checkParallel(model: tf.LayersModel, args: TrainArgs, workers: number): Architecture {
  if (!args.architecture) {
    throw new Error(
      `trainModel: workers = ${workers} needs args.architecture (the zoo Architecture the model was built from, e.g. { name: 'mnist-cnn', args: { seed: 1234 } }) so that each worker can build its own copy; pass it, or use workers: 1`,
    );
  }
  if (model.weights.length !== model.trainableWeights.length) {
    const frozen = model.weights.filter((w) => !w.trainable).map((w) => w.originalName);
    throw new Error(
      `trainModel: workers > 1 supports only models whose weights are all trainable; found non-trainable ${frozen.join(', ')}; use workers: 1`,
    );
  }
  return args.architecture;
}

/**
 * Predicts logits for `n` images in batches. Returns a fresh Float32Array [n × classes]; no
 * tensor outlives the call.
 */
export function predictLogits(
  model: tf.LayersModel,
  data: Pick<LabeledImages, 'images' | 'n' | 'height' | 'width' | 'channels'>,
  options: { batchSize?: number } = {},
): Float32Array {
  const batchSize = options.batchSize ?? 500;
  const pixels = data.height * data.width * data.channels;
  const classes = (model.outputs[0].shape[1] as number) ?? 0;
  const out = new Float32Array(data.n * classes);
  for (let start = 0; start < data.n; start += batchSize) {
    const end = Math.min(data.n, start + batchSize);
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(start * pixels, end * pixels), [
        end - start,
        data.height,
        data.width,
        data.channels,
      ]);
      return model.predict(x) as tf.Tensor;
    });
    out.set(logits.dataSync(), start * classes);
    logits.dispose();
  }
  return out;
}

/** Index of the largest value in each row of a row-major [rows × cols] array (lowest index on ties). */
export function argmaxRows(values: Float32Array, cols: number): Int32Array {
  const rows = values.length / cols;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** Fraction of `data` the model classifies correctly. */
export function evaluateAccuracy(
  model: tf.LayersModel,
  data: LabeledImages,
  options: { batchSize?: number } = {},
): number {
  const logits = predictLogits(model, data, options);
  const pred = argmaxRows(logits, data.n > 0 ? logits.length / data.n : 1);
  let correct = 0;
  for (let i = 0; i < data.n; i++) if (pred[i] === data.labels[i]) correct++;
  return correct / data.n;
}

interface Checkpoint {
  epochsDone: number;
  epochs: EpochRecord[];
  steps: StepRecord[];
  /** With early stopping: the best validation accuracy so far and its epoch (its weights are stored as `best/…`). */
  best?: { epoch: number; accuracy: number };
}

/**
 * Trains `model` (which must output logits) with softmax cross-entropy and Adam, the reference's
 * recipe: shuffled each epoch with a seeded permutation, no augmentation. After every epoch a
 * checkpoint (weights, Adam moments and step count, history) is written atomically to
 * `checkpointPath`; with `resume` a later call continues from it and ends with the same weights
 * as an uninterrupted run. Updates the model's weights in place; no tensor outlives the call.
 */
export async function trainModel(
  model: tf.LayersModel,
  data: LabeledImages,
  args: TrainArgs = {},
): Promise<TrainResult> {
  const { epochs = 6, batchSize = 500, learningRate = 0.001, seed = 1234, resume = true, workers = 1 } = args;
  checkArgs(data, epochs, batchSize, learningRate, workers);
  const numClasses = data.numClasses ?? outputUnits(model);
  const architecture = workers > 1 ? checkParallel(model, args, workers) : undefined;
  const pixels = data.height * data.width * data.channels;
  const optimizer = tf.train.adam(learningRate, 0.9, 0.999, 1e-8);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let state: Checkpoint = { epochsDone: 0, epochs: [], steps: [] };
  let bestWeights: StoredTensor[] = [];
  const es = args.earlyStopping;
  if (es && (!Number.isSafeInteger(es.patience) || es.patience < 1))
    throw new Error(`trainModel: earlyStopping.patience must be a positive integer, found ${es.patience}`);
  let stopped = false;

  if (args.checkpointPath && resume && existsSync(args.checkpointPath)) {
    const file = readContainer(args.checkpointPath);
    const tensors: StoredTensor[] = file.arrays.map((a) => ({
      name: a.name,
      shape: a.shape,
      values: a.values as Float32Array,
    }));
    const meta = file.meta as { kind?: string; checkpoint?: Checkpoint; optimizerTensors?: number; args?: unknown };
    if (meta.kind !== 'training-checkpoint' || !meta.checkpoint) {
      throw new Error(
        `trainModel: ${args.checkpointPath} is not a training checkpoint (meta.kind = ${String(meta.kind)})`,
      );
    }
    const expectArgs = JSON.stringify({ batchSize, learningRate, seed });
    if (JSON.stringify(meta.args) !== expectArgs) {
      throw new Error(
        `trainModel: checkpoint ${args.checkpointPath} was made with ${JSON.stringify(meta.args)}, this run asks for ${expectArgs}; delete it or pass resume: false`,
      );
    }
    const weights = tensors.filter((t) => !t.name.startsWith('optimizer/') && !t.name.startsWith('best/'));
    loadModelTensors(model, weights, args.checkpointPath);
    bestWeights = tensors.filter((t) => t.name.startsWith('best/')).map((t) => ({ ...t, name: t.name.slice(5) }));
    const opt = tensors.filter((t) => t.name.startsWith('optimizer/'));
    const named = opt.map((t) => ({ name: t.name, tensor: tf.tensor(t.values, t.shape) }));
    await optimizer.setWeights(named);
    tf.dispose(named.map((t) => t.tensor)); // the optimizer made its own variables from them
    state = meta.checkpoint;
  }
  const resumedFromEpoch = state.epochsDone;
  let stepSeconds = 0;
  let stepImages = 0;
  let interrupted = false;
  let pool: GradientPool | undefined;
  try {
    if (architecture) {
      pool = await GradientPool.start({
        workers,
        architecture,
        backend: tf.getBackend() as BackendName,
        kernelMode: wasmKernelMode(),
        layout: weightLayout(model.trainableWeights),
        batchSize,
        height: data.height,
        width: data.width,
        channels: data.channels,
        numClasses,
        warmupImages: Math.ceil(Math.min(batchSize, data.n) / workers),
      });
    }
    const xBuf = pool?.x ?? new Float32Array(batchSize * pixels);
    const yBuf = pool?.y ?? new Int32Array(batchSize);
    let stepId = 0;

    for (let epoch = state.epochsDone; epoch < epochs; epoch++) {
      const perm = seededPermutation(data.n, seed + epoch);
      const t0 = performance.now();
      let lossSum = 0;
      let correctSum = 0;
      let stepsInEpoch = 0;
      for (let start = 0; start < data.n; start += batchSize) {
        if (args.signal?.aborted) {
          interrupted = true;
          break;
        }
        const size = Math.min(batchSize, data.n - start);
        for (let i = 0; i < size; i++) {
          const src = perm[start + i];
          xBuf.set(data.images.subarray(src * pixels, (src + 1) * pixels), i * pixels);
          yBuf[i] = data.labels[src];
        }
        if (args.augment)
          args.augment(
            xBuf.subarray(0, size * pixels),
            size,
            [data.height, data.width, data.channels],
            createRng(seed * 1_000_003 + state.steps.length + 1),
          );
        const ts = performance.now();
        let loss: number;
        let correct: number;
        if (pool) {
          ({ loss, correct } = await parallelStep(pool, model, vars, optimizer, data, workers, ++stepId, size));
        } else {
          const x = tf.tensor4d(xBuf.subarray(0, size * pixels), [size, data.height, data.width, data.channels]);
          const y = tf.tensor1d(yBuf.subarray(0, size), 'int32');
          let correctT: tf.Tensor | undefined;
          const { value, grads } = tf.variableGrads(() => {
            const logits = model.apply(x, { training: true }) as tf.Tensor2D;
            correctT = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')));
            return tf.losses.softmaxCrossEntropy(tf.oneHot(y, numClasses), logits) as tf.Scalar;
          }, vars);
          optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
          loss = (await value.data())[0];
          correct = (await correctT!.data())[0];
          tf.dispose([x, y, value, correctT!, ...Object.values(grads)]);
        }
        if (!Number.isFinite(loss)) {
          throw new Error(
            `trainModel: the loss became ${loss} at step ${state.steps.length + 1} (epoch ${epoch + 1}): the weights diverged ` +
              `(learning rate ${learningRate} too large?); training stopped, no checkpoint of this epoch was written`,
          );
        }
        stepSeconds += (performance.now() - ts) / 1000;
        stepImages += size;
        lossSum += loss;
        correctSum += correct;
        stepsInEpoch++;
        state.steps.push({ epoch: epoch + 1, step: state.steps.length + 1, loss, accuracy: correct / size });
        args.onProgress?.({
          stage: `train epoch ${epoch + 1}/${epochs}`,
          done: start + size,
          total: data.n,
          unit: 'img',
          metrics: { loss: lossSum / stepsInEpoch, acc: correctSum / (start + size) },
        });
      }
      if (interrupted) {
        // Drop the partial epoch: a resumed run redoes it from its start with the same permutation.
        state.steps = state.steps.filter((s) => s.epoch <= state.epochsDone);
        break;
      }
      const seconds = (performance.now() - t0) / 1000;
      const evalAccuracy = args.evalData ? evaluateAccuracy(model, args.evalData) : NaN;
      const validation = es ? evaluateAccuracy(model, es.data) : undefined;
      state.epochs.push({
        epoch: epoch + 1,
        loss: lossSum / stepsInEpoch,
        accuracy: correctSum / data.n,
        evalAccuracy,
        seconds,
        imagesPerSecond: data.n / seconds,
        workers,
        ...(validation !== undefined ? { validationAccuracy: validation } : {}),
      });
      state.epochsDone = epoch + 1;
      if (es && validation !== undefined && (!state.best || validation > state.best.accuracy)) {
        state.best = { epoch: epoch + 1, accuracy: validation };
        bestWeights = modelTensors(model);
      }
      if (args.checkpointPath)
        await writeCheckpoint(
          args.checkpointPath,
          model,
          optimizer,
          state,
          { batchSize, learningRate, seed },
          bestWeights,
        );
      if (es && state.best && epoch + 1 - state.best.epoch >= es.patience) {
        stopped = true;
        break;
      }
    }
    if (es && state.best && bestWeights.length) loadModelTensors(model, bestWeights, 'the best epoch');
  } finally {
    optimizer.dispose();
    await pool?.close();
  }
  return {
    epochs: state.epochs,
    steps: state.steps,
    resumedFromEpoch,
    interrupted,
    // A resumed call that had no epoch left to run reports the throughput of the epochs it resumed.
    imagesPerSecond: stepSeconds > 0 ? stepImages / stepSeconds : historyImagesPerSecond(state.epochs),
    args: { epochs, batchSize, learningRate, seed, resume, workers },
    ...(es && state.best
      ? {
          earlyStopping: {
            bestEpoch: state.best.epoch,
            bestAccuracy: state.best.accuracy,
            stopped,
            validationAccuracy: state.epochs.map((e) => e.validationAccuracy ?? NaN),
          },
        }
      : {}),
    ...(pool ? { workerTensors: [...pool.workerTensors] } : {}),
  };
}

/**
 * One data-parallel Adam step on the `size` images in `pool.x`/`pool.y`: publishes the weights,
 * starts shards 1 … W − 1 on the workers, computes shard 0 here, combines the gradients in shard
 * order weighted by shard size (= the gradient of the batch's mean loss) and applies Adam.
 */
async function parallelStep(
  pool: GradientPool,
  model: tf.LayersModel,
  vars: tf.Variable[],
  optimizer: tf.Optimizer,
  data: LabeledImages,
  workers: number,
  stepId: number,
  size: number,
): Promise<{ loss: number; correct: number }> {
  pool.publishWeights(vars, stepId);
  const others = pool.dispatch(stepId, size);
  const layout = pool.layout;
  const [, mainEnd] = shardBounds(size, workers, 0);
  const main =
    mainEnd > 0
      ? shardGradients(
          model,
          vars,
          layout,
          { ...data, numClasses: data.numClasses ?? outputUnits(model) },
          pool.x,
          pool.y,
          mainEnd,
          pool.mainGrads,
        )
      : { loss: 0, correct: 0 };
  const shards = [main, ...(await others)];
  // Combined in place in shard 0's buffer, shard by shard in a fixed order (deterministic).
  const sum = pool.mainGrads;
  let loss = 0;
  let correct = 0;
  for (let k = 0; k < workers; k++) {
    const [a, b] = shardBounds(size, workers, k);
    const w = (b - a) / size;
    if (k === 0) {
      if (w === 0) sum.fill(0);
      else for (let i = 0; i < sum.length; i++) sum[i] *= w;
    } else if (w > 0) {
      const g = pool.shardGrads(k);
      for (let i = 0; i < sum.length; i++) sum[i] += w * g[i];
    }
    loss += w * shards[k].loss;
    correct += shards[k].correct;
  }
  const named = vars.map((v, i) => ({
    name: v.name,
    tensor: tf.tensor(sum.slice(layout[i].offset, layout[i].offset + layout[i].length), layout[i].shape, 'float32'),
  }));
  optimizer.applyGradients(named);
  tf.dispose(named.map((g) => g.tensor));
  return { loss, correct };
}

async function writeCheckpoint(
  path: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: Checkpoint,
  args: object,
  best: StoredTensor[] = [],
): Promise<void> {
  const opt = await optimizer.getWeights();
  const optTensors: StoredTensor[] = opt.map((w, i) => ({
    name: `optimizer/${i}/${w.name}`,
    shape: w.tensor.shape.slice(),
    values: new Float32Array(w.tensor.dataSync()),
  }));
  opt[0].tensor.dispose(); // the step counter is a fresh scalar; the moments are the optimizer's own variables
  writeContainer(
    path,
    [...modelTensors(model), ...optTensors, ...best.map((t) => ({ ...t, name: `best/${t.name}` }))].map((t) => ({
      name: t.name,
      values: t.values,
      shape: t.shape,
    })),
    { kind: 'training-checkpoint', args, checkpoint: state, optimizerTensors: optTensors.length },
  );
}

/** Images per second over the recorded epochs (0 when there are none). */
function historyImagesPerSecond(epochs: readonly { seconds: number; imagesPerSecond: number }[]): number {
  const seconds = epochs.reduce((s, e) => s + e.seconds, 0);
  return seconds > 0 ? epochs.reduce((s, e) => s + e.imagesPerSecond * e.seconds, 0) / seconds : 0;
}
