/**
 * Crafting adversarial versions of a whole image set. {@link craftBatches} runs any batch function
 * over flat NHWC arrays with progress reports; {@link craftAdversarial} runs an {@link Attack}
 * against a model and caches the result (lib/artefacts) under a key made of the model's weight
 * hash, the attack's name and resolved options, the sha256 of the pixels, their shape and the
 * tf.js backend — so a re-run re-uses an adversarial set only when every one of those matches.
 * The attacks that need no gradients (Square, HopSkipJump) also take an ONNX classifier (keyed by
 * its file's hash) or a model given as a function (a `QueryFn`, e.g. the DkNN; keyed by the
 * `modelKey` the caller names), and count every image's queries.
 */
import { checkPositiveInt } from '../util/checks';
import * as tf from '@tensorflow/tfjs';
import { ArtifactCache } from '../artifacts/cache';
import { sha256Of } from '../artifacts/keys';
import { modelHash } from '../models/weights';
import { logitsModel } from '../models/logits';
import { initBackend } from '../engine/backend';
import type { ProgressCallback } from '../util/progress';
import type { Attack } from './attack';
import { craftOnWorkers, craftWorkerCount } from './parallel';
import { logitsFn } from './utils';
import { engineKey } from '../engine/kernels';
import type { ImageBatch } from '../data/types';
import { answerPlan, onnxQueryFn, tensorQueryFn, type QueryFn } from './query';
import { isOnnxModel, type OnnxModel } from '../models/onnx';

/**
 * One batch of an attack: `x` is `[end − start, height, width, channels]` (images start…end−1 of
 * the set). Tensor ownership: `x` belongs to the caller ({@link craftBatches}), which disposes
 * it; the returned tensor must be new (shaped like `x`) and is disposed by the caller too.
 */
export type BatchAttack = (
  x: tf.Tensor4D,
  batch: { start: number; end: number; progress: (fraction: number) => void },
) => tf.Tensor | Promise<tf.Tensor>;

/** Options of {@link craftBatches}. */
export interface CraftBatchesOptions {
  /** Images per attack call. Default 100. */
  batchSize?: number;
  /** Progress after every batch (unit `img`). */
  onProgress?: ProgressCallback;
  /** Stage name in progress reports. Default `'craft'`. */
  stage?: string;
}

/**
 * Runs `attack` over `data` in batches and returns the adversarial images (a new Float32Array).
 * No tensor outlives the call (each batch's input and output are disposed).
 * @throws when the attack returns a tensor of another shape; on a batchSize that is not a positive integer.
 */
export async function craftBatches(
  data: ImageBatch,
  attack: BatchAttack,
  options: CraftBatchesOptions = {},
): Promise<Float32Array> {
  const batchSize = options.batchSize ?? 100;
  checkPositiveInt('batchSize', batchSize);
  const { n, height, width, channels } = data;
  const per = height * width * channels;
  if (data.images.length !== n * per)
    throw new Error(
      `craftAdversarial: expected ${n}×${height}×${width}×${channels} = ${n * per} pixel values, found ${data.images.length}`,
    );
  const stage = options.stage ?? 'craft';
  const out = new Float32Array(n * per);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const x = tf.tensor4d(data.images.subarray(start * per, end * per), [end - start, height, width, channels]);
    let adv: tf.Tensor | undefined;
    try {
      const progress = (f: number) =>
        options.onProgress?.({ stage, done: start + Math.round(f * (end - start)), total: n, unit: 'img' });
      adv = await attack(x, { start, end, progress });
      if (adv.size !== x.size)
        throw new Error(
          `craftAdversarial: the attack returned shape [${adv.shape.join(', ')}] for a batch of shape [${x.shape.join(', ')}]`,
        );
      out.set(await adv.data(), start * per);
    } finally {
      x.dispose();
      adv?.dispose();
    }
    options.onProgress?.({ stage, done: end, total: n, unit: 'img' });
    await new Promise((resolve) => setImmediate(resolve)); // let progress displays flush
  }
  return out;
}

