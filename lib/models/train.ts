import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { seededPermutation } from '../data/split';
import type { ProgressCallback } from '../progress';
import { loadModelTensors, modelTensors, readWeightsFile, writeWeightsFile, type StoredTensor } from './serialize';

/** Labelled images as flat typed arrays (NHWC float32 in [0,1]); `ImageDataset` fits. */
export interface LabelledImages {
  images: Float32Array;
  labels: Uint8Array | Int32Array;
  n: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

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
  evalData?: LabelledImages;
  /** Progress reports (one per step; stage `train epoch e/E`, unit `img`). */
  onProgress?: ProgressCallback;
  /** Checked between steps: when aborted, training stops (the last finished epoch is checkpointed). */
  signal?: AbortSignal;
}

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
  /** True when `signal` stopped the run before the last epoch. */
  interrupted: boolean;
  /** Training throughput of this run (images per second of step time, evaluation excluded). */
  imagesPerSecond: number;
  args: Required<Omit<TrainArgs, 'checkpointPath' | 'evalData' | 'onProgress' | 'signal'>>;
}

function checkArgs(data: LabelledImages, epochs: number, batchSize: number, learningRate: number): void {
  const pixels = data.height * data.width * data.channels;
  if (data.images.length !== data.n * pixels) {
    throw new Error(`trainModel: expected ${data.n}×${data.height}×${data.width}×${data.channels} = ${data.n * pixels} pixel values, found ${data.images.length}`);
  }
  if (data.labels.length !== data.n) throw new Error(`trainModel: expected ${data.n} labels, found ${data.labels.length}`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`trainModel: epochs must be a positive integer, found ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`trainModel: batchSize must be a positive integer, found ${batchSize}`);
  if (!(learningRate > 0)) throw new Error(`trainModel: learningRate must be > 0, found ${learningRate}`);
}

/**
 * Predicts logits for `n` images in batches. Returns a fresh Float32Array [n × classes]; no
 * tensor outlives the call.
 */
export function predictLogits(model: tf.LayersModel, data: Pick<LabelledImages, 'images' | 'n' | 'height' | 'width' | 'channels'>, options: { batchSize?: number } = {}): Float32Array {
  const batchSize = options.batchSize ?? 500;
  const pixels = data.height * data.width * data.channels;
  const classes = (model.outputs[0].shape[1] as number) ?? 0;
  const out = new Float32Array(data.n * classes);
  for (let start = 0; start < data.n; start += batchSize) {
    const end = Math.min(data.n, start + batchSize);
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(start * pixels, end * pixels), [end - start, data.height, data.width, data.channels]);
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
export function evaluateAccuracy(model: tf.LayersModel, data: LabelledImages, options: { batchSize?: number } = {}): number {
  const pred = argmaxRows(predictLogits(model, data, options), data.numClasses);
  let correct = 0;
  for (let i = 0; i < data.n; i++) if (pred[i] === data.labels[i]) correct++;
  return correct / data.n;
}

interface Checkpoint {
  epochsDone: number;
  epochs: EpochRecord[];
  steps: StepRecord[];
}

/**
 * Trains `model` (which must output logits) with softmax cross-entropy and Adam, the reference's
 * recipe: shuffled each epoch with a seeded permutation, no augmentation. After every epoch a
 * checkpoint (weights, Adam moments and step count, history) is written atomically to
 * `checkpointPath`; with `resume` a later call continues from it and ends with the same weights
 * as an uninterrupted run. Updates the model's weights in place; no tensor outlives the call.
 */
export async function trainModel(model: tf.LayersModel, data: LabelledImages, args: TrainArgs = {}): Promise<TrainResult> {
  const { epochs = 6, batchSize = 500, learningRate = 0.001, seed = 1234, resume = true } = args;
  checkArgs(data, epochs, batchSize, learningRate);
  const pixels = data.height * data.width * data.channels;
  const optimizer = tf.train.adam(learningRate, 0.9, 0.999, 1e-8);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let state: Checkpoint = { epochsDone: 0, epochs: [], steps: [] };

  if (args.checkpointPath && resume && existsSync(args.checkpointPath)) {
    const file = readWeightsFile(args.checkpointPath);
    const meta = file.header.meta as { kind?: string; checkpoint?: Checkpoint; optimizerTensors?: number; args?: unknown };
    if (meta.kind !== 'training-checkpoint' || !meta.checkpoint) {
      throw new Error(`trainModel: ${args.checkpointPath} is not a training checkpoint (meta.kind = ${String(meta.kind)})`);
    }
    const expectArgs = JSON.stringify({ batchSize, learningRate, seed });
    if (JSON.stringify(meta.args) !== expectArgs) {
      throw new Error(`trainModel: checkpoint ${args.checkpointPath} was made with ${JSON.stringify(meta.args)}, this run asks for ${expectArgs}; delete it or pass resume: false`);
    }
    const weights = file.tensors.filter((t) => !t.name.startsWith('optimizer/'));
    loadModelTensors(model, weights, args.checkpointPath);
    const opt = file.tensors.filter((t) => t.name.startsWith('optimizer/'));
    const named = opt.map((t) => ({ name: t.name, tensor: tf.tensor(t.values, t.shape) }));
    await optimizer.setWeights(named);
    tf.dispose(named.map((t) => t.tensor)); // the optimizer made its own variables from them
    state = meta.checkpoint;
  }
  const resumedFromEpoch = state.epochsDone;
  const xBuf = new Float32Array(batchSize * pixels);
  const yBuf = new Int32Array(batchSize);
  let stepSeconds = 0;
  let stepImages = 0;
  let interrupted = false;

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
      const ts = performance.now();
      const x = tf.tensor4d(xBuf.subarray(0, size * pixels), [size, data.height, data.width, data.channels]);
      const y = tf.tensor1d(yBuf.subarray(0, size), 'int32');
      let correctT: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.apply(x, { training: true }) as tf.Tensor2D;
        correctT = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')));
        return tf.losses.softmaxCrossEntropy(tf.oneHot(y, data.numClasses), logits) as tf.Scalar;
      }, vars);
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      const loss = (await value.data())[0];
      const correct = (await correctT!.data())[0];
      tf.dispose([x, y, value, correctT!, ...Object.values(grads)]);
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
    state.epochs.push({ epoch: epoch + 1, loss: lossSum / stepsInEpoch, accuracy: correctSum / data.n, evalAccuracy, seconds, imagesPerSecond: data.n / seconds });
    state.epochsDone = epoch + 1;
    if (args.checkpointPath) await writeCheckpoint(args.checkpointPath, model, optimizer, state, { batchSize, learningRate, seed });
  }
  optimizer.dispose();
  return {
    epochs: state.epochs,
    steps: state.steps,
    resumedFromEpoch,
    interrupted,
    imagesPerSecond: stepSeconds > 0 ? stepImages / stepSeconds : NaN,
    args: { epochs, batchSize, learningRate, seed, resume },
  };
}

async function writeCheckpoint(path: string, model: tf.LayersModel, optimizer: tf.Optimizer, state: Checkpoint, args: object): Promise<void> {
  const opt = await optimizer.getWeights();
  const optTensors: StoredTensor[] = opt.map((w, i) => ({ name: `optimizer/${i}/${w.name}`, shape: w.tensor.shape.slice(), values: new Float32Array(w.tensor.dataSync()) }));
  opt[0].tensor.dispose(); // the step counter is a fresh scalar; the moments are the optimizer's own variables
  writeWeightsFile(path, [...modelTensors(model), ...optTensors], { kind: 'training-checkpoint', args, checkpoint: state, optimizerTensors: optTensors.length });
}
