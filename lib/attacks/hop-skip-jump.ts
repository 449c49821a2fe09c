/**
 * HopSkipJump (Chen, Jordan & Wainwright 2020), decision-based: only the model's predicted label
 * is used. As the authors' `hsja` (untargeted), L∞ by default, L2 on request:
 * - a start: uniform noise drawn until it is misclassified, blended towards the image by a binary
 *   search (to 0.001) — their `initialize`;
 * - the boundary binary search ({@link boundarySearch}) between the image and an adversarial
 *   point, along their `project` (L∞: clipping to the box of half-width t around the image; L2:
 *   the blend), to a precision θ = γ / d² (L∞) or γ / d^1.5 (L2), relative to the distance for L∞;
 * - at each iteration j: the gradient direction at the boundary point from the signs of
 *   100·√j queries at random unit directions scaled by δ (0.1 of the pixel range at j = 1, then
 *   d·θ·distance for L∞, √d·θ·distance for L2), with their baseline subtraction; the update is its
 *   sign (L∞) or itself (L2); the step, distance/√j, is halved until the point is adversarial
 *   (their geometric progression); then the binary search back to the boundary.
 * With `eps` (required) an image stops as soon as its boundary point is within `eps` of it; one
 * that is not, when the budget or the iterations run out, ends at the projection of its boundary
 * point onto the `eps` ball (within the ball, adversarial or not: the evaluation decides).
 * Queries count the clean image (its label, when none is given, is the model's prediction there).
 */
import { checkPositiveInt } from '../util/checks';
import type { Rng } from '../util/random';
import type { ImageBatch } from '../data/types';
import {
  answerPlan,
  argmaxRow,
  checkImageBatch,
  checkQueryLabels,
  imageRng,
  lockstep,
  type ImagePlan,
  type QueryFn,
  type QueryPlan,
  type QueryResult,
  type Scores,
} from './query';
import { checkClip, checkSeed, checkEps, checkNorm } from './utils';

/** Options of {@link hopSkipJump}. */
export interface HopSkipJumpOptions {
  /** Radius of the ball the result stays in; an image stops once its boundary point is within it. Required, ≥ 0. */
  eps: number;
  /** `'linf'` (default) or `'l2'`: the distance minimised and the ball. */
  norm?: 'linf' | 'l2';
  /** Model queries per image at most, the clean query included. Default 5,000. */
  maxQueries?: number;
  /** Iterations at most (each: a gradient estimate, a step search, a binary search). Default 40 (the authors'). */
  numIterations?: number;
  /** γ of the binary search's precision θ. Default 1 (the authors'). */
  gamma?: number;
  /** Queries of the first gradient estimate (then × √j). Default 100 (the authors'). */
  initNumEvals?: number;
  /** Queries of a gradient estimate at most. Default 10,000 (the authors'). */
  maxNumEvals?: number;
  /** Lower bound of every pixel. Default 0. */
  clipMin?: number;
  /** Upper bound of every pixel. Default 1. */
  clipMax?: number;
  /** Seed of the random start and directions: the same seed gives the same images. Default 0. */
  seed?: number;
  /** Labels, one per image (untargeted). Default: the model's predictions on the clean images. */
  y?: ArrayLike<number>;
}

/** {@link HopSkipJumpOptions} with every default filled in (the labels apart). */
export type ResolvedHopSkipJumpOptions = Required<Omit<HopSkipJumpOptions, 'y'>>;

/** Checks `options` and fills in the defaults. @throws RangeError naming the option, what was expected and what was found. */
export function resolveHopSkipJumpOptions(options: Omit<HopSkipJumpOptions, 'y'>): ResolvedHopSkipJumpOptions {
  const { eps, norm = 'linf', maxQueries = 5000, numIterations = 40, gamma = 1 } = options;
  const { initNumEvals = 100, maxNumEvals = 10000, clipMin = 0, clipMax = 1, seed = 0 } = options;
  checkEps(eps);
  checkNorm(norm, ['linf', 'l2']);
  checkPositiveInt('maxQueries', maxQueries);
  checkPositiveInt('numIterations', numIterations);
  if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma <= 0)
    throw new RangeError(`gamma must be a finite number > 0, found ${String(gamma)}`);
  checkPositiveInt('initNumEvals', initNumEvals);
  checkPositiveInt('maxNumEvals', maxNumEvals);
  checkClip(clipMin, clipMax);
  checkSeed(seed);
  return { eps, norm, maxQueries, numIterations, gamma, initNumEvals, maxNumEvals, clipMin, clipMax, seed };
}

/** The binary search's precision θ for `d` pixels (the authors': γ / d² for L∞, γ / (√d · d) for L2). */
export function hsjTheta(norm: 'linf' | 'l2', d: number, gamma: number): number {
  return norm === 'linf' ? gamma / (d * d) : gamma / (Math.sqrt(d) * d);
}