/** Options of {@link craftAdversarial}. */
export interface CraftOptions {
  /** The attack (an attack value: `fgsmAttack(…)`, …). */
  attack: Attack;
  /** Progress after every batch (unit `img`). */
  onProgress?: ProgressCallback;
  /** The artefact cache: a folder, `false` for none, or a cache object. Default `<repo>/.cache`. */
  cache?: string | false | ArtifactCache;
  /**
   * Threads crafting (data-parallel over batches; the same images for any number): a positive
   * integer, or 'auto' (default): all cores when the attack is long enough to repay starting them.
   */
  workers?: number | 'auto';
  /**
   * What identifies a model given as a function in the cache (e.g. its file's sha256 and the
   * options it was loaded with): required with the cache on; a tfjs model is identified by its weights.
   */
  modelKey?: string;
}

/** An adversarial image set (same shape as its source) and how it was obtained. */
export interface AdversarialSet extends ImageBatch {
  /** The attack's name, label and resolved options. */
  attack: { name: string; label: string; options: Readonly<Record<string, unknown>> };
  /** Seconds the attack took (on a cache hit: as recorded when it was crafted). */
  seconds: number;
  /** True when read from the cache. */
  cached: boolean;
  /** Where it is cached (null without cache, or when it could not be written). */
  cachePath: string | null;
  /** Threads that crafted it (on a cache hit: as recorded). */
  workers: number;
  /** Model queries per image, the clean one included: the attacks that need no gradients only. */
  queries?: Int32Array;
}

/** What an adversarial set of `attack` on `data` against a model with weights `hash` is cached under. */
export function adversarialCacheParts(data: ImageBatch, attack: Attack, hash: string): Record<string, unknown> {
  return {
    artefact: 'adversarial',
    version: 2,
    modelHash: hash,
    attack: attack.name,
    options: attack.options as Record<string, unknown>,
    images: sha256Of(data.images),
    n: data.n,
    height: data.height,
    width: data.width,
    channels: data.channels,
    backend: engineKey(),
  };
}

/**
 * The adversarial versions of `data` under `attack`, crafted against `model` (its logits), or
 * read from the cache when an intact entry made from the same model, attack, options, images and
 * backend exists. The model is only read. An ONNX classifier or a model given as a function
 * ({@link QueryFn}: scores per class) can be attacked by the attacks that need no gradients, on
 * this thread (onnxruntime runs its own threads).
 * @throws when a gradient attack gets an ONNX model or a function, or a function has no
 *   `modelKey` with the cache on.
 */
export async function craftAdversarial(
  given: tf.LayersModel | OnnxModel | QueryFn,
  data: ImageBatch,
  options: CraftOptions,
): Promise<AdversarialSet> {
  const { attack } = options;
  await initBackend(); // the engine starts on first use when the caller did not start it
  const model = typeof given === 'function' || isOnnxModel(given) ? given : logitsModel(given);
  const cache = options.cache instanceof ArtifactCache ? options.cache : new ArtifactCache({ dir: options.cache });
  const { n, height, width, channels } = data;
  const parts = adversarialCacheParts(data, attack, modelKeyOf(model, attack, cache, options.modelKey));
  const path = cache.path({ kind: 'adversarial', parts });
  const info = { name: attack.name, label: attack.label, options: attack.options };
  const hit = cache.read({ kind: 'adversarial', parts }, { length: n * height * width * channels });
  const hitQueries = attack.plan && hit ? storedQueries(hit.meta.queries, n) : undefined;
  if (hit && (!attack.plan || hitQueries)) {
    options.onProgress?.({ stage: `${attack.label} (cached)`, done: n, total: n, unit: 'img' });
    return {
      images: hit.values,
      n,
      height,
      width,
      channels,
      attack: info,
      seconds: Number(hit.meta.seconds ?? NaN),
      cached: true,
      cachePath: path,
      workers: Number(hit.meta.workers ?? 1),
      ...(hitQueries ? { queries: hitQueries } : {}),
    };
  }
  const workers =
    typeof model === 'function' || isOnnxModel(model) ? 1 : craftWorkerCount(options.workers ?? 'auto', attack, n);
  const t0 = performance.now();
  const { images, queries } = await craftFresh(model, data, attack, workers, options.onProgress);
  const seconds = (performance.now() - t0) / 1000;
  // null when not stored (the cache warned: disk full, I/O error, non-finite values): the set is returned all the same.
  const written = cache.write(
    { kind: 'adversarial', parts },
    {
      values: images,
      meta: { seconds, label: attack.label, workers, ...(queries ? { queries: Array.from(queries) } : {}) },
    },
  );
  return {
    images,
    n,
    height,
    width,
    channels,
    attack: info,
    seconds,
    cached: false,
    cachePath: written,
    workers,
    ...(queries ? { queries } : {}),
  };
}

