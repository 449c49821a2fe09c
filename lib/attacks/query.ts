/**
 * What the attacks that need no gradients share. The model is a {@link QueryFn}: a batch of images
 * in, one score per class out (logits, probabilities, the DkNN's p-values; adapters for a tfjs
 * model, an ONNX model and the DkNN are below; the attacks use the
 * argmax, and Square the differences). An attack is written per image as a generator (an
 * {@link ImagePlan}) that yields the images it wants scored and receives their scores; {@link lockstep}
 * runs the plans of a batch together — one model call per round for every image still running —
 * counts each image's queries, holds it to its budget and reports progress; {@link answerPlan}
 * (any QueryFn, awaited) and {@link answerPlanSync} (a synchronous one: a tfjs model on the main
 * thread or on a crafting worker) answer the rounds. The same plan gives the same images whichever
 * answers it, and each image's random stream is seeded from the seed and its own pixels
 * ({@link imageRng}), so the batch size does not change the draws.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageBatch } from '../data/types';
import type { DkNN } from '../dknn/dknn';
import type { OnnxModel } from '../models/onnx';
import { createRng, type Rng } from '../util/random';
import type { ModelFn } from './utils';

/** Scores of `n` queries, `n × classes` values, row by row. */
export type Scores = Float32Array | Float64Array;

/** A model seen only through its outputs: `batch.n` images in, `batch.n × classes` scores out. */
export type QueryFn = (batch: ImageBatch) => Scores | Promise<Scores>;

/** A synchronous {@link QueryFn} (a tfjs model): what a crafting worker or `Attack.run` can drive. */
export type SyncQueryFn = (batch: ImageBatch) => Scores;

/** One image's attack: yields images to score (k × pixels values), receives their scores (k × classes); returns its adversarial image. */
export type ImagePlan = Generator<Float32Array, Float32Array, Scores>;

/** One round of a batch's queries: `n` images (NHWC, flat) to score together. */
export interface QueryRound {
  images: Float32Array;
  n: number;
}

/** What a batch's attack ends with: the adversarial images and every image's queries. */
export interface QueryResult {
  images: Float32Array;
  /** Model queries per image, the clean query included. */
  queries: Int32Array;
}

/** A batch's attack: rounds of queries, then its {@link QueryResult}. */
export type QueryPlan = Generator<QueryRound, QueryResult, Scores>;

/** Images scored per model call at most (a round is split into calls of this size). */
export const QUERY_CHUNK = 1000;

/**
 * Runs the plans of one batch in lockstep (see the module comment). `pixels` is the size of an
 * image; `maxQueries` the budget of each. `onProgress` gets the fraction done (an image that has
 * finished counts 1, a running one its queries over the budget), at most every 1 %.
 * @throws when a plan asks for more queries than its budget left, or the scores do not split into
 *   whole rows of at least two classes, or one is not finite.
 */
export function* lockstep(
  plans: ImagePlan[],
  pixels: number,
  maxQueries: number,
  onProgress?: (fraction: number) => void,
): QueryPlan {
  const n = plans.length;
  const queries = new Int32Array(n);
  const out = new Float32Array(n * pixels);
  const asked: (Float32Array | null)[] = new Array<Float32Array | null>(n).fill(null);
  let finished = 0;
  const step = (i: number, r: IteratorResult<Float32Array, Float32Array>) => {
    if (r.done) {
      if (r.value.length !== pixels)
        throw new Error(`query attack: image ${i} ended with ${r.value.length} values, expected ${pixels}`);
      out.set(r.value, i * pixels);
      asked[i] = null;
      finished++;
      return;
    }
    const k = r.value.length / pixels;
    if (!Number.isInteger(k) || k < 1)
      throw new Error(`query attack: image ${i} asked to score ${r.value.length} values, not a whole number of images`);
    if (queries[i] + k > maxQueries)
      throw new Error(
        `query attack: image ${i} asked for ${k} more queries with ${queries[i]} of its budget of ${maxQueries} used`,
      );
    queries[i] += k;
    asked[i] = r.value;
  };
  plans.forEach((p, i) => step(i, p.next()));
  let reported = -1;
  while (finished < n) {
    const running: number[] = [];
    let total = 0;
    for (let i = 0; i < n; i++)
      if (asked[i]) {
        running.push(i);
        total += asked[i]!.length / pixels;
      }
    const images = new Float32Array(total * pixels);
    let at = 0;
    for (const i of running) {
      images.set(asked[i]!, at);
      at += asked[i]!.length;
    }
    const scores: Scores = yield { images, n: total };
    const classes = checkScores(scores, total);
    let row = 0;
    for (const i of running) {
      const k = asked[i]!.length / pixels;
      step(i, plans[i].next(scores.subarray(row * classes, (row + k) * classes)));
      row += k;
    }
    if (onProgress) {
      let done = finished;
      for (const i of running) if (asked[i]) done += queries[i] / maxQueries;
      const fraction = done / n;
      if (fraction - reported >= 0.01 || finished === n) {
        reported = fraction;
        onProgress(fraction);
      }
    }
  }
  return { images: out, queries };
}

/** The number of classes of `scores` for `n` queries. @throws naming what was found. */
function checkScores(scores: Scores, n: number): number {
  if (!(scores instanceof Float32Array || scores instanceof Float64Array))
    throw new TypeError(
      `query attack: the model must return a Float32Array or Float64Array of scores, found ${Object.prototype.toString.call(scores)}`,
    );
  const classes = scores.length / n;
  if (!Number.isInteger(classes) || classes < 2)
    throw new Error(
      `query attack: the model returned ${scores.length} scores for ${n} images; expected n × classes with at least 2 classes`,
    );
  for (let i = 0; i < scores.length; i++)
    if (!Number.isFinite(scores[i]))
      throw new Error(
        `query attack: the model returned ${scores[i]} as score ${i % classes} of query ${Math.floor(i / classes)}; expected finite scores`,
      );
  return classes;
}

