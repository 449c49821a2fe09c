/**
 * `trainModel`: softmax cross-entropy and Adam on a model that outputs logits, the reference's
 * recipe ({@link TRAIN_DEFAULTS}): shuffled each epoch with a seeded permutation. The steps: check
 * and resolve the arguments, resume from a checkpoint (`checkpoint.ts`), start the gradient
 * workers when asked (`parallel.ts`), then epoch after epoch one Adam step per batch (`step.ts`),
 * each epoch evaluated, recorded and checkpointed; early stopping keeps the best epoch's weights.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../engine/backend';
import { wasmKernelMode } from '../engine/kernels';
import { seededPermutation } from '../data/split';
import type { LabeledImages } from '../data/types';
import { evaluateAccuracy, outputUnits } from '../models/predict';
import { loadModelTensors, modelTensors } from '../models/weights';
import type { Architecture } from '../models/metadata';
import { checkCheckpointPath, resumeCheckpoint, writeCheckpoint, type TrainingState } from './checkpoint';
import { trainingKey, type TrainingKey } from './identity';
import { ADAM, TRAIN_DEFAULTS, trainingRecipe } from './defaults';
import { GradientPool, weightLayout } from './parallel';
import { adamStep, fillBatch, type Stepper } from './step';
import type { TrainArgs, TrainResult } from './types';

/** The resolved arguments of one run. */
type Run = TrainResult['args'] & { numClasses: number; architecture?: Architecture; key?: TrainingKey };

