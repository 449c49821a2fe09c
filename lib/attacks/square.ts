/**
 * The Square Attack (Andriushchenko, Croce, Flammarion & Hein 2020), L∞, score-based: random
 * search over square-shaped updates, using only the model's scores. As the authors'
 * `square_attack_linf`: the margin loss (the label's score minus the largest other), a start at
 * vertical stripes of ±ε (one sign per column and channel), then at each iteration a window of
 * side s = round(√(p · height · width)) (at least 1, below the image's smaller side when it can
 * be) at a random place — its corner uniform in 0…height − s × 0…width − s, as the paper's
 * Algorithm 2 (the authors' code never reaches the last row and column) — gets one new ±ε per
 * channel (drawn again while it would change nothing), kept only when it lowers the margin; p
 * starts at `pInit` and is halved at 10, 50, 200, 500, 1,000, 2,000, 4,000, 6,000 and 8,000 of every 10,000 iterations
 * (their `p_selection`, scaled to the budget). An image stops as soon as it is misclassified.
 *
 * Queries: with a budget of Q per image, one query is the clean image (its label, when none is
 * given, is the model's prediction there, and an image already misclassified stops at it), one the
 * stripes, and Q − 2 the iterations — the authors' run with `n_iters` = Q − 1.
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
  marginOf,
  type ImagePlan,
  type QueryFn,
  type QueryPlan,
  type QueryResult,
} from './query';
import { checkClip, checkSeed, checkEps } from './utils';

/** Options of {@link square}. */
export interface SquareOptions {
  /** L∞ radius of the perturbation. Required, ≥ 0. */
  eps: number;
  /** Model queries per image at most, the clean query included. Default 1,000. */
  maxQueries?: number;
  /**
   * Initial fraction of the pixels a square covers, in (0, 1]. Default 0.05 (the authors' default
   * for L∞; their README advises larger values for robust models).
   */
  pInit?: number;
  /** Lower bound of every pixel. Default 0. */
  clipMin?: number;
  /** Upper bound of every pixel. Default 1. */
  clipMax?: number;
  /** Seed of the random search: the same seed gives the same images. Default 0 (the authors' `np.random.seed(0)`). */
  seed?: number;
  /** Labels, one per image (untargeted: move away from them). Default: the model's predictions on the clean images. */
  y?: ArrayLike<number>;
}

/** {@link SquareOptions} with every default filled in (the labels apart). */
export type ResolvedSquareOptions = Required<Omit<SquareOptions, 'y'>>;

/** Checks `options` and fills in the defaults. @throws RangeError naming the option, what was expected and what was found. */
export function resolveSquareOptions(options: Omit<SquareOptions, 'y'>): ResolvedSquareOptions {
  const { eps, maxQueries = 1000, pInit = 0.05, clipMin = 0, clipMax = 1, seed = 0 } = options;
  checkEps(eps);
  checkPositiveInt('maxQueries', maxQueries);
  if (typeof pInit !== 'number' || !(pInit > 0 && pInit <= 1))
    throw new RangeError(`pInit must be a fraction in (0, 1], found ${String(pInit)}`);
  checkClip(clipMin, clipMax);
  checkSeed(seed);
  return { eps, maxQueries, pInit, clipMin, clipMax, seed };
}

/** The authors' `p_selection`: the fraction of pixels a square covers at iteration `it` of `nIters`. */
export function squareFraction(pInit: number, it: number, nIters: number): number {
  const t = Math.floor((it / nIters) * 10000);
  const halvings = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000, 10000].findIndex((edge) => t <= edge);
  return halvings <= 0 ? pInit : pInit / 2 ** halvings;
}

/** Square's side at fraction `p` on a height × width image (at least 1, below the smaller side when it can be). */
export function squareSide(p: number, height: number, width: number): number {
  const s = Math.round(Math.sqrt(p * height * width));
  return Math.min(Math.max(s, 1), Math.max(1, Math.min(height, width) - 1));
}

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/** Draws at most this many times a window's signs that change nothing before querying it anyway. */
const MAX_REDRAWS = 100;

