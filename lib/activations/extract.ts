/**
 * Named-layer activations of a tf.js model (or of an ONNX model, `loadOnnxModel`), batched, written
 * into preallocated Float32Arrays.
 *
 * One sub-model (`tf.model` sharing the original's layers and weights, with one output per named
 * layer) runs batch by batch; each batch's outputs are copied into `n × dim` arrays allocated once
 * (or supplied by the caller through `into`, so that memory can be reused). Each row is the
 * layer's output flattened in the backend's layout (NHWC for conv layers, as TensorFlow's
 * `Flatten`).
 *
 * An ONNX model runs each batch in its onnxruntime session (on the runtime's own threads; the
 * `workers` option is for tfjs models), its tensors flattened channels-last as well.
 *
 * Memory: full MNIST ReLU1 is 60,000 × 12,544 float32 = 3 GB, so only the layers asked for are
 * allocated, and `start`/`end` extract a slice of the data.
 *
 * Tensor ownership: the model is only read (never disposed or modified); no tensor outlives a call.
 */
import { checkPositiveInt } from '../util/checks';
import { extractBatchHere, layersModel } from './batch';
import { activationPool, extractWorkerCount } from './pool';
import { allocateRowStore } from '../native/canonical-wasm';
import { isOnnxModel, type OnnxModel } from '../models/onnx';
import type { ClassifierModel } from '../models/classifier';
import type { ImageBatch } from '../data/types';
import type { ProgressCallback } from '../util/progress';

/** Options of {@link extractActivations}. */
export interface ExtractActivationsOptions {
  /** The layers to extract, by name, in the order of the result. */
  layers: readonly string[];
  /** Images per forward pass. Default 250. */
  batchSize?: number;
  /** Progress reports after every batch (stage `extract <layers>`, unit `img`). Default: none. */
  onProgress?: ProgressCallback;
  /** First image to extract (inclusive). Default 0. */
  start?: number;
  /** Last image to extract (exclusive). Default `data.n`. */
  end?: number;
  /**
   * Output arrays to reuse, aligned with `layers` (an entry may be undefined: that layer gets a
   * fresh array). Each must hold at least `(end − start) × dim` values; the result's `values` is
   * then a view of its first `(end − start) × dim` values.
   */
  into?: readonly (Float32Array | undefined)[];
  /**
   * Threads, this one included (see `activation-workers.ts`: W threads are this one and W − 1
   * workers): a count, or `'auto'` (all cores from 2,000 images on, one thread on the native
   * backend). Default 1 (this thread). The values are identical for any count.
   */
  workers?: number | 'auto';
}

/** The activations of one layer. */
export interface LayerActivations {
  /** Layer name. */
  name: string;
  /** Values per image (product of the layer's output shape without the batch axis). */
  dim: number;
  /** `n × dim` values, row-major (row i = image start + i). */
  values: Float32Array;
}

/** What {@link extractActivations} returns. */
export interface Activations {
  /** One entry per requested layer, in the requested order. */
  layers: LayerActivations[];
  /** Number of images extracted (`end − start`). */
  n: number;
}

/** Arrays from this size on are allocated by {@link allocateActivations} in a row store. */
export const ROW_STORE_MIN_BYTES = 64 * 2 ** 20;

/**
 * A zero-filled array for `length` activation values: from {@link ROW_STORE_MIN_BYTES} on in a row
 * store (`knn/canonical-wasm.ts`: the exact index re-ranks rows stored there in WebAssembly SIMD),
 * else a plain Float32Array. Either way an ordinary Float32Array to its readers.
 */
export function allocateActivations(length: number): Float32Array {
  return 4 * length >= ROW_STORE_MIN_BYTES ? allocateRowStore(length) : new Float32Array(length);
}

/** Default {@link ExtractActivationsOptions.batchSize}. */
export const DEFAULT_ACTIVATION_BATCH = 250;

/**
 * The named layers of `model` and their flattened output sizes.
 * @throws Error naming the unknown layer and listing the model's layer names; on an empty or
 *   duplicated list, or a layer whose output size is not fully known.
 */
