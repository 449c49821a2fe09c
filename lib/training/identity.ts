/**
 * What a training checkpoint is the state of: every input that changes the weights after epoch k
 * (the training images, the initial weights, the recipe, the augmentation, the validation set, the
 * engine), so that a run resumes only a checkpoint it would have computed itself. The options part
 * comes from {@link OPTION_PARTS}, one entry per `TrainArgs` option: the compiler refuses an
 * option that is neither part of the key nor left out with its reason.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { canonicalJson, sha256Of } from '../artifacts/keys';
import { engineKey, wasmKernelMode } from '../engine/kernels';
import type { LabeledImages } from '../data/types';
import { modelHash } from '../models/weights';
import type { Augment } from './augment';
import { trainingRecipe, type TrainingRecipe } from './defaults';
import type { TrainArgs } from './types';

/** The identity of a run: a JSON object (hashes for arrays), compared part by part. */
export type TrainingIdentity = Record<string, unknown>;

/** A run's identity and its key (sha256 of its canonical JSON). */
export interface TrainingKey {
  key: string;
  identity: TrainingIdentity;
}

interface Inputs {
  args: TrainArgs;
  recipe: TrainingRecipe;
}

/** Why an option is not part of the key. */
interface Excluded {
  excluded: string;
}

/** Every `TrainArgs` option: its part of the key, or why it has none. */
const OPTION_PARTS: { readonly [K in keyof Required<TrainArgs>]: ((i: Inputs) => unknown) | Excluded } = {
  epochs: { excluded: 'a run resumes a shorter one to train more epochs' },
  batchSize: (i) => i.recipe.batchSize,
  learningRate: (i) => i.recipe.learningRate,
  seed: (i) => i.recipe.seed,
  workers: (i) => i.recipe.workers, // the gradient's summation order
  checkpointPath: { excluded: 'where the checkpoint is, not what it holds' },
  resume: { excluded: 'whether to resume, not what' },
  evalData: (i) => (i.args.evalData ? imagesIdentity(i.args.evalData) : null), // the history's evalAccuracy
  onProgress: { excluded: 'a report' },
  onNotice: { excluded: 'a report' },
  signal: { excluded: 'an interrupted epoch is dropped, not checkpointed' },
  architecture: (i) => i.args.architecture ?? null,
  // patience is left out: it decides only when to stop, from the history the checkpoint keeps
  earlyStopping: (i) => (i.args.earlyStopping ? { data: imagesIdentity(i.args.earlyStopping.data) } : null),
  augment: (i) => augmentIdentity(i.args.augment),
  identity: (i) => i.args.identity ?? null,
};

/** Shape, size and sha256 of labeled images (the labels as int32, whatever array holds them). */
function imagesIdentity(d: LabeledImages): Record<string, unknown> {
  return {
    n: d.n,
    shape: [d.height, d.width, d.channels],
    numClasses: d.numClasses ?? null,
    images: sha256Of(d.images),
    labels: sha256Of(Int32Array.from(d.labels)),
  };
}

/** An augmentation's settings (its `params`), or the hash of its code for one without. */
function augmentIdentity(augment: Augment | undefined): unknown {
  if (!augment) return null;
  if (augment.params) return augment.params;
  return { code: createHash('sha256').update(augment.toString()).digest('hex') };
}

/**
 * The identity of training `model` (as it is now, before any step) on `data` with `args`: the
 * data, the initial weights (architecture, init seed, weights it was started from), the engine and
 * every option that changes the weights ({@link OPTION_PARTS}).
 */
export function trainingKey(model: tf.LayersModel, data: LabeledImages, args: TrainArgs): TrainingKey {
  const inputs: Inputs = { args, recipe: trainingRecipe(args) };
  const options: Record<string, unknown> = {};
  for (const [name, part] of Object.entries(OPTION_PARTS)) {
    if (typeof part === 'function') options[name] = part(inputs);
  }
  const identity: TrainingIdentity = {
    data: imagesIdentity(data),
    initialWeights: modelHash(model),
    engine: { backend: engineKey(), kernels: tf.getBackend() === 'wasm' ? wasmKernelMode() : null },
    options,
  };
  return { key: createHash('sha256').update(canonicalJson(identity), 'utf8').digest('hex'), identity };
}

/** `value` flattened to `path: leaf` pairs (arrays and objects by key). */
function leaves(value: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, path ? `${path}.${k}` : k, out);
  } else out.set(path, JSON.stringify(value) ?? 'undefined');
  return out;
}

/** What differs between two identities, e.g. `options.learningRate 0.001 → 0.01, data.n 100 → 3000` (hashes shortened). */
export function identityDifferences(made: TrainingIdentity, asked: TrainingIdentity): string {
  const a = leaves(made, '', new Map());
  const b = leaves(asked, '', new Map());
  const short = (s: string | undefined) =>
    s === undefined ? '(none)' : /^"[0-9a-f]{64}"$/.test(s) ? `${s.slice(1, 13)}…` : s;
  const diffs = [...new Set([...a.keys(), ...b.keys()])]
    .filter((k) => a.get(k) !== b.get(k))
    .map((k) => `${k} ${short(a.get(k))} → ${short(b.get(k))}`);
  return diffs.length > 6 ? `${diffs.slice(0, 6).join(', ')} and ${diffs.length - 6} more` : diffs.join(', ');
}
