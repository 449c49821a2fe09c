/**
 * The Basic Iterative Method (Kurakin et al. 2016) — projected gradient descent (Madry et al.
 * 2017) when started from a random point — as CleverHans v4 `projected_gradient_descent` /
 * `basic_iterative_method`: `nbIter` fast-gradient steps of size `epsIter`, each followed by the
 * projection of `x' − x` onto the eps ball and clipping to [clipMin, clipMax].
 *
 * The labels are fixed once, before the first step: `y`, or the model's predictions on the clean `x`.
 */
import { checkPositiveInt } from '../util/checks';
import * as tf from '@tensorflow/tfjs';
import { fgsm } from './fgsm';
import {
  checkBatch,
  checkClip,
  checkSeed,
  checkEps,
  checkLabelRange,
  checkLabels,
  numClassesOf,
  checkNorm,
  clipEta,
  clipToRange,
  modelPredictions,
  crossEntropyFor,
  type GradientSemantics,
  type LossFn,
  type ModelFn,
  type Norm,
} from './utils';

/** Options of {@link bim}. */
export interface BimOptions {
  /** Radius of the ball around `x` the adversarial example stays in. Required, ≥ 0. */
  eps: number;
  /** Size of each step. Required, 0 ≤ epsIter ≤ eps (CleverHans asserts it). CleverHans v3 default: 0.05. */
  epsIter: number;
  /** Number of steps. Required, a positive integer. CleverHans v3 default: 10. */
  nbIter: number;
  /** `'linf'` or `'l2'` (CleverHans refuses L1: an L1 step moves only the largest-gradient coordinates). Default `'linf'`. */
  norm?: Norm;
  /** Lower bound of every input value; give both bounds or neither. Default: no clipping. */
  clipMin?: number;
  /** Upper bound of every input value; give both bounds or neither. Default: no clipping. */
  clipMax?: number;
  /** Integer labels `[n]` (true labels, or targets when targeted). Default: the model's predictions on `x`. */
  y?: tf.Tensor1D;
  /** Move towards `y` instead of away from it. Default false. */
  targeted?: boolean;
  /** Start from a uniformly random point of the `randMinmax` ball (PGD) instead of `x` (BIM). Default false. */
  randInit?: boolean;
  /** Radius of the random start. Default `eps`. */
  randMinmax?: number;
  /** Seed of the random start: the same seed gives the same result. Default: unseeded. */
  seed?: number;
  /**
   * How the cross-entropy gradient is computed (see `GradientSemantics`): `'reference'` (default:
   * TensorFlow's and PyTorch's float32 softmax − onehot, as CleverHans) or `'exact'`.
   */
  gradient?: GradientSemantics;
  /** Per-example loss of (labels, logits). Default: the softmax cross-entropy of {@link gradient}. */
  lossFn?: LossFn;
}

/** A uniformly random point of the `radius` ball of `norm` per example (CleverHans `random_lp_vector`). New tensor. */
function randomLpVector(shape: number[], norm: 'linf' | 'l2', radius: number, seed: number | undefined): tf.Tensor {
  return tf.tidy(() => {
    if (norm === 'linf') return tf.randomUniform(shape, -radius, radius, 'float32', seed);
    // Uniform in the L2 ball: a Gaussian direction, scaled by radius · w^(1/d), w ~ U[0, 1).
    const n = shape[0];
    const d = shape.slice(1).reduce((a, b) => a * b, 1);
    const g = tf.randomNormal([n, d], 0, 1, 'float32', seed);
    const dir = tf.div(g, tf.sqrt(tf.maximum(1e-12, tf.sum(tf.square(g), 1, true))));
    const w = tf.pow(tf.randomUniform([n, 1], 0, 1, 'float32', seed === undefined ? undefined : seed + 1), 1 / d);
    return tf.reshape(tf.mul(dir, tf.mul(w, radius)), shape);
  });
}

/**
 * Adversarial examples for the batch `x` by the basic iterative method (PGD with `randInit`).
 *
 * Tensor ownership: `x` and `options.y` are read, not disposed; the returned tensor (shaped like
 * `x`) is new and belongs to the caller. Every intermediate is disposed after its step.
 * @throws RangeError on a negative eps/epsIter, epsIter > eps, nbIter not a positive integer, a
 *   norm other than linf/l2, one-sided or inverted clip bounds; Error on bad labels.
 */
export function bim(modelFn: ModelFn, x: tf.Tensor, options: BimOptions): tf.Tensor {
  const {
    eps,
    epsIter,
    nbIter,
    norm = 'linf',
    clipMin,
    clipMax,
    y,
    targeted = false,
    randInit = false,
    seed,
    gradient = 'reference',
    lossFn = crossEntropyFor(gradient),
  } = options;
  const randMinmax = options.randMinmax ?? eps;
  checkEps(eps);
  checkEps(epsIter, 'epsIter');
  if (epsIter > eps) throw new RangeError(`epsIter ${epsIter} must be ≤ eps ${eps}`);
  checkPositiveInt('nbIter', nbIter);
  checkNorm(norm, ['linf', 'l2']);
  checkClip(clipMin, clipMax);
  checkEps(randMinmax, 'randMinmax');
  if (seed !== undefined) checkSeed(seed);
  checkBatch(x);
  checkLabels(y, x, targeted);
  if (y) checkLabelRange(y, numClassesOf(modelFn, x));

  const labels = y ?? modelPredictions(modelFn, x);
  try {
    let adv = tf.tidy(() => {
      const eta = randInit
        ? clipEta(randomLpVector(x.shape, norm as 'linf' | 'l2', randMinmax, seed), norm, eps)
        : tf.zerosLike(x);
      return clipToRange(tf.add(x, eta), clipMin, clipMax);
    });
    for (let i = 0; i < nbIter; i++) {
      const next = tf.tidy(() => {
        const stepped = fgsm(modelFn, adv, { eps: epsIter, norm, clipMin, clipMax, y: labels, targeted, lossFn });
        // Project onto the eps ball around x, then clip again (subtracting and re-adding eta can
        // leave tiny numerical excursions, as CleverHans notes).
        return clipToRange(tf.add(x, clipEta(tf.sub(stepped, x), norm, eps)), clipMin, clipMax);
      });
      adv.dispose();
      adv = next;
    }
    return adv;
  } finally {
    if (labels !== y) labels.dispose();
  }
}