function checkArgs(data: LabeledImages, run: Run, args: TrainArgs): void {
  const { epochs, batchSize, learningRate, workers } = run;
  const pixels = data.height * data.width * data.channels;
  if (data.images.length !== data.n * pixels) {
    throw new Error(
      `trainModel: expected ${data.n}×${data.height}×${data.width}×${data.channels} = ${data.n * pixels} pixel values, found ${data.images.length}`,
    );
  }
  if (data.labels.length !== data.n)
    throw new Error(`trainModel: expected ${data.n} labels, found ${data.labels.length}`);
  if (data.n === 0) throw new Error('trainModel: the training set is empty; expected at least 1 labeled image');
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new Error(`trainModel: epochs must be a positive integer, found ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`trainModel: batchSize must be a positive integer, found ${batchSize}`);
  if (!(learningRate > 0 && Number.isFinite(learningRate)))
    throw new Error(`trainModel: learningRate must be > 0, found ${learningRate}`);
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`trainModel: workers must be a positive integer, found ${workers}`);
  const es = args.earlyStopping;
  if (es && (!Number.isSafeInteger(es.patience) || es.patience < 1))
    throw new Error(`trainModel: earlyStopping.patience must be a positive integer, found ${es.patience}`);
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

/** The run's arguments with the defaults filled in, checked. */
function resolveRun(model: tf.LayersModel, data: LabeledImages, args: TrainArgs): Run {
  const run: Run = { ...trainingRecipe(args), resume: args.resume ?? TRAIN_DEFAULTS.resume, numClasses: 0 };
  checkArgs(data, run, args);
  run.numClasses = data.numClasses ?? outputUnits(model);
  if (run.workers > 1) run.architecture = checkParallel(model, args, run.workers);
  if (args.checkpointPath !== undefined) checkCheckpointPath(args.checkpointPath);
  return run;
}

/** The gradient workers of a data-parallel run. */
function startPool(
  model: tf.LayersModel,
  data: LabeledImages,
  run: Run,
  architecture: Architecture,
): Promise<GradientPool> {
  return GradientPool.start({
    workers: run.workers,
    architecture,
    backend: tf.getBackend() as BackendName,
    kernelMode: wasmKernelMode(),
    layout: weightLayout(model.trainableWeights),
    batchSize: run.batchSize,
    height: data.height,
    width: data.width,
    channels: data.channels,
    numClasses: run.numClasses,
    warmupImages: Math.ceil(Math.min(run.batchSize, data.n) / run.workers),
  });
}

/** Step time and images of this run, for its throughput. */
interface Clock {
  seconds: number;
  images: number;
  stepId: number;
}

/** One epoch's Adam steps (progress after each); false when `signal` interrupted it (its partial steps dropped). */
async function runEpoch(
  s: Stepper,
  epoch: number,
  run: Run,
  args: TrainArgs,
  state: TrainingState,
  clock: Clock,
): Promise<{ loss: number; correct: number; steps: number } | false> {
  const { data } = s;
  const cp = state.checkpoint;
  const perm = seededPermutation(data.n, run.seed + epoch);
  let lossSum = 0;
  let correctSum = 0;
  let steps = 0;
  for (let start = 0; start < data.n; start += run.batchSize) {
    if (args.signal?.aborted) {
      // Drop the partial epoch: a resumed run redoes it from its start with the same permutation.
      cp.steps = cp.steps.filter((x) => x.epoch <= cp.epochsDone);
      return false;
    }
    const size = Math.min(run.batchSize, data.n - start);
    const augment = args.augment && { fn: args.augment, seed: run.seed * 1_000_003 + cp.steps.length + 1 };
    fillBatch(s, perm, start, size, augment);
    const ts = performance.now();
    const { loss, correct } = await adamStep(s, ++clock.stepId, size);
    if (!Number.isFinite(loss)) {
      throw new Error(
        `trainModel: the loss became ${loss} at step ${cp.steps.length + 1} (epoch ${epoch + 1}): the weights diverged ` +
          `(learning rate ${run.learningRate} too large?); training stopped, no checkpoint of this epoch was written`,
      );
    }
    clock.seconds += (performance.now() - ts) / 1000;
    clock.images += size;
    lossSum += loss;
    correctSum += correct;
    steps++;
    cp.steps.push({ epoch: epoch + 1, step: cp.steps.length + 1, loss, accuracy: correct / size });
    args.onProgress?.({
      stage: `train epoch ${epoch + 1}/${run.epochs}`,
      done: start + size,
      total: data.n,
      unit: 'img',
      metrics: { loss: lossSum / steps, acc: correctSum / (start + size) },
    });
  }
  return { loss: lossSum, correct: correctSum, steps };
}

/** After an epoch: evaluation, its record, the best weights, the checkpoint; true when early stopping ends the run. */
async function endEpoch(
  s: Stepper,
  epoch: number,
  sums: { loss: number; correct: number; steps: number; seconds: number },
  run: Run,
  args: TrainArgs,
  state: TrainingState,
): Promise<boolean> {
  const { model, data } = s;
  const cp = state.checkpoint;
  const es = args.earlyStopping;
  const evalAccuracy = args.evalData ? evaluateAccuracy(model, args.evalData) : NaN;
  const validation = es ? evaluateAccuracy(model, es.data) : undefined;
  cp.epochs.push({
    epoch: epoch + 1,
    loss: sums.loss / sums.steps,
    accuracy: sums.correct / data.n,
    evalAccuracy,
    seconds: sums.seconds,
    imagesPerSecond: data.n / sums.seconds,
    workers: run.workers,
    ...(validation !== undefined ? { validationAccuracy: validation } : {}),
  });
  cp.epochsDone = epoch + 1;
  if (es && validation !== undefined && (!cp.best || validation > cp.best.accuracy)) {
    cp.best = { epoch: epoch + 1, accuracy: validation };
    state.bestWeights = modelTensors(model);
  }
  if (args.checkpointPath && run.key) await writeCheckpoint(args.checkpointPath, model, s.optimizer, state, run.key);
  return Boolean(es && cp.best && epoch + 1 - cp.best.epoch >= es.patience);
}

/**
 * Trains `model` (which must output logits) on `data`; see the module comment and {@link TrainArgs}.
 * After every epoch a checkpoint is written atomically to `checkpointPath`; with `resume` a later
 * call continues from it and ends with the same weights as an uninterrupted run. Updates the
 * model's weights in place; no tensor outlives the call.
 */
export async function trainModel(
  model: tf.LayersModel,
  data: LabeledImages,
  args: TrainArgs = {},
): Promise<TrainResult> {
  const run = resolveRun(model, data, args);
  const optimizer = tf.train.adam(run.learningRate, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  if (args.checkpointPath) run.key = trainingKey(model, data, args); // before the checkpoint's weights are loaded
  const notice = args.onNotice ?? ((m: string) => process.emitWarning(m, 'DkNNTrainingNotice'));
  const resumed =
    args.checkpointPath && run.key && run.resume && existsSync(args.checkpointPath)
      ? await resumeCheckpoint(args.checkpointPath, model, optimizer, { ...run.key, epochs: run.epochs }, notice)
      : null;
  const state: TrainingState = resumed ?? { checkpoint: { epochsDone: 0, epochs: [], steps: [] }, bestWeights: [] };
  const resumedFromEpoch = state.checkpoint.epochsDone;
  const clock: Clock = { seconds: 0, images: 0, stepId: 0 };
  let interrupted = false;
  let stopped = false;
  let pool: GradientPool | undefined;
  try {
    if (run.architecture) pool = await startPool(model, data, run, run.architecture);
    const pixels = data.height * data.width * data.channels;
    const s: Stepper = {
      model,
      vars,
      optimizer,
      pool,
      workers: run.workers,
      data: { ...data, numClasses: run.numClasses },
      x: pool?.x ?? new Float32Array(run.batchSize * pixels),
      y: pool?.y ?? new Int32Array(run.batchSize),
    };
    for (let epoch = state.checkpoint.epochsDone; epoch < run.epochs && !stopped; epoch++) {
      const t0 = performance.now();
      const sums = await runEpoch(s, epoch, run, args, state, clock);
      if (!sums) {
        interrupted = true;
        break;
      }
      stopped = await endEpoch(s, epoch, { ...sums, seconds: (performance.now() - t0) / 1000 }, run, args, state);
    }
    if (args.earlyStopping && state.checkpoint.best && state.bestWeights.length)
      loadModelTensors(model, state.bestWeights, 'the best epoch');
  } finally {
    optimizer.dispose();
    await pool?.close();
  }
  return trainResult(run, args, state, { resumedFromEpoch, interrupted, stopped, clock, pool });
}

function trainResult(
  run: Run,
  args: TrainArgs,
  state: TrainingState,
  how: { resumedFromEpoch: number; interrupted: boolean; stopped: boolean; clock: Clock; pool?: GradientPool },
): TrainResult {
  const cp = state.checkpoint;
  const { epochs, batchSize, learningRate, seed, resume, workers } = run;
  return {
    epochs: cp.epochs,
    steps: cp.steps,
    resumedFromEpoch: how.resumedFromEpoch,
    ...(run.key ? { checkpointKey: run.key.key } : {}),
    interrupted: how.interrupted,
    // A resumed call that had no epoch left to run reports the throughput of the epochs it resumed.
    imagesPerSecond: how.clock.seconds > 0 ? how.clock.images / how.clock.seconds : historyImagesPerSecond(cp.epochs),
    args: { epochs, batchSize, learningRate, seed, resume, workers },
    ...(args.earlyStopping && cp.best
      ? {
          earlyStopping: {
            bestEpoch: cp.best.epoch,
            bestAccuracy: cp.best.accuracy,
            stopped: how.stopped,
            validationAccuracy: cp.epochs.map((e) => e.validationAccuracy ?? NaN),
          },
        }
      : {}),
    ...(how.pool ? { workerTensors: [...how.pool.workerTensors] } : {}),
  };
}

/** Images per second over the recorded epochs (0 when there are none). */
function historyImagesPerSecond(epochs: readonly { seconds: number; imagesPerSecond: number }[]): number {
  const seconds = epochs.reduce((s, e) => s + e.seconds, 0);
  return seconds > 0 ? epochs.reduce((s, e) => s + e.imagesPerSecond * e.seconds, 0) / seconds : 0;
}
