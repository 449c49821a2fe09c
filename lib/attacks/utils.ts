/**
 * Helpers shared by the attacks (CleverHans v4 `cleverhans/tf2/utils.py`): the input gradient of a
 * loss, the optimal perturbation of a linearised loss under a norm budget, the projection of a
 * perturbation onto the norm ball, default labels, and argument checks with one error sentence each.
 *
 * Conventions of every attack in `lib/attacks/`:
 * - `modelFn(x)` returns LOGITS (not probabilities) for a batch `x` whose first axis is the batch;
 *   a `tf.LayersModel` fits through {@link logitsFn}.
 * - Tensor ownership: arguments (`x`, `y`, `grad`, `eta`, …) are only read, never disposed; the
 *   returned tensor is NEW and belongs to the caller (dispose it); no other tensor outlives a call.
 * - Norms are named `'linf'`, `'l1'`, `'l2'` (CleverHans: `np.inf`, 1, 2); reductions run over all
 *   axes but the batch axis, so each example has its own budget.
 */
import { logitsModel } from '../models/logits';
import * as tf from '@tensorflow/tfjs';

/** A perturbation norm: L∞, L1 or L2. */
export type Norm = 'linf' | 'l1' | 'l2';

/** Every {@link Norm}, in the order error messages list them. */
export const NORMS: readonly Norm[] = ['linf', 'l1', 'l2'];

/** A differentiable model: a batch of inputs in, a batch of logits `[n, classes]` out. */
export type ModelFn = (x: tf.Tensor) => tf.Tensor;

/**
 * A per-example loss of integer labels `[n]` and logits `[n, classes]`, returning `[n]` (a scalar
 * also works). The attacks differentiate the SUM over the batch, so each example's gradient is the
 * gradient of its own loss (CleverHans: `loss_fn(labels, logits)` then `tape.gradient`).
 */
export type LossFn = (labels: tf.Tensor1D, logits: tf.Tensor) => tf.Tensor;

/**
 * The model function of a `tf.LayersModel` that outputs logits (inference mode; a softmax or
 * sigmoid head is skipped, see {@link logitsModel}), the model only read. For a sequential model its Conv2D layers run as plain `tf.conv2d` (+ bias, activation)
 * instead of tfjs' fused convolution: the same forward values (bit for bit without bias; with a bias,
 * up to float rounding, as the bias is added after the convolution), but the fused op's gradient always
 * computes the filter gradient too, which an attack (differentiating the input only) does not
 * need — a third of the time of an FGSM step on the MNIST CNN. Other models run `model.apply`.
 */
export function logitsFn(given: tf.LayersModel): ModelFn {
  const model = logitsModel(given);
  const steps = sequentialSteps(model);
  if (!steps) return (x) => model.apply(x) as tf.Tensor;
  return (x) => steps.reduce((h, step) => step(h), x);
}

/** The activation of a layer (tfjs keeps it on the layer object, outside the typed API). */
interface Activation {
  apply(x: tf.Tensor): tf.Tensor;
}

const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [v, v]);

/** A channels-last Conv2D layer as a plain convolution + bias + activation, or null for any other layer. */
function conv2dStep(layer: tf.layers.Layer): ((x: tf.Tensor) => tf.Tensor) | null {
  if (layer.getClassName() !== 'Conv2D') return null;
  const c = layer.getConfig();
  const activation: Activation | undefined = Reflect.get(layer, 'activation');
  if (c.dataFormat !== 'channelsLast' || typeof activation?.apply !== 'function') return null;
  const strides = pair(c.strides as number | number[]);
  const dilations = pair(c.dilationRate as number | number[]);
  const padding = c.padding as 'same' | 'valid';
  return (x: tf.Tensor) => {
    const w = layer.trainableWeights;
    let y: tf.Tensor = tf.conv2d(x as tf.Tensor4D, w[0].read() as tf.Tensor4D, strides, padding, 'NHWC', dilations);
    if (c.useBias) y = tf.add(y, w[1].read());
    return activation.apply(y);
  };
}

/** The layers of a single-input, single-output chain as functions, or null for other models. */
function sequentialSteps(model: tf.LayersModel): ((x: tf.Tensor) => tf.Tensor)[] | null {
  if (!(model instanceof tf.Sequential)) return null;
  return model.layers.map((layer) => conv2dStep(layer) ?? ((x: tf.Tensor) => layer.apply(x) as tf.Tensor));
}

/**
 * How the cross-entropy gradient of a gradient attack is computed:
 * - `'reference'`: as TensorFlow's fused `sparse_softmax_cross_entropy_with_logits` (hence
 *   CleverHans and the reference DkNN experiment) and PyTorch's `F.cross_entropy` compute it,
 *   softmax(z) − onehot(y) in float32. When the model is so confident that p_y rounds to 1 in
 *   float32 (logit gap ≳ 17), the label's component is 0, and the input gradient keeps only the
 *   tiny terms of the other classes.
 * - `'exact'`: the same quantity computed without that saturation (`p_j` for j ≠ y and −Σ_{j≠y} p_j
 *   for j = y), so the −∇z_y term survives: a stronger attack on confident inputs.
 */
