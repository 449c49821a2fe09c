/**
 * Training checkpoints: after every epoch, the weights, Adam's moments and step count, the history
 * and (with early stopping) the best epoch's weights go into one verified container, written
 * atomically, with the identity of the run (`identity.ts`); a run of the same identity resumes it
 * and ends with the same weights as an uninterrupted one, any other run starts fresh (and says so).
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkWritableDir } from '../artifacts/atomic';
import { readContainer, writeContainer } from '../artifacts/container';
import { loadModelTensors, modelTensors, type StoredTensor } from '../models/weights';
import { identityDifferences, type TrainingIdentity, type TrainingKey } from './identity';
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

/**
 * Checks, before any training, that a checkpoint can be written at `path` (its folder created if
 * missing, a probe file written there and removed) without replacing a file of another kind.
 * @throws Error naming the path and the reason.
 */
export function checkCheckpointPath(path: string): void {
  try {
    if (existsSync(path) && statSync(path).isDirectory()) throw new Error('it is a folder');
    if (existsSync(path) && !isContainer(path))
      throw new Error(
        'the file there is not a training checkpoint (it is never overwritten); expected a new path or a checkpoint',
      );
    checkWritableDir(dirname(resolve(path)));
  } catch (err) {
    throw new Error(`cannot write the checkpoint ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The first bytes of every container (`artifacts/container.ts`). */
const CONTAINER_MAGIC = 'DKNNART1';

/** Whether the file at `path` begins as a container does. */
function isContainer(path: string): boolean {
  const head = Buffer.alloc(CONTAINER_MAGIC.length);
  try {
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  return head.toString('latin1') === CONTAINER_MAGIC;
}

/**
 * The state in the checkpoint at `path`, loaded into `model` and `optimizer`, when the checkpoint
 * was made by a run of the same identity (`run.key`); else null, after telling `notice` why it is
 * set aside (another run's, made before checkpoints recorded their identity, or unreadable).
 * @throws when the file is not a training checkpoint.
 */
export async function resumeCheckpoint(
  path: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  run: TrainingKey & { epochs: number },
  notice: (message: string) => void,
): Promise<TrainingState | null> {
  const fresh = 'starting fresh (the checkpoint is replaced after the first epoch)';
  let file: ReturnType<typeof readContainer>;
  try {
    file = readContainer(path);
  } catch (err) {
    // A damaged checkpoint is set aside; a file of another kind is never overwritten.
    if (!isContainer(path)) throw new Error(`trainModel: ${path} is not a training checkpoint`, { cause: err });
    notice(`checkpoint ${path} is damaged (${(err as Error).message}): ${fresh}`);
    return null;
  }
  const meta = file.meta as { kind?: string; checkpoint?: Checkpoint; key?: string; identity?: TrainingIdentity };
  if (meta.kind !== 'training-checkpoint' || !meta.checkpoint) {
    throw new Error(`trainModel: ${path} is not a training checkpoint (meta.kind = ${String(meta.kind)})`);
  }
  if (meta.key === undefined || meta.identity === undefined) {
    notice(`checkpoint ${path} was made before checkpoints recorded what they were trained on: ${fresh}`);
    return null;
  }
  if (meta.key !== run.key) {
    notice(
      `checkpoint ${path} is another run's (${identityDifferences(meta.identity, run.identity) || 'its key differs'}): ${fresh}`,
    );
    return null;
  }
  const tensors: StoredTensor[] = file.arrays.map((a) => ({
    name: a.name,
    shape: a.shape,
    values: a.values as Float32Array,
  }));
  const weights = tensors.filter((t) => !t.name.startsWith('optimizer/') && !t.name.startsWith('best/'));
  loadModelTensors(model, weights, path);
  const bestWeights = tensors.filter((t) => t.name.startsWith('best/')).map((t) => ({ ...t, name: t.name.slice(5) }));
  const opt = tensors.filter((t) => t.name.startsWith('optimizer/'));
  const named = opt.map((t) => ({ name: t.name, tensor: tf.tensor(t.values, t.shape) }));
  await optimizer.setWeights(named);
  tf.dispose(named.map((t) => t.tensor)); // the optimizer made its own variables from them
  const done = meta.checkpoint.epochsDone;
  notice(
    done >= run.epochs
      ? `resuming from checkpoint ${path}: it holds ${done} epoch(s), all of the ${run.epochs} asked for; no epoch left to train`
      : `resuming from checkpoint ${path}: ${done} epoch(s) done, continuing at epoch ${done + 1} of ${run.epochs}`,
  );
  return { checkpoint: meta.checkpoint, bestWeights };
}

/** Writes the checkpoint of `state` (model weights, optimizer state, best weights) to `path`, atomically. */
export async function writeCheckpoint(
  path: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: TrainingState,
  run: TrainingKey,
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
      key: run.key,
      identity: run.identity,
      checkpoint: state.checkpoint,
      optimizerTensors: optTensors.length,
    },
  });
}
