/**
 * The Fast Gradient (Sign) Method (Goodfellow et al. 2015), CleverHans v4 `fast_gradient_method`:
 * one step of size eps along the optimal direction of the linearised loss,
 * `x' = clip(x + optimizeLinear(∇ₓ loss(y, modelFn(x)), eps, norm))`.
 *
 * The reference DkNN experiment: `fgsm(logitsFn(model), x, { eps: 0.25, clipMin: 0, clipMax: 1 })`
 * (L∞, labels = the DNN's own predictions).
 */
import * as tf from '@tensorflow/tfjs';
import {
  checkBatch,
  checkClip,
  checkEps,
  checkLabelRange,
  checkLabels,
  numClassesOf,
  checkNorm,
  clipToRange,
  computeGradient,
  optimizeLinear,
  crossEntropyFor,
  type GradientSemantics,
  type LossFn,
  type ModelFn,
  type Norm,
} from './utils';

/** Options of {@link fgsm}. */
export interface FgsmOptions {
  /** Size of the step (the norm of the perturbation before clipping). Required, ≥ 0. */
  eps: number;
  /** Norm of the step. Default `'linf'` (the sign of the gradient). */
  norm?: Norm;
  /** Lower bound of every input value; give both bounds or neither. Default: no clipping. */
  clipMin?: number;
  /** Upper bound of every input value; give both bounds or neither. Default: no clipping. */
  clipMax?: number;
  /**
   * Integer labels `[n]`: the true labels (untargeted) or the targets (targeted). Default: the
   * model's own predictions on `x` (avoids label leaking, as CleverHans and the DkNN reference).
   */
  y?: tf.Tensor1D;
  /** Move towards `y` (descend its loss) instead of away from it. Default false. */
  targeted?: boolean;
  /**
   * How the cross-entropy gradient is computed (see `GradientSemantics`): `'reference'` (default:
   * TensorFlow's and PyTorch's float32 softmax − onehot, as CleverHans) or `'exact'`.
   */
  gradient?: GradientSemantics;
  /** Per-example loss of (labels, logits). Default: the softmax cross-entropy of {@link gradient}. */
  lossFn?: LossFn;
}

/**
 * Adversarial examples for the batch `x` by the fast gradient method.
 *
 * Tensor ownership: `x` and `options.y` are read, not disposed; the returned tensor (shaped like
 * `x`) is new and belongs to the caller. No other tensor outlives the call.
 * @param modelFn returns logits for a batch.
 * @throws RangeError on a negative eps, an unknown norm, one-sided or inverted clip bounds; Error on
 *   labels of the wrong shape or a targeted attack without labels.
 */
export function fgsm(modelFn: ModelFn, x: tf.Tensor, options: FgsmOptions): tf.Tensor {
  const {
    eps,
    norm = 'linf',
    clipMin,
    clipMax,
    y,
    targeted = false,
    gradient = 'reference',
    lossFn = crossEntropyFor(gradient),
  } = options;
  checkEps(eps);
  checkNorm(norm);
  checkClip(clipMin, clipMax);
  checkBatch(x);
  checkLabels(y, x, targeted);
  if (y) checkLabelRange(y, numClassesOf(modelFn, x));
  return tf.tidy(() => {
    const grad = computeGradient(modelFn, lossFn, x, y ?? 'predictions', targeted);
    return clipToRange(tf.add(x, optimizeLinear(grad, eps, norm)), clipMin, clipMax);
  });
}