/** The distance of `a` from `b` in `norm`. */
export function distance(a: Float32Array, b: Float32Array, norm: 'linf' | 'l2'): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i] - b[i]);
    s = norm === 'linf' ? Math.max(s, v) : s + v * v;
  }
  return norm === 'linf' ? s : Math.sqrt(s);
}

/** The authors' `project`: L∞ `p` clipped to the box of half-width `t` around `x`; L2 the blend (1 − t)·x + t·p. */
export function project(x: Float32Array, p: Float32Array, t: number, norm: 'linf' | 'l2'): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++)
    out[i] = norm === 'linf' ? Math.min(Math.max(p[i], x[i] - t), x[i] + t) : (1 - t) * x[i] + t * p[i];
  return out;
}

/** What a plan asks of the model: whether each image is adversarial, the queries counted against the budget. */
export interface Oracle {
  /** Queries left of the budget. */
  left(): number;
  /** Yields `images` (k × pixels) and returns whether each is misclassified. */
  ask(images: Float32Array): Generator<Float32Array, boolean[], Scores>;
}

/** An {@link Oracle} for one image of `pixels` values and label `label`, with `left` queries. */
export function oracle(pixels: number, label: number, left: number): Oracle {
  return {
    left: () => left,
    *ask(images) {
      const k = images.length / pixels;
      left -= k;
      const scores = yield images;
      const classes = scores.length / k;
      return Array.from({ length: k }, (_, i) => argmaxRow(scores, i, classes) !== label);
    },
  };
}

/**
 * The authors' boundary binary search between `x` (not adversarial) and `p` (adversarial) along
 * {@link project}: returns the adversarial end `point` (within the precision of the boundary) and
 * the distance of `p` (their `dist_post_update`). Stops early when the oracle's budget runs out.
 */
export function* boundarySearch(
  o: Oracle,
  x: Float32Array,
  p: Float32Array,
  norm: 'linf' | 'l2',
  theta: number,
): Generator<Float32Array, { point: Float32Array; dist: number; high: number }, Scores> {
  const dist = distance(p, x, norm);
  let high = norm === 'linf' ? dist : 1;
  const threshold = norm === 'linf' ? Math.min(dist * theta, theta) : theta;
  let low = 0;
  while (threshold > 0 && (high - low) / threshold > 1 && o.left() > 0) {
    const mid = (high + low) / 2;
    const [adversarial] = yield* o.ask(project(x, p, mid, norm));
    if (adversarial) high = mid;
    else low = mid;
  }
  return { point: project(x, p, high, norm), dist, high };
}

/** The authors' `initialize`: uniform noise until misclassified, blended towards `x`; null when the budget runs out first. */
function* start(
  o: Oracle,
  x: Float32Array,
  opts: ResolvedHopSkipJumpOptions,
  rng: Rng,
): Generator<Float32Array, Float32Array | null, Scores> {
  const { clipMin: lo, clipMax: hi } = opts;
  const noise = new Float32Array(x.length);
  let found = false;
  while (!found && o.left() > 0) {
    for (let i = 0; i < noise.length; i++) noise[i] = lo + (hi - lo) * rng.next();
    [found] = yield* o.ask(noise);
  }
  if (!found) return null;
  let low = 0;
  let high = 1;
  while (high - low > 0.001 && o.left() > 0) {
    const mid = (high + low) / 2;
    const [adversarial] = yield* o.ask(project(x, noise, mid, 'l2'));
    if (adversarial) high = mid;
    else low = mid;
  }
  return project(x, noise, high, 'l2');
}

/** The authors' `approximate_gradient` at boundary point `b`: a unit direction, or null when no query is left. */
function* gradientDirection(
  o: Oracle,
  b: Float32Array,
  numEvals: number,
  delta: number,
  opts: ResolvedHopSkipJumpOptions,
  rng: Rng,
): Generator<Float32Array, Float64Array | null, Scores> {
  const k = Math.min(numEvals, o.left());
  if (k < 1) return null;
  const d = b.length;
  const probes = new Float32Array(k * d);
  const rv = new Float64Array(d);
  for (let e = 0; e < k; e++) {
    let norm2 = 0;
    for (let i = 0; i < d; i++) {
      rv[i] = opts.norm === 'linf' ? 2 * rng.next() - 1 : rng.normal();
      norm2 += rv[i] * rv[i];
    }
    const scale = delta / Math.sqrt(norm2 || 1);
    for (let i = 0; i < d; i++)
      probes[e * d + i] = Math.min(Math.max(b[i] + scale * rv[i], opts.clipMin), opts.clipMax);
  }
  const decisions = yield* o.ask(probes);
  const fval = decisions.map((a) => (a ? 1 : -1));
  const mean = fval.reduce((s, v) => s + v, 0) / k;
  // Their baseline subtraction, unless every sign is the same.
  const weight = fval.map((f) => (mean === 1 || mean === -1 ? mean : f - mean));
  const grad = new Float64Array(d);
  for (let e = 0; e < k; e++)
    for (let i = 0; i < d; i++) grad[i] += (weight[e] * (probes[e * d + i] - b[i])) / delta / k;
  const norm = Math.sqrt(grad.reduce((s, v) => s + v * v, 0));
  if (norm > 0) for (let i = 0; i < d; i++) grad[i] /= norm;
  return grad;
}