/** What the cache knows `model` by: its weights' hash, or the caller's `modelKey` for a model given as a function. */
function modelKeyOf(
  model: tf.LayersModel | OnnxModel | QueryFn,
  attack: Attack,
  cache: ArtifactCache,
  modelKey: string | undefined,
): string {
  const what = typeof model === 'function' ? 'a model given as a function' : isOnnxModel(model) ? 'an ONNX model' : '';
  if (what && !attack.plan)
    throw new Error(
      `craftAdversarial: ${attack.label} needs the model's gradients, so a tf.LayersModel; ${what} can only be attacked by the attacks that need none (squareAttack, hopSkipJumpAttack)`,
    );
  if (isOnnxModel(model)) return model.hash;
  if (typeof model !== 'function') return modelHash(model);
  if (modelKey !== undefined && (typeof modelKey !== 'string' || modelKey === ''))
    throw new Error(`craftAdversarial: modelKey must be a non-empty string, found ${JSON.stringify(modelKey)}`);
  if (modelKey === undefined && cache.dir !== false)
    throw new Error(
      "craftAdversarial: a model given as a function needs options.modelKey (what identifies it in the cache, e.g. its file's sha256), or cache: false",
    );
  return modelKey ?? '';
}

/** The query counts of a cache entry's meta, or undefined when they are not n non-negative integers (the entry is then crafted again). */
function storedQueries(stored: unknown, n: number): Int32Array | undefined {
  if (!Array.isArray(stored) || stored.length !== n || !stored.every((v) => Number.isSafeInteger(v) && v >= 0))
    return undefined;
  return Int32Array.from(stored as number[]);
}

/** Crafts the set: on worker threads, or on this thread (a query attack through its plan, counting queries). */
async function craftFresh(
  model: tf.LayersModel | OnnxModel | QueryFn,
  data: ImageBatch,
  attack: Attack,
  workers: number,
  onProgress: ProgressCallback | undefined,
): Promise<{ images: Float32Array; queries?: Int32Array }> {
  if (typeof model !== 'function' && !isOnnxModel(model) && workers > 1)
    return craftOnWorkers(model, data, attack, workers, onProgress);
  const plan = attack.plan;
  if (!plan) {
    const modelFn = logitsFn(model as tf.LayersModel);
    const images = await craftBatches(data, (x, batch) => attack.run(modelFn, x, batch.progress), {
      batchSize: attack.batchSize,
      onProgress,
      stage: attack.label,
    });
    return { images };
  }
  const query =
    typeof model === 'function' ? model : isOnnxModel(model) ? onnxQueryFn(model) : tensorQueryFn(logitsFn(model));
  const per = data.height * data.width * data.channels;
  const queries = new Int32Array(data.n);
  const images = await craftBatches(
    data,
    async (x, { start, end, progress }) => {
      const batch = { ...data, images: data.images.subarray(start * per, end * per), n: end - start };
      const r = await answerPlan(plan(batch, progress), query, batch);
      queries.set(r.queries, start);
      return tf.tensor(r.images, x.shape);
    },
    { batchSize: attack.batchSize, onProgress, stage: attack.label },
  );
  return { images, queries };
}
