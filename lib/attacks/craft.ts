/**
 * Crafting adversarial versions of a whole image set: an attack (a function of one batch tensor)
 * is run batch by batch over flat NHWC arrays, with progress reports, and the result is cached on
 * disk (lib/cache.ts) under a key made of the model's weight hash, the attack and its parameters,
 * the data (name/range, and the sha256 of the pixels) and the tf.js backend — so a notebook re-run
 * re-uses an adversarial set only when every one of those matches.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageBatch } from '../activations';
import { cacheKey, cachePath, readCachedFloat32, readCachedHeader, sha256Of, writeCachedFloat32 } from '../cache';
import type { ProgressCallback } from '../progress';
import { checkPositiveInt } from './utils';

/**
 * One batch of an attack: `x` is `[end − start, height, width, channels]` (images start…end−1 of
 * the set). Tensor ownership: `x` belongs to the caller ({@link craftAdversarial}), which disposes
 * it; the returned tensor must be new (shaped like `x`) and is disposed by the caller too.
 */
export type BatchAttack = (x: tf.Tensor4D, batch: { start: number; end: number }) => tf.Tensor;

/** What an adversarial set is cached under (with the images' sha256, their shape and the backend). */
export interface AdversarialCacheSpec {
  /** sha256 of the attacked model's weights (`modelHash(model)`). */
  modelHash: string;
  /** Attack name, e.g. 'fgsm'. */
  attack: string;
  /** Every parameter of the attack (eps, norm, clip, labels used, seeds, …). */
  params: Record<string, unknown>;
  /** The data's name and range, e.g. 'mnist-test[750:10000]'. */
  data: string;
  /** Cache folder. Default `<repo>/.cache`. */
  dir?: string;
}

/** Options of {@link craftAdversarial}. */
export interface CraftOptions {
  /** Images per attack call. Default 100. */
  batchSize?: number;
  /** Progress after every batch (unit `img`). */
  onProgress?: ProgressCallback;
  /** Stage name in progress reports. Default `'craft'`. */
  stage?: string;
  /** Cache the result under this spec; `false` or absent: no cache. */
  cache?: AdversarialCacheSpec | false;
}

/** An adversarial image set (same shape as its source) and how it was obtained. */
export interface AdversarialSet extends ImageBatch {
  /** Seconds the attack took (on a cache hit: as recorded when it was crafted). */
  seconds: number;
  /** True when read from the cache. */
  cached: boolean;
  /** The cache key (null without cache). */
  key: string | null;
}

/** The cache key of an adversarial set and the parts it was computed from. */
export function adversarialCacheKey(data: ImageBatch, spec: AdversarialCacheSpec): { key: string; parts: Record<string, unknown> } {
  const parts = {
    artefact: 'adversarial', version: 1, modelHash: spec.modelHash, attack: spec.attack, params: spec.params,
    data: spec.data, images: sha256Of(data.images), n: data.n, height: data.height, width: data.width, channels: data.channels,
    backend: tf.getBackend(),
  }; // prettier-ignore
  return { key: cacheKey(parts), parts };
}

/**
 * Runs `attack` over `data` in batches and returns the adversarial images (a new Float32Array),
 * or reads them from the cache when `options.cache` is given and an entry matches.
 * No tensor outlives the call (each batch's input and output are disposed).
 * @throws when the attack returns a tensor of another shape; on a batchSize that is not a positive integer.
 */
export async function craftAdversarial(data: ImageBatch, attack: BatchAttack, options: CraftOptions = {}): Promise<AdversarialSet> {
  const batchSize = options.batchSize ?? 100;
  checkPositiveInt(batchSize, 'batchSize');
  const { n, height, width, channels } = data;
  const per = height * width * channels;
  if (data.images.length !== n * per) throw new Error(`craftAdversarial: expected ${n}×${height}×${width}×${channels} = ${n * per} pixel values, found ${data.images.length}`);
  const stage = options.stage ?? 'craft';
  const spec = options.cache || undefined;
  const cached = spec ? adversarialCacheKey(data, spec) : undefined;
  if (spec && cached) {
    const images = readCachedFloat32(cached.key, n * per, { dir: spec.dir, kind: 'adversarial' });
    if (images) {
      const seconds = Number(readCachedHeader(cached.key, { dir: spec.dir, kind: 'adversarial' })?.meta.seconds ?? NaN);
      options.onProgress?.({ stage: `${stage} (cached)`, done: n, total: n, unit: 'img' });
      return { images, n, height, width, channels, seconds, cached: true, key: cached.key };
    }
  }
  const out = new Float32Array(n * per);
  const t0 = performance.now();
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const x = tf.tensor4d(data.images.subarray(start * per, end * per), [end - start, height, width, channels]);
    let adv: tf.Tensor | undefined;
    try {
      adv = attack(x, { start, end });
      if (adv.size !== x.size) throw new Error(`craftAdversarial: the attack returned shape [${adv.shape.join(', ')}] for a batch of shape [${x.shape.join(', ')}]`);
      out.set(await adv.data(), start * per);
    } finally {
      x.dispose();
      adv?.dispose();
    }
    options.onProgress?.({ stage, done: end, total: n, unit: 'img' });
    await new Promise((resolve) => setImmediate(resolve)); // let progress displays flush
  }
  const seconds = (performance.now() - t0) / 1000;
  if (spec && cached) {
    writeCachedFloat32(cached.key, out, { ...cached.parts, seconds, createdAt: new Date().toISOString() }, { dir: spec.dir, kind: 'adversarial' });
  }
  return { images: out, n, height, width, channels, seconds, cached: false, key: cached?.key ?? null };
}

/** Where {@link craftAdversarial} stores (or would store) the set for `spec`. */
export function adversarialCachePath(data: ImageBatch, spec: AdversarialCacheSpec): string {
  return cachePath(adversarialCacheKey(data, spec).key, { dir: spec.dir, kind: 'adversarial' });
}