/** The authors' geometric step search from boundary point `b` along `update`: the new adversarial point, or null when the budget runs out. */
function* geometricStep(
  o: Oracle,
  b: Float32Array,
  update: Float64Array,
  step: number,
  opts: ResolvedHopSkipJumpOptions,
): Generator<Float32Array, Float32Array | null, Scores> {
  const cand = new Float32Array(b.length);
  for (;;) {
    if (o.left() < 1) return null;
    for (let i = 0; i < b.length; i++)
      cand[i] = Math.min(Math.max(b[i] + step * update[i], opts.clipMin), opts.clipMax);
    const [adversarial] = yield* o.ask(cand);
    if (adversarial) return cand;
    step /= 2;
  }
}

/** `p` projected onto the `eps` ball of `norm` around `x`, within [clipMin, clipMax]. */
function intoBall(x: Float32Array, p: Float32Array, opts: ResolvedHopSkipJumpOptions): Float32Array {
  const { eps, norm, clipMin, clipMax } = opts;
  const dist = distance(p, x, norm);
  const t = norm === 'l2' && dist > eps ? eps / dist : 1;
  const out = norm === 'linf' ? project(x, p, eps, 'linf') : project(x, p, t, 'l2');
  for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(out[i], clipMin), clipMax);
  return out;
}

/** One image's HopSkipJump (see the module comment). */
function* hsjImage(x: Float32Array, opts: ResolvedHopSkipJumpOptions, rng: Rng, label: number | undefined): ImagePlan {
  const d = x.length;
  const { norm, eps } = opts;
  const clean = yield x;
  const classes = clean.length;
  const y = label ?? argmaxRow(clean, 0, classes);
  if (y >= classes) throw new Error(`label ${y} is not a class of the model's ${classes} scores`);
  if (argmaxRow(clean, 0, classes) !== y) return x;
  const o = oracle(d, y, opts.maxQueries - 1);
  const init = yield* start(o, x, opts, rng);
  if (!init) return x;
  const theta = hsjTheta(norm, d, opts.gamma);
  let { point, dist: distPost } = yield* boundarySearch(o, x, init, norm, theta);
  let dist = distance(point, x, norm);
  for (let j = 1; j <= opts.numIterations && dist > eps && o.left() > 0; j++) {
    const delta =
      j === 1 ? 0.1 * (opts.clipMax - opts.clipMin) : (norm === 'linf' ? d : Math.sqrt(d)) * theta * distPost;
    const numEvals = Math.min(Math.floor(opts.initNumEvals * Math.sqrt(j)), opts.maxNumEvals);
    const grad = yield* gradientDirection(o, point, numEvals, delta, opts, rng);
    if (!grad) break;
    const update = norm === 'linf' ? grad.map(Math.sign) : grad;
    const stepped = yield* geometricStep(o, point, update, dist / Math.sqrt(j), opts);
    if (!stepped) break;
    ({ point, dist: distPost } = yield* boundarySearch(o, x, stepped, norm, theta));
    dist = distance(point, x, norm);
  }
  return dist <= eps ? point : intoBall(x, point, opts);
}

/**
 * HopSkipJump on a batch as a query plan (see `query.ts`): any model answers it (only the argmax
 * of its scores is used). `onProgress` gets the fraction of the batch done.
 */
export function hopSkipJumpPlan(
  x: ImageBatch,
  options: ResolvedHopSkipJumpOptions & { y?: ArrayLike<number> },
  onProgress?: (fraction: number) => void,
): QueryPlan {
  const per = checkImageBatch(x);
  checkQueryLabels(options.y, x.n);
  const plans = Array.from({ length: x.n }, (_, i) => {
    const image = x.images.subarray(i * per, (i + 1) * per);
    return hsjImage(image, options, imageRng(options.seed, image), options.y?.[i]);
  });
  return lockstep(plans, per, options.maxQueries, onProgress);
}

/**
 * Adversarial images of `x` by HopSkipJump against `model` (only its predicted labels are used),
 * and the queries each took. Untargeted; the images stay within `eps` of `x` in `norm` and within
 * [clipMin, clipMax]. `x` is only read.
 * @throws RangeError on a bad option (naming it); Error on labels of the wrong length or range.
 */
export async function hopSkipJump(
  model: QueryFn,
  x: ImageBatch,
  options: HopSkipJumpOptions & { onProgress?: (fraction: number) => void },
): Promise<QueryResult> {
  const resolved = resolveHopSkipJumpOptions(options);
  return answerPlan(hopSkipJumpPlan(x, { ...resolved, y: options.y }, options.onProgress), model, x);
}
