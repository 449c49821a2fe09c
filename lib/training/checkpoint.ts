/**
 * Training checkpoints: after every epoch, the weights, Adam's moments and step count, the history
 * and (with early stopping) the best epoch's weights go into one verified container, written
 * atomically; a resumed run loads them and ends with the same weights as an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs';
import { readContainer, writeContainer } from '../artifacts/container';
import { loadModelTensors, modelTensors, type StoredTensor } from '../models/weights';
import type { EpochRecord, StepRecord } from './types';

/** The history a checkpoint carries. */
export interface Checkpoint {
  epochsDone: number;
  epochs: EpochRecord[];
  steps: StepRecord[];
  /** With early stopping: the best validation accuracy so far and its epoch (its weights are stored as `best/…`). */
  best?: { epoch: number; accuracy: number };
}

/** A run's mutable state: the history so far and the best epoch's weights (early stopping). */
export interface TrainingState {
  checkpoint: Checkpoint;
  bestWeights: StoredTensor[];
}

/** The recipe a checkpoint must match to be resumed. */
export interface CheckpointArgs {
  batchSize: number;
  learningRate: number;
  seed: number;
}

/**
 * Loads the checkpoint at `path` into `model` and `optimizer` and returns its state.
 * @throws when the file is not a training checkpoint, or was made with another recipe.
 */
export async function resumeCheckpoint(
  path: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  args: CheckpointArgs,
): Promise<TrainingState> {
  const file = readContainer(path);
  const tensors: StoredTensor[] = file.arrays.map((a) => ({
    name: a.name,
    shape: a.shape,
    values: a.values as Float32Array,
  }));
  const meta = file.meta as { kind?: string; checkpoint?: Checkpoint; optimizerTensors?: number; args?: unknown };
  if (meta.kind !== 'training-checkpoint' || !meta.checkpoint) {
    throw new Error(`trainModel: ${path} is not a training checkpoint (meta.kind = ${String(meta.kind)})`);
  }
  const expectArgs = JSON.stringify({ batchSize: args.batchSize, learningRate: args.learningRate, seed: args.seed });
  if (JSON.stringify(meta.args) !== expectArgs) {
    throw new Error(
      `trainModel: checkpoint ${path} was made with ${JSON.stringify(meta.args)}, this run asks for ${expectArgs}; delete it or pass resume: false`,
    );
  }
  const weights = tensors.filter((t) => !t.name.startsWith('optimizer/') && !t.name.startsWith('best/'));
  loadModelTensors(model, weights, path);
  const bestWeights = tensors.filter((t) => t.name.startsWith('best/')).map((t) => ({ ...t, name: t.name.slice(5) }));
  const opt = tensors.filter((t) => t.name.startsWith('optimizer/'));
  const named = opt.map((t) => ({ name: t.name, tensor: tf.tensor(t.values, t.shape) }));
  await optimizer.setWeights(named);
  tf.dispose(named.map((t) => t.tensor)); // the optimizer made its own variables from them
  return { checkpoint: meta.checkpoint, bestWeights };
}

/** Writes the checkpoint of `state` (model weights, optimizer state, best weights) to `path`, atomically. */
export async function writeCheckpoint(
  path: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: TrainingState,
  args: CheckpointArgs,
): Promise<void> {
  const opt = await optimizer.getWeights();
  const optTensors: StoredTensor[] = opt.map((w, i) => ({
    name: `optimizer/${i}/${w.name}`,
    shape: w.tensor.shape.slice(),
    values: new Float32Array(w.tensor.dataSync()),
  }));
  opt[0].tensor.dispose(); // the step counter is a fresh scalar; the moments are the optimizer's own variables
  const best = state.bestWeights.map((t) => ({ ...t, name: `best/${t.name}` }));
  writeContainer(path, {
    arrays: [...modelTensors(model), ...optTensors, ...best].map((t) => ({
      name: t.name,
      values: t.values,
      shape: t.shape,
    })),
    meta: {
      kind: 'training-checkpoint',
      args: { batchSize: args.batchSize, learningRate: args.learningRate, seed: args.seed },
      checkpoint: state.checkpoint,
      optimizerTensors: optTensors.length,
    },
  });
}