export type GradientSemantics = 'reference' | 'exact';

/** Every {@link GradientSemantics}. */
export const GRADIENT_SEMANTICS: readonly GradientSemantics[] = ['reference', 'exact'];

function oneHotOf(labels: tf.Tensor1D, logits: tf.Tensor): tf.Tensor {
  return tf.oneHot(tf.cast(labels, 'int32'), logits.shape[logits.rank - 1]).toFloat();
}

/**
 * Per-example softmax cross-entropy `logsumexp(z) − z[label]` of integer labels `[n]` and logits
 * `[n, classes]`, with the `'reference'` gradient softmax(z) − onehot(y) in float32 (see
 * {@link GradientSemantics}). Returns a new `[n]` tensor.
 */
export function referenceCrossEntropy(labels: tf.Tensor1D, logits: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => fusedCrossEntropy(logits, oneHotOf(labels, logits)) as tf.Tensor1D);
}

/**
 * Per-example softmax cross-entropy `logsumexp(z) − z[label]`, with the `'exact'` gradient (see
 * {@link GradientSemantics}): `p_j` for j ≠ y and `−Σ_{j≠y} p_j` for j = y. Returns a new `[n]` tensor.
 */
export function exactCrossEntropy(labels: tf.Tensor1D, logits: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => stableCrossEntropy(logits, oneHotOf(labels, logits)) as tf.Tensor1D);
}

/** The cross-entropy loss of a gradient semantics. @throws naming the accepted values. */
export function crossEntropyFor(gradient: GradientSemantics): LossFn {
  if (gradient === 'reference') return referenceCrossEntropy;
  if (gradient === 'exact') return exactCrossEntropy;
  throw new RangeError(`gradient must be one of ${GRADIENT_SEMANTICS.join(', ')}, found ${JSON.stringify(gradient)}`);
}

/** A loss of (logits z, one-hot labels) with its own gradient with respect to z (none to the labels). */
function lossWithGradient(
  value: (z: tf.Tensor, oneHot: tf.Tensor) => tf.Tensor,
  dzOf: (z: tf.Tensor, oneHot: tf.Tensor) => tf.Tensor,
): (z: tf.Tensor, oneHot: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, oneHot, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([z, oneHot]);
    return {
      value: value(z, oneHot),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, oh] = saved;
        return [tf.mul(dzOf(zs, oh), tf.expandDims(dy, -1)), tf.zerosLike(oh)];
      },
    };
  });
}

const crossEntropyValue = (z: tf.Tensor, oneHot: tf.Tensor) =>
  tf.sub(tf.logSumExp(z, -1), tf.sum(tf.mul(z, oneHot), -1));

const fusedCrossEntropy = lossWithGradient(crossEntropyValue, (zs, oh) => tf.sub(tf.softmax(zs), oh));

const stableCrossEntropy = lossWithGradient(crossEntropyValue, (zs, oh) => {
  const others = tf.mul(tf.softmax(zs), tf.sub(1, oh));
  return tf.sub(others, tf.mul(oh, tf.sum(others, -1, true)));
});

// ───────────────────────────── argument checks ─────────────────────────────

/** @throws RangeError `"<name> must be ≥ 0, found -1"` (or `"… must be a finite number, found NaN"`). */
export function checkEps(eps: number, name = 'eps'): void {
  if (typeof eps !== 'number' || !Number.isFinite(eps))
    throw new RangeError(`${name} must be a finite number, found ${String(eps)}`);
  if (eps < 0) throw new RangeError(`${name} must be ≥ 0, found ${eps}`);
}

/** @throws RangeError `"norm must be one of linf, l1, l2, found 'l3'"` (listing `allowed`). */
export function checkNorm(norm: unknown, allowed: readonly Norm[] = NORMS): asserts norm is Norm {
  if (!(allowed as readonly unknown[]).includes(norm)) {
    throw new RangeError(
      `norm must be one of ${allowed.join(', ')}, found ${typeof norm === 'string' ? `'${norm}'` : String(norm)}`,
    );
  }
}

