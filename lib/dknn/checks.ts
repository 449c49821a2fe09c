/** Input checks and small helpers of the DkNN (lib/dknn.ts), kept apart to keep that file about the pipeline. */
import { dknnMetadata } from '../models/metadata';
import { isOnnxModel } from '../models/onnx';
import { classifierHash, classifierLayerNames, classifierOutputDim, type ClassifierModel } from '../models/classifier';
import type { ImageBatch, LabeledImages } from '../data/types';
import { exactIndexFactory } from '../knn/exact/exact';
import type { NeighborIndexFactory } from '../knn/types';
import type { DkNNOptions } from './types';

/** The layers a DkNN reads: the given list (checked to be an array of names), else the model's recorded ones (an ONNX model's, those of its load). */
export function dknnLayers(model: ClassifierModel, given: readonly string[] | undefined): string[] {
  if (given === undefined) {
    const recorded = isOnnxModel(model) ? model.dknnLayers : dknnMetadata(model).layers;
    if (!recorded)
      throw new Error(
        `DkNN: pass layers (the model records no DkNN layers); its layers are ${classifierLayerNames(model).join(', ')}`,
      );
    return [...recorded];
  }
  if (!Array.isArray(given) || !given.every((l) => typeof l === 'string')) {
    throw new Error(`DkNN: layers must be an array of layer names, found ${JSON.stringify(given)}`);
  }
  return [...given];
}

/**
 * Every pixel finite, and inside `range` when one is known.
 * @throws Error naming the image, the pixel, its value and what was expected.
 */
export function checkPixels(
  where: string,
  what: string,
  batch: ImageBatch,
  range: readonly [number, number] | null,
): void {
  const px = batch.images;
  const per = batch.height * batch.width * batch.channels;
  const [lo, hi] = range ?? [-Infinity, Infinity];
  for (let i = 0; i < px.length; i++) {
    const v = px[i];
    if (v >= lo && v <= hi) continue; // NaN fails both comparisons
    const at = `${what} image ${Math.floor(i / per)}, pixel value ${i % per}`;
    if (!Number.isFinite(v))
      throw new Error(`${where}: ${at} is ${v}; expected finite pixel values${range ? ` in [${lo}, ${hi}]` : ''}`);
    throw new Error(`${where}: ${at} is ${v}; expected pixel values in [${lo}, ${hi}] (the training set's range)`);
  }
}

/**
 * A layer whose training activations are the same for every image carries no neighborhood: every
 * training point is equally near every input.
 * @throws Error naming the layer.
 */
export function checkNotConstant(layer: string, values: Float32Array, n: number, dim: number): void {
  for (let r = 1; r < n; r++) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) if (values[o + j] !== values[j]) return;
  }
  const zero = values.subarray(0, dim).every((v) => v === 0);
  throw new Error(
    `fit: layer ${layer} gives the same activations${zero ? ' (all zero)' : ''} for all ${n} training images, so its neighbors say nothing; check the training images or leave the layer out`,
  );
}

/** Argmax (lowest on ties) and softmax probability of it, per row of logits, written at `offset`. */
export function dnnFromLogits(
  logits: Float32Array,
  rows: number,
  cols: number,
  pred: Int32Array,
  conf: Float32Array,
  offset: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let best = 0;
    for (let c = 1; c < cols; c++) if (logits[o + c] > logits[o + best]) best = c;
    const max = logits[o + best];
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(logits[o + c] - max);
    pred[offset + r] = best;
    conf[offset + r] = 1 / sum;
  }
}

/** Checks `data`'s pixel count and labels (integers in 0…numClasses − 1) and returns the labels as Int32Array. */
export function checkLabels(where: string, data: LabeledImages, numClasses: number): Int32Array {
  const pixels = data.height * data.width * data.channels;
  if (!Number.isSafeInteger(data.n) || data.n < 0 || data.images.length !== data.n * pixels) {
    throw new Error(
      `${where}: expected ${data.n}×${data.height}×${data.width}×${data.channels} = ${data.n * pixels} pixel values, found ${data.images.length}`,
    );
  }
  if (!data.labels || data.labels.length !== data.n) {
    throw new Error(
      `${where}: expected ${data.n} labels (one per image), found ${data.labels ? data.labels.length : 'none'}`,
    );
  }
  const out = new Int32Array(data.n);
  for (let i = 0; i < data.n; i++) {
    const y = data.labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses)
      throw new Error(`${where}: labels[${i}] is ${y}, expected an integer in 0…${numClasses - 1}`);
    out[i] = y;
  }
  return out;
}