function roundBatch(r: QueryRound, shape: Omit<ImageBatch, 'images' | 'n'>, start: number, end: number): ImageBatch {
  const per = shape.height * shape.width * shape.channels;
  return { ...shape, images: r.images.subarray(start * per, end * per), n: end - start };
}

function joined(parts: Scores[]): Scores {
  if (parts.length === 1) return parts[0];
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Drives `plan` to its end with `model` (awaited; rounds split into calls of {@link QUERY_CHUNK} images). */
export async function answerPlan(
  plan: QueryPlan,
  model: QueryFn,
  shape: Omit<ImageBatch, 'images' | 'n'>,
): Promise<QueryResult> {
  let r = plan.next();
  while (!r.done) {
    const parts: Scores[] = [];
    for (let s = 0; s < r.value.n; s += QUERY_CHUNK)
      parts.push(await model(roundBatch(r.value, shape, s, Math.min(r.value.n, s + QUERY_CHUNK))));
    r = plan.next(joined(parts));
  }
  return r.value;
}

/** {@link answerPlan} for a synchronous model (`Attack.run`, the crafting worker). */
export function answerPlanSync(
  plan: QueryPlan,
  model: SyncQueryFn,
  shape: Omit<ImageBatch, 'images' | 'n'>,
): QueryResult {
  let r = plan.next();
  while (!r.done) {
    const parts: Scores[] = [];
    for (let s = 0; s < r.value.n; s += QUERY_CHUNK)
      parts.push(model(roundBatch(r.value, shape, s, Math.min(r.value.n, s + QUERY_CHUNK))));
    r = plan.next(joined(parts));
  }
  return r.value;
}

/** A tfjs model function (logits) as a synchronous {@link QueryFn}. */
export function tensorQueryFn(modelFn: ModelFn): SyncQueryFn {
  return (b) =>
    tf.tidy(() => modelFn(tf.tensor4d(b.images, [b.n, b.height, b.width, b.channels])).dataSync() as Float32Array);
}

/** An ONNX classifier (`loadOnnxModel`) as a {@link QueryFn}: its logits tensor. */
export function onnxQueryFn(model: OnnxModel): QueryFn {
  return async (b) => {
    const into = new Float32Array(b.n * model.numClasses);
    await model.run({ images: b.images, count: b.n, layers: [model.logits], into: [into], row: 0 });
    return into;
  };
}

/**
 * The DkNN as a {@link QueryFn}: its p-values per class (n × classes) as the scores, so its
 * prediction is the argmax and its credibility the largest score; Square's margin is then the
 * label's p-value minus the largest other one. Every query is a `dknn.predict` (one per round).
 */
export function dknnQueryFn(dknn: Pick<DkNN, 'predict'>): QueryFn {
  return async (batch) => (await dknn.predict(batch)).pValues;
}

/** argmax of row `row` of `scores` (lowest class on ties). */
export function argmaxRow(scores: Scores, row: number, classes: number): number {
  let best = 0;
  for (let j = 1; j < classes; j++) if (scores[row * classes + j] > scores[row * classes + best]) best = j;
  return best;
}

/** The margin of label `y` in row `row`: its score minus the largest other score (≤ 0 once another class wins). */
export function marginOf(scores: Scores, row: number, classes: number, y: number): number {
  let other = -Infinity;
  for (let j = 0; j < classes; j++) if (j !== y) other = Math.max(other, scores[row * classes + j]);
  return scores[row * classes + y] - other;
}

/**
 * The random stream of one image: seeded from `seed` and the image's own pixels (FNV-1a over
 * their bits), so that an image gets the same draws in any batch, at any position, on any thread.
 */
export function imageRng(seed: number, pixels: Float32Array): Rng {
  const bits = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.length);
  let h = 0x811c9dc5;
  for (const word of [seed >>> 0, Math.floor(seed / 4294967296) >>> 0, ...bits]) {
    h ^= word;
    h = Math.imul(h, 0x01000193);
  }
  return createRng(h >>> 0);
}

/**
 * The labels of a batch: `y` checked (one integer per image), or undefined (then each image's
 * label is the model's prediction on its clean query). @throws naming what was found.
 */
export function checkQueryLabels(y: ArrayLike<number> | undefined, n: number): void {
  if (y === undefined) return;
  if (y.length !== n) throw new Error(`y must hold one label per image: expected ${n}, found ${y.length}`);
  for (let i = 0; i < n; i++)
    if (!Number.isInteger(y[i]) || y[i] < 0)
      throw new Error(`y[${i}] is ${y[i]}: expected a class index (an integer ≥ 0)`);
}

/** @throws naming the batch's expected and found sizes. */
export function checkImageBatch(x: ImageBatch): number {
  const { n, height, width, channels } = x;
  for (const [k, v] of Object.entries({ n, height, width, channels }))
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`x.${k} must be a positive integer, found ${v}`);
  const per = height * width * channels;
  if (!(x.images instanceof Float32Array) || x.images.length !== n * per)
    throw new Error(
      `x.images must be a Float32Array of n × height × width × channels = ${n * per} values, found ${x.images?.length ?? String(x.images)}`,
    );
  return per;
}