/** An attack's seed: a safe integer. @throws RangeError `"seed must be an integer, found 1.5"`. */
export function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, found ${String(seed)}`);
}

/**
 * Both bounds or neither (CleverHans does not support one-sided clipping), finite, min ≤ max.
 * @throws RangeError `"clipMin 1 must be ≤ clipMax 0"`, or naming the missing / non-finite bound.
 */
export function checkClip(clipMin: number | undefined, clipMax: number | undefined): void {
  if (clipMin === undefined && clipMax === undefined) return;
  if (clipMin === undefined || clipMax === undefined) {
    throw new RangeError(
      `clipMin and clipMax must be given together (one-sided clipping is not supported), found clipMin ${String(clipMin)} and clipMax ${String(clipMax)}`,
    );
  }
  if (!Number.isFinite(clipMin)) throw new RangeError(`clipMin must be a finite number, found ${String(clipMin)}`);
  if (!Number.isFinite(clipMax)) throw new RangeError(`clipMax must be a finite number, found ${String(clipMax)}`);
  if (clipMin > clipMax) throw new RangeError(`clipMin ${clipMin} must be ≤ clipMax ${clipMax}`);
}

/** @throws Error when `x` has no batch axis (rank < 2) or no example. */
export function checkBatch(x: tf.Tensor, where = 'x'): void {
  if (x.rank < 2)
    throw new Error(`${where} must have a batch axis first (rank ≥ 2), found shape [${x.shape.join(', ')}]`);
  if (x.shape[0] === 0) throw new Error(`${where} must hold at least one example, found shape [${x.shape.join(', ')}]`);
}

/**
 * Checks labels against a batch: a 1-D tensor with one label per example; targeted attacks need them.
 * @throws Error `"a targeted attack needs y (the target labels)"`, or naming the expected and found shape.
 */
export function checkLabels(y: tf.Tensor | undefined, x: tf.Tensor, targeted: boolean): void {
  if (y === undefined) {
    if (targeted) throw new Error('a targeted attack needs y (the target labels)');
    return;
  }
  if (y.rank !== 1 || y.shape[0] !== x.shape[0]) {
    throw new Error(
      `y must hold one integer label per example: expected shape [${x.shape[0]}], found [${y.shape.join(', ')}]`,
    );
  }
}

/** The number of classes `modelFn` outputs (one forward pass of the first example). */
export function numClassesOf(modelFn: ModelFn, x: tf.Tensor): number {
  return tf.tidy(() => modelFn(tf.slice(x, 0, 1)).shape.at(-1)!);
}

/**
 * Checks that every label is an integer class index of the model's `numClasses` outputs (a label
 * outside them would silently one-hot to zeros). @throws Error naming the first bad label.
 */
export function checkLabelRange(y: tf.Tensor, numClasses: number): void {
  const v = y.dataSync();
  for (let i = 0; i < v.length; i++) {
    if (!Number.isInteger(v[i]) || v[i] < 0 || v[i] >= numClasses) {
      throw new Error(
        `y[${i}] is ${v[i]}: expected an integer class index in 0…${numClasses - 1} (the model has ${numClasses} outputs)`,
      );
    }
  }
}

// ───────────────────────────── the helpers ─────────────────────────────

/** Axes 1…rank−1 (all but the batch axis). */
function exampleAxes(t: tf.Tensor): number[] {
  return Array.from({ length: t.rank - 1 }, (_, i) => i + 1);
}

/**
 * The labels an untargeted attack uses when none are given: the model's own predictions
 * (argmax of the logits, lowest class on ties), avoiding label leaking (CleverHans). Returns a new
 * int32 `[n]` tensor.
 */
export function modelPredictions(modelFn: ModelFn, x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.argMax(modelFn(x), -1).toInt() as tf.Tensor1D);
}

/**
 * Gradient of the loss with respect to the input (CleverHans `compute_gradient`): the gradient of
 * `Σ_examples lossFn(y, modelFn(x))`, negated for a targeted attack (which descends the loss of
 * the target label). `y: 'predictions'` uses the model's argmax on `x` (lowest class on ties),
 * computed in the same forward pass. Returns a new tensor shaped like `x`.
 */
export function computeGradient(
  modelFn: ModelFn,
  lossFn: LossFn,
  x: tf.Tensor,
  y: tf.Tensor1D | 'predictions',
  targeted: boolean,
): tf.Tensor {
  return tf.tidy(() =>
    tf.grad((input: tf.Tensor) => {
      const logits = modelFn(input);
      // 'predictions': the model's own labels, taken from this very forward pass (no second one).
      const labels = y === 'predictions' ? (tf.argMax(logits, -1).toInt() as tf.Tensor1D) : y;
      const loss = tf.sum(lossFn(labels, logits));
      return targeted ? tf.neg(loss) : loss;
    })(x),
  );
}

/**
 * sign(x) ∈ {−1, 0, 1} by exact comparisons. (tfjs-backend-wasm 4.22's `Sign` kernel returns 0 for
 * |x| below about 1e-7, which would zero most input gradients of a confident model.) New tensor.
 */
export function exactSign(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.cast(tf.greater(x, 0), 'float32'), tf.cast(tf.less(x, 0), 'float32')));
}

/**
 * The perturbation of norm `eps` maximising `⟨η, grad⟩` per example (CleverHans `optimize_linear`):
 * - `'linf'`: `eps · sign(grad)`;
 * - `'l1'`: `eps` put on the coordinates of largest |grad|, split evenly between ties, with their sign;
 * - `'l2'`: `eps · grad / ‖grad‖₂` (a zero gradient gives zero).
 * Signs are taken with {@link exactSign}. For L2 the gradient is first divided by its largest |value|
 * (the direction is unchanged): CleverHans floors ‖grad‖² at 1e-12, which shortens the step below eps
 * for the tiny gradients of confidently classified inputs; here the step always has norm eps.
 * Returns a new tensor shaped like `grad`.
 * @throws on a negative eps or an unknown norm.
 */
export function optimizeLinear(grad: tf.Tensor, eps: number, norm: Norm = 'linf'): tf.Tensor {
  checkEps(eps);
  checkNorm(norm);
  checkBatch(grad, 'grad');
  return tf.tidy(() => {
    const axes = exampleAxes(grad);
    let unit: tf.Tensor;
    if (norm === 'linf') {
      unit = exactSign(grad);
    } else if (norm === 'l1') {
      const abs = tf.abs(grad);
      const tied = tf.cast(tf.equal(abs, tf.max(abs, axes, true)), 'float32');
      unit = tf.div(tf.mul(exactSign(grad), tied), tf.sum(tied, axes, true));
    } else {
      const scaled = tf.div(grad, tf.maximum(tf.max(tf.abs(grad), axes, true), 1e-30));
      unit = tf.div(scaled, tf.sqrt(tf.maximum(1e-12, tf.sum(tf.square(scaled), axes, true))));
    }
    return tf.mul(unit, eps);
  });
}

/**
 * Projects a perturbation onto the `eps` ball of `norm`, per example (CleverHans `clip_eta`):
 * - `'linf'`: clip every coordinate to [−eps, eps];
 * - `'l2'`: scale by `min(1, eps / ‖η‖₂)` (clip into the ball, not onto its surface);
 * - `'l1'`: the exact Euclidean projection onto the L1 ball (Duchi et al. 2008: soft-threshold
 *   |η| at the θ that makes the L1 norm eps); examples already inside are unchanged. (CleverHans
 *   raises NotImplementedError for L1, noting that rescaling is not the projection.)
 * Returns a new tensor shaped like `eta`.
 * @throws on a negative eps or an unknown norm.
 */
export function clipEta(eta: tf.Tensor, norm: Norm, eps: number): tf.Tensor {
  checkEps(eps);
  checkNorm(norm);
  checkBatch(eta, 'eta');
  return tf.tidy(() => {
    const axes = exampleAxes(eta);
    if (norm === 'linf') return tf.clipByValue(eta, -eps, eps);
    if (norm === 'l2') {
      const l2 = tf.sqrt(tf.maximum(1e-12, tf.sum(tf.square(eta), axes, true)));
      return tf.mul(eta, tf.minimum(1, tf.div(eps, l2)));
    }
    if (eps === 0) return tf.zerosLike(eta);
    const n = eta.shape[0];
    const d = eta.size / Math.max(1, n);
    const flat = tf.reshape(eta, [n, d]);
    const abs = tf.abs(flat);
    const sorted = tf.topk(abs, d, true).values; // descending
    const cumsum = tf.cumsum(sorted, 1);
    const j = tf.range(1, d + 1, 1, 'float32');
    // ρ = #{j : u_j − (Σ_{i≤j} u_i − eps)/j > 0} (a prefix of j); θ = (Σ_{i≤ρ} u_i − eps)/ρ.
    const positive = tf.cast(tf.greater(tf.mul(sorted, j), tf.sub(cumsum, eps)), 'float32');
    const rho = tf.maximum(tf.sum(positive, 1, true), 1);
    const cumAtRho = tf.sum(tf.mul(cumsum, tf.oneHot(tf.sub(tf.reshape(rho, [n]), 1).toInt(), d)), 1, true);
    const theta = tf.maximum(tf.div(tf.sub(cumAtRho, eps), rho), 0);
    const projected = tf.mul(exactSign(flat), tf.relu(tf.sub(abs, theta)));
    const inside = tf.lessEqual(tf.sum(abs, 1, true), eps);
    return tf.reshape(tf.where(tf.broadcastTo(inside, [n, d]), flat, projected), eta.shape);
  });
}

/** `x` clipped to [clipMin, clipMax] when both are given, else a copy of `x`. Returns a new tensor. */
export function clipToRange(x: tf.Tensor, clipMin: number | undefined, clipMax: number | undefined): tf.Tensor {
  return clipMin === undefined || clipMax === undefined ? tf.clone(x) : tf.clipByValue(x, clipMin, clipMax);
}