/** The index factory `options.index` asks for (the exact index with its backend and projection by default). */
export function indexFactoryOf(options: DkNNOptions): NeighborIndexFactory {
  const index = options.index ?? 'exact';
  if (index === 'exact')
    return exactIndexFactory({
      backend: options.exactBackend ?? 'auto',
      projection: options.exactProjection ?? 'auto',
    });
  if (
    typeof index === 'object' &&
    index !== null &&
    typeof index.create === 'function' &&
    typeof index.name === 'string'
  )
    return index;
  throw new Error(`index: expected 'exact' or a factory { name, create() }, found ${String(index)}`);
}

/** The number of classes the model's output tells. @throws when its last axis is not known. */
export function outputDim(model: ClassifierModel): number {
  const d = classifierOutputDim(model);
  if (d === null) throw new Error('DkNN: cannot tell the number of classes from the model output; pass numClasses');
  return d;
}

/**
 * The training set's class count against the model's output, and k against the training set: k
 * must be below n (else every point is a neighbour of every input); k above the smallest class's
 * count, or the model's output count other than the classes', gets a warning.
 * @returns the warnings (empty when none).
 * @throws when k ≥ n.
 */
export function fitWarnings(
  p: { k: number; labels: Int32Array; numClasses: number; dataName?: string },
  model: ClassifierModel,
  numClassesGiven: boolean,
): string[] {
  const { k, labels, numClasses } = p;
  const n = labels.length;
  if (k >= n)
    throw new Error(
      `fit: k = ${k} neighbors per layer needs more training points than k (every point would be a neighbor of every input); the training set has ${n}`,
    );
  const out: string[] = [];
  const outputs = classifierOutputDim(model);
  const name = p.dataName ?? 'the training set';
  if (!numClassesGiven && typeof outputs === 'number' && outputs !== numClasses)
    out.push(
      `fit: ${name} has ${numClasses} classes (its class names) but the model outputs ${outputs} logits; check the class list (pass numClasses to say which is right)`,
    );
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < n; i++) counts[labels[i]]++;
  let smallest = -1;
  for (let c = 0; c < numClasses; c++)
    if (counts[c] > 0 && (smallest < 0 || counts[c] < counts[smallest])) smallest = c;
  if (smallest >= 0 && k > counts[smallest])
    out.push(
      `fit: k = ${k} is more than the ${counts[smallest]} training points of class ${smallest}${k > n / 2 ? ` (and more than half of all ${n})` : ''}: at least ${k - counts[smallest]} neighbors per layer of an input of that class disagree with its label, so its credibility is biased low; use a k below the smallest class's count`,
    );
  return out;
}

/** A warning when the calibration set holds a single class: the p-values then describe that class alone. */
export function calibrationWarning(labels: Int32Array, numClasses: number): string | null {
  if (labels.length < 2 || numClasses < 2) return null;
  const first = labels[0];
  if (!labels.every((y) => y === first)) return null;
  return `calibrate: every one of the ${labels.length} calibration points is of class ${first}, so the p-values (and credibility) are calibrated on that class alone; hold out calibration points of every class`;
}

/** The p-value formula, the missing-neighbour rule and the p-value resolution of `options`, checked. @throws naming the option and what was found. */
export function scoringChoices(options: DkNNOptions): {
  formula: NonNullable<DkNNOptions['formula']>;
  missing: NonNullable<DkNNOptions['missing']>;
  resolution: number;
} {
  const formula = options.formula ?? 'reference';
  if (formula !== 'reference' && formula !== 'conformal')
    throw new Error(`formula: expected 'reference' or 'conformal', found ${String(formula)}`);
  const missing = options.missing ?? 'disagree';
  if (missing !== 'disagree' && missing !== 'ignore')
    throw new Error(`missing: expected 'disagree' or 'ignore', found ${String(missing)}`);
  const resolution = options.pValueResolution ?? 0.01;
  if (!(resolution > 0 && resolution <= 1))
    throw new RangeError(`pValueResolution must be in (0, 1], found ${resolution}`);
  return { formula, missing, resolution };
}

/** @throws when the model's weights changed since the fit whose hash is `fitHash`. */
export function checkModelUnchanged(model: ClassifierModel, fitHash: string): void {
  const now = classifierHash(model);
  if (now !== fitHash) {
    throw new Error(
      `the model's weights changed since fit (hash ${fitHash.slice(0, 12)}… → ${now.slice(0, 12)}…); call fit again`,
    );
  }
}

/** The warning when the calibration scores a formula divides by are fewer than 1/resolution, or null. */
export function resolutionWarning(p: {
  formula: string;
  size: number;
  scores: number;
  resolution: number;
}): string | null {
  const { formula, size, scores, resolution } = p;
  if (size >= 1 / resolution) return null;
  return (
    `calibrate: the ${formula} p-values divide by ${size} calibration score(s)${formula === 'reference' ? ` (${scores - size} zeros trimmed)` : ''}, ` +
    `so they move in steps of 1/${size} = ${(1 / size).toPrecision(3)}, coarser than the resolution ${resolution} asked for (pValueResolution); use a larger calibration set`
  );
}