/** One image's Square Attack (see the module comment). */
function* squareImage(
  x: Float32Array,
  shape: { height: number; width: number; channels: number },
  o: ResolvedSquareOptions,
  rng: Rng,
  label: number | undefined,
): ImagePlan {
  const { height: h, width: w, channels: c } = shape;
  const { eps, clipMin, clipMax } = o;
  const clean = yield x;
  const classes = clean.length;
  const y = label ?? argmaxRow(clean, 0, classes);
  if (y >= classes) throw new Error(`label ${y} is not a class of the model's ${classes} scores`);
  if (argmaxRow(clean, 0, classes) !== y || eps === 0 || o.maxQueries < 2) return x;
  const best = new Float32Array(x.length);
  const stripes = Array.from({ length: w * c }, () => (rng.next() < 0.5 ? -eps : eps));
  for (let i = 0; i < x.length; i++) best[i] = clamp(x[i] + stripes[i % (w * c)], clipMin, clipMax);
  let scores = yield best;
  if (argmaxRow(scores, 0, classes) !== y) return best;
  let margin = marginOf(scores, 0, classes, y);
  const nIters = o.maxQueries - 1;
  const cand = new Float32Array(x.length);
  const signs = new Float64Array(c);
  for (let it = 0; it < nIters - 1; it++) {
    const s = squareSide(squareFraction(o.pInit, it, nIters), h, w);
    const r0 = rng.int(h - s + 1);
    const c0 = rng.int(w - s + 1);
    cand.set(best);
    for (let draw = 0, changed = false; !changed && draw < MAX_REDRAWS; draw++) {
      for (let k = 0; k < c; k++) signs[k] = rng.next() < 0.5 ? -eps : eps;
      for (let r = r0; r < r0 + s; r++)
        for (let q = c0; q < c0 + s; q++)
          for (let k = 0; k < c; k++) {
            const i = (r * w + q) * c + k;
            cand[i] = clamp(x[i] + signs[k], clipMin, clipMax);
            if (Math.abs(cand[i] - best[i]) >= 1e-7) changed = true;
          }
    }
    scores = yield cand;
    if (argmaxRow(scores, 0, classes) !== y) return cand;
    const m = marginOf(scores, 0, classes, y);
    if (m < margin) {
      margin = m;
      best.set(cand);
    }
  }
  return best;
}

/**
 * The Square Attack on a batch as a query plan (see `query.ts`): any model answers it.
 * `onProgress` gets the fraction of the batch done.
 */
export function squarePlan(
  x: ImageBatch,
  options: ResolvedSquareOptions & { y?: ArrayLike<number> },
  onProgress?: (fraction: number) => void,
): QueryPlan {
  const per = checkImageBatch(x);
  checkQueryLabels(options.y, x.n);
  const plans = Array.from({ length: x.n }, (_, i) => {
    const image = x.images.subarray(i * per, (i + 1) * per);
    return squareImage(image, x, options, imageRng(options.seed, image), options.y?.[i]);
  });
  return lockstep(plans, per, options.maxQueries, onProgress);
}

/**
 * Adversarial images of `x` by the Square Attack against `model` (scores: logits, or any score
 * per class), and the queries each took. Untargeted; the images stay within `eps` (L∞) of `x` and
 * within [clipMin, clipMax]. `x` is only read.
 * @throws RangeError on a bad option (naming it); Error on labels of the wrong length or range.
 */
export async function square(
  model: QueryFn,
  x: ImageBatch,
  options: SquareOptions & { onProgress?: (fraction: number) => void },
): Promise<QueryResult> {
  const resolved = resolveSquareOptions(options);
  return answerPlan(squarePlan(x, { ...resolved, y: options.y }, options.onProgress), model, x);
}
