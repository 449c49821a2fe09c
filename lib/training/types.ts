/** The options and results of `trainModel`. */
import type { Augment } from './augment';
import type { ProgressCallback } from '../util/progress';
import type { Architecture } from '../models/metadata';
import type { LabeledImages } from '../data/types';

/** Options of {@link trainModel}; defaults are the reference's (CleverHans MNIST tutorial). */
export interface TrainArgs {
  /** Passes over the training data. Default 6 (`TRAIN_DEFAULTS` in defaults.ts holds every default). */
  epochs?: number;
  /** Images per Adam step. Default 500. */
  batchSize?: number;
  /** Adam learning rate (β1 0.9, β2 0.999, ε 1e-8). Default 0.001. */
  learningRate?: number;
  /** Seed of the per-epoch shuffling (epoch e uses permutation seed `seed + e`). Default 1234. */
  seed?: number;
  /**
   * Where to write a checkpoint (weights + Adam state + history) after every epoch, atomically; its
   * folder must be writable (checked before the first step). The checkpoint records the run's
   * identity (`identity.ts`: the data, the initial weights, the engine and every option that
   * changes the weights), and only a run with the same identity resumes it.
   */
  checkpointPath?: string;
  /** Continue from `checkpointPath` when it exists and was made by the same run (else start fresh, told through `onNotice`). Default true. */
  resume?: boolean;
  /**
   * Told, in one line, when a checkpoint is resumed (and from which epoch) or set aside because
   * another run made it (and what differs). Default: a process warning.
   */
  onNotice?: (message: string) => void;
  /**
   * What else decides the weights that the trainer cannot see in its inputs, as JSON (e.g. a data
   * pipeline's settings): part of the checkpoint's key. Default: none.
   */
  identity?: Record<string, unknown>;
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
   * summation order (≈ 1e-5 relative after a few steps), so a checkpoint's key includes `workers`.
   * Needs {@link architecture}; the model must have no non-trainable weights. Pointless with the
   * `tensorflow` backend, which is multi-threaded already.
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
  augment?: Augment;
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
  /** With `checkpointPath`: the key of the run's identity, which its checkpoint records. */
  checkpointKey?: string;
  /** With early stopping: the epoch whose weights the model ends with, its validation accuracy, and whether training stopped early. */
  earlyStopping?: { bestEpoch: number; bestAccuracy: number; stopped: boolean; validationAccuracy: number[] };
  /** True when `signal` stopped the run before the last epoch. */
  interrupted: boolean;
  /** Training throughput of this run (images per second of step time, evaluation excluded). */
  imagesPerSecond: number;
  args: Required<
    Omit<
      TrainArgs,
      | 'checkpointPath'
      | 'evalData'
      | 'onProgress'
      | 'onNotice'
      | 'identity'
      | 'signal'
      | 'architecture'
      | 'earlyStopping'
      | 'augment'
    >
  >;
  /**
   * With `workers > 1`: the live tensors of each worker at the end (the weights of its model copy
   * when nothing leaks), in worker order.
   */
  workerTensors?: number[];
}
