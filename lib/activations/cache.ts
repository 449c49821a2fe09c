/**
 * Training activations through the artefact cache: each requested layer is read from the cache
 * when an intact entry made from the same model weights, images, layer and backend exists, and
 * the others are extracted in one pass of the model and written back. Shared by `DkNN.fit` and
 * the benchmarks, so both use the same entries.
 */
import { allocateActivations, extractActivations, layerDims } from './extract';
import type { ArtifactCache } from '../artifacts/cache';
import { sha256Of } from '../artifacts/keys';
import { classifierEngineKey, classifierHash, type ClassifierModel } from '../models/classifier';
import type { ProgressCallback } from '../util/progress';
import { engineKey } from '../engine/kernels';
import type { ImageBatch } from '../data/types';

/** Options of {@link cachedActivations}. */
export interface CachedActivationsOptions {
  /** The layers, by name, in the order of the result. */
  layers: readonly string[];
  /** The cache (its `dir` may be false: then everything is extracted). */
  cache: ArtifactCache;
  /** Images per forward pass. Default 250. */
  batchSize?: number;
  /** Extraction progress. */
  onProgress?: ProgressCallback;
  /** The model's weight hash when already known. Default: computed. */
  modelHash?: string;
  /** Extraction threads (`extractActivations`' option). Default 1. */
  workers?: number | 'auto';
  /** A name for the data, recorded in written entries (e.g. 'mnist-train'). */
  dataName?: string;
}

/** What {@link cachedActivations} returns. */
export interface CachedActivations {
  /** `n × dim` raw activations per layer, aligned with the requested layers. */
  values: Float32Array[];
  dims: number[];
  /** Layers read from the cache, and layers extracted and written to it (a write that failed is not listed). */
  hits: string[];
  written: string[];
  /** Seconds spent hashing the images, reading the cache, extracting and writing. */
  timings: { hashImages: number; cacheRead: number; extract: number; cacheWrite: number };
}

/** The cache inputs of one layer's activations (what its entry is keyed by). */
export function activationCacheParts(
  data: ImageBatch,
  imagesSha256: string,
  hash: string,
  layer: string,
  dim: number,
  engine: string = engineKey(),
): Record<string, unknown> {
  return {
    artefact: 'dknn-activations',
    version: 1,
    modelHash: hash,
    images: imagesSha256,
    n: data.n,
    height: data.height,
    width: data.width,
    channels: data.channels,
    layer,
    dim,
    backend: engine,
  };
}

const since = (t: number) => (performance.now() - t) / 1000;

/** The raw activations of `layers` for all of `data`, through the cache (see the module comment). The model is only read. */
export async function cachedActivations(
  model: ClassifierModel,
  data: ImageBatch,
  options: CachedActivationsOptions,
): Promise<CachedActivations> {
  const { cache, layers } = options;
  const dims = layerDims(model, layers, 'cachedActivations');
  const values: (Float32Array | undefined)[] = layers.map(() => undefined);
  const store: (Float32Array | undefined)[] = layers.map(() => undefined);
  const timings = { hashImages: 0, cacheRead: 0, extract: 0, cacheWrite: 0 };
  const hits: string[] = [];
  const written: string[] = [];
  let parts: Record<string, unknown>[] = [];
  if (cache.dir !== false) {
    cache.checkWritable('activations');
    let t = performance.now();
    const sha = sha256Of(data.images);
    const hash = options.modelHash ?? classifierHash(model);
    timings.hashImages = since(t);
    t = performance.now();
    const engine = classifierEngineKey(model);
    parts = layers.map((layer, l) => activationCacheParts(data, sha, hash, layer, dims[l], engine));
    layers.forEach((layer, l) => {
      // Read into the array extraction would allocate (a row store for large layers), kept for a miss.
      store[l] = allocateActivations(data.n * dims[l]);
      values[l] = cache.read(
        { kind: 'activations', parts: parts[l] },
        { length: data.n * dims[l], into: store[l] },
      )?.values;
      if (values[l]) hits.push(layer);
    });
    timings.cacheRead = since(t);
  }
  const todo = layers.filter((_, l) => values[l] === undefined);
  if (todo.length > 0) {
    let t = performance.now();
    const into = todo.map((layer) => store[layers.indexOf(layer)]);
    const acts = await extractActivations(model, data, {
      layers: todo,
      batchSize: options.batchSize,
      onProgress: options.onProgress,
      workers: options.workers,
      into,
    });
    timings.extract = since(t);
    t = performance.now();
    for (const a of acts.layers) {
      const l = layers.indexOf(a.name);
      values[l] = a.values;
      if (cache.dir !== false) {
        // null: not stored (the cache warned: disk full, I/O error, non-finite values); the run goes on.
        const path = cache.write(
          { kind: 'activations', parts: parts[l] },
          { values: a.values, meta: { dataset: options.dataName ?? null } },
        );
        if (path !== null) written.push(a.name);
        // A turn of the event loop between entries: an interrupt held during a write acts now, not after all of them.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    timings.cacheWrite = since(t);
  }
  return { values: values as Float32Array[], dims, hits, written, timings };
}
