/** Slicing, shuffling and tensor conversion of {@link ImageDataset}s. */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../util/random';
import type { ImageDataset } from './types';

function checkRange(what: string, n: number, start: number, end: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
    throw new RangeError(`${what}: bad range [${start}, ${end}) for ${n} examples (need integers 0 <= start <= end <= ${n})`);
  }
}

/**
 * Examples [start, end) of `ds` (end defaults to ds.n) as views into the same buffers (no copy).
 * @throws RangeError unless 0 <= start <= end <= ds.n are integers.
 */
export function subset(ds: ImageDataset, range: { start?: number; end?: number }): ImageDataset {
  const { start = 0, end = ds.n } = range;
  checkRange('subset', ds.n, start, end);
  const per = ds.height * ds.width * ds.channels;
  return {
    ...ds,
    name: `${ds.name}[${start}:${end}]`,
    images: ds.images.subarray(start * per, end * per),
    labels: ds.labels.subarray(start, end),
    ...(ds.groups ? { groups: ds.groups.subarray(start, end) } : {}),
    n: end - start,
    classNames: [...ds.classNames],
    checksums: { ...ds.checksums },
  };
}

/**
 * Copies the examples at `indices` (in that order) into a new data set.
 * @throws RangeError for an index outside [0, ds.n).
 */
export function gather(ds: ImageDataset, indices: ArrayLike<number>, options?: { name?: string }): ImageDataset {
  const per = ds.height * ds.width * ds.channels;
  const m = indices.length;
  const images = new Float32Array(m * per);
  const labels = new Uint8Array(m);
  const groups = ds.groups ? new Int32Array(m) : undefined;
  for (let i = 0; i < m; i++) {
    const j = indices[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= ds.n) {
      throw new RangeError(`gather: index ${j} at position ${i} is outside [0, ${ds.n})`);
    }
    images.set(ds.images.subarray(j * per, (j + 1) * per), i * per);
    labels[i] = ds.labels[j]!;
    if (groups) groups[i] = ds.groups![j];
  }
  return {
    ...ds,
    name: options?.name ?? `${ds.name}[gather ${m}]`,
    images,
    labels,
    ...(groups ? { groups } : {}),
    n: m,
    classNames: [...ds.classNames],
    checksums: { ...ds.checksums },
  };
}

/**
 * A permutation of 0..n-1 (Fisher-Yates driven by {@link createRng}(seed)); the same (n, seed)
 * always gives the same permutation.
 */
export function seededPermutation(n: number, seed: number): Uint32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`seededPermutation: n must be an integer in [0, 2^32), got ${n}`);
  }
  const rng = createRng(seed);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

/**
 * Examples [start, end) as tensors: `xs` float32 [n, height, width, channels] and `ys` int32 [n]
 * class indices. The data are copied into the tensors, which belong to the caller: dispose them
 * (or create them inside tf.tidy) when done.
 * @throws RangeError for a bad range.
 */
export function toTensors(ds: ImageDataset, range: { start?: number; end?: number } = {}): { xs: tf.Tensor4D; ys: tf.Tensor1D } {
  const { start = 0, end = ds.n } = range;
  checkRange('toTensors', ds.n, start, end);
  const per = ds.height * ds.width * ds.channels;
  const n = end - start;
  const xs = tf.tensor4d(ds.images.slice(start * per, end * per), [n, ds.height, ds.width, ds.channels], 'float32');
  const ys = tf.tensor1d(Int32Array.from(ds.labels.subarray(start, end)), 'int32');
  return { xs, ys };
}

/**
 * The first `perClass` indices of each class 0…numClasses−1, in class order (fewer where a class
 * has fewer examples) — e.g. for a grid of sample digits.
 */
export function samplePerClass(
  labels: ArrayLike<number>,
  options: { numClasses: number; perClass: number },
): number[] {
  const { numClasses, perClass } = options;
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c >= 0 && c < numClasses && byClass[c].length < perClass) byClass[c].push(i);
  }
  return byClass.flat();
}

/**
 * Splits `ds` into training and validation parts with no group (e.g. GTSRB track) on both sides:
 * the groups are shuffled with a seeded permutation and taken into the validation part until it
 * holds about `validationFraction` of the examples. Examples keep their order within each part.
 * @throws when `ds` has no groups or the fraction is not in (0, 1).
 */
export function splitByGroup(ds: ImageDataset, options: { validationFraction?: number; seed?: number } = {}): { train: ImageDataset; validation: ImageDataset } {
  const fraction = options.validationFraction ?? 0.1;
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`splitByGroup: validationFraction must be in (0, 1), found ${fraction}`);
  const groups = ds.groups;
  if (!groups) throw new Error(`splitByGroup: ${ds.name} has no groups; use a seeded permutation instead`);
  const ids = [...new Set(groups)].sort((a, b) => a - b);
  const size = new Map<number, number>();
  for (const g of groups) size.set(g, (size.get(g) ?? 0) + 1);
  const order = seededPermutation(ids.length, options.seed ?? 1234);
  const chosen = new Set<number>();
  let taken = 0;
  for (let i = 0; i < order.length && taken < fraction * ds.n; i++) {
    const g = ids[order[i]];
    chosen.add(g);
    taken += size.get(g)!;
  }
  const trainIdx: number[] = [];
  const valIdx: number[] = [];
  for (let i = 0; i < ds.n; i++) (chosen.has(groups[i]) ? valIdx : trainIdx).push(i);
  return { train: gather(ds, trainIdx, { name: `${ds.name} (train part)` }), validation: gather(ds, valIdx, { name: `${ds.name} (validation part)` }) };
}