export function layerDims(model: ClassifierModel, layers: readonly string[], where = 'extractActivations'): number[] {
  if (layers.length === 0) throw new Error(`${where}: expected at least 1 layer name, found none`);
  const seen = new Set<string>();
  if (isOnnxModel(model)) {
    return layers.map((name) => {
      if (seen.has(name)) throw new Error(`${where}: layer ${JSON.stringify(name)} is listed twice`);
      seen.add(name);
      return model.layerDim(name, where);
    });
  }
  const known = model.layers.map((l) => l.name);
  return layers.map((name) => {
    if (typeof name !== 'string' || !known.includes(name)) {
      throw new Error(`${where}: unknown layer ${JSON.stringify(name)}; the model's layers are ${known.join(', ')}`);
    }
    if (seen.has(name)) throw new Error(`${where}: layer ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
    const shape = model.getLayer(name).outputShape;
    if (!Array.isArray(shape) || Array.isArray(shape[0])) {
      throw new Error(`${where}: layer ${name} has several outputs; expected one`);
    }
    const dims = (shape as (number | null)[]).slice(1);
    if (dims.some((d) => d === null))
      throw new Error(
        `${where}: layer ${name} has output shape [${shape.join(', ')}]; every axis but the batch must be known`,
      );
    return (dims as number[]).reduce((a, b) => a * b, 1);
  });
}

/** Name of the model's (single) output layer (an ONNX model's logits tensor). */
export function outputLayerName(model: ClassifierModel): string {
  if (isOnnxModel(model)) return model.logits;
  if (model.outputs.length !== 1) throw new Error(`expected a model with 1 output, found ${model.outputs.length}`);
  return model.outputs[0].sourceLayer.name;
}

/**
 * Runs `model` on images [start, end) of `data` and returns the flattened outputs of the named
 * layers as `n × dim` Float32Arrays (allocated once, or the caller's `into` arrays).
 *
 * ```ts
 * const acts = await extractActivations(model, mnist.test, { layers: ['ReLU1', 'logits'], end: 1000 });
 * acts.layers[0].dim; // 12544
 * ```
 * Async only to let the event loop run between batches.
 * @throws Error for an unknown layer (listing the model's layers), a bad range, a pixel count that
 *   is not n × height × width × channels, images whose shape the model does not take, or an `into`
 *   array that is too short.
 */
export async function extractActivations(
  model: ClassifierModel,
  data: ImageBatch,
  options: ExtractActivationsOptions,
): Promise<Activations> {
  const { layers } = options;
  const dims = layerDims(model, layers);
  const batchSize = options.batchSize ?? DEFAULT_ACTIVATION_BATCH;
  checkPositiveInt('batchSize', batchSize);
  const { height, width, channels } = data;
  const pixels = height * width * channels;
  if (!Number.isSafeInteger(data.n) || data.n < 0 || data.images.length !== data.n * pixels) {
    throw new Error(
      `extractActivations: expected ${data.n}×${height}×${width}×${channels} = ${data.n * pixels} pixel values, found ${data.images.length}`,
    );
  }
  const inShape = isOnnxModel(model) ? model.imageShape : model.inputs[0]?.shape.slice(1);
  if (
    (!isOnnxModel(model) && model.inputs.length !== 1) ||
    !inShape ||
    inShape.join(',') !== [height, width, channels].join(',')
  ) {
    throw new Error(
      `extractActivations: the model takes input of shape [${inShape?.join(', ')}], the images are [${height}, ${width}, ${channels}]`,
    );
  }
  const start = options.start ?? 0;
  const end = options.end ?? data.n;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > data.n || start > end) {
    throw new RangeError(
      `extractActivations: bad range [${start}, ${end}) for ${data.n} images (need integers 0 <= start <= end <= ${data.n})`,
    );
  }
  const n = end - start;
  if (options.into && options.into.length > layers.length) {
    throw new Error(`extractActivations: into has ${options.into.length} arrays for ${layers.length} layers`);
  }
  const out: LayerActivations[] = layers.map((name, l) => {
    const need = n * dims[l];
    const given = options.into?.[l];
    if (given !== undefined) {
      if (!(given instanceof Float32Array) || given.length < need) {
        throw new Error(
          `extractActivations: into[${l}] (layer ${name}) must be a Float32Array of at least ${n} × ${dims[l]} = ${need} values, found ${given instanceof Float32Array ? given.length : typeof given}`,
        );
      }
      return { name, dim: dims[l], values: given.length === need ? given : given.subarray(0, need) };
    }
    return { name, dim: dims[l], values: allocateActivations(need) };
  });
  if (n === 0) return { layers: out, n };
  const stage = `extract ${layers.join('+')}`;
  const values = out.map((o) => o.values);
  if (isOnnxModel(model)) {
    await extractOnnx(model, data, { layers, values, start, end, batchSize, stage, onProgress: options.onProgress });
    return { layers: out, n };
  }
  const workers = extractWorkerCount(options.workers ?? 1, n, batchSize);
  if (workers > 1) {
    const pool = await activationPool(model, workers);
    await pool.extract(
      data,
      [...layers],
      dims,
      out.map((o) => o.values),
      { start, end, batchSize },
      options.onProgress,
    );
    return { layers: out, n };
  }

  const sub = layersModel(model, layers);
  for (let b = start; b < end; b += batchSize) {
    const e = Math.min(end, b + batchSize);
    await extractBatchHere(sub, data, b, e, values, dims, start);
    options.onProgress?.({ stage, done: e - start, total: n, unit: 'img' });
  }
  return { layers: out, n };
}

/** extractActivations' batches of an ONNX model: each through its session, straight into the rows. */
async function extractOnnx(
  model: OnnxModel,
  data: ImageBatch,
  o: {
    layers: readonly string[];
    values: Float32Array[];
    start: number;
    end: number;
    batchSize: number;
    stage: string;
    onProgress?: ProgressCallback;
  },
): Promise<void> {
  const pixels = data.height * data.width * data.channels;
  for (let b = o.start; b < o.end; b += o.batchSize) {
    const e = Math.min(o.end, b + o.batchSize);
    const images = data.images.subarray(b * pixels, e * pixels);
    await model.run({ images, count: e - b, layers: o.layers, into: o.values, row: b - o.start });
    o.onProgress?.({ stage: o.stage, done: e - o.start, total: o.end - o.start, unit: 'img' });
  }
}
