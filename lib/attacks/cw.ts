/**
 * The Carlini & Wagner (2017) L2 attack, as CleverHans `carlini_wagner_l2` (and Carlini's original
 * code, which CleverHans v3 copies): for each example, minimise
 *
 *     ‖x' − x‖₂² + c · max(Z(x')_y − max_{j≠y} Z(x')_j + κ, 0)        (untargeted, y = label)
 *     ‖x' − x‖₂² + c · max(max_{j≠t} Z(x')_j − Z(x')_t + κ, 0)        (targeted, t = target)
 *
 * over `x' = (tanh(w) + 1)/2 · (clipMax − clipMin) + clipMin` (so x' always lies in the box), with
 * Adam on w (a fresh optimiser and w = arctanh(x) at every binary-search step), Z = logits. The
 * constant c is binary-searched per example: halved towards the last failure after a success,
 * ×10 after a failure while no success is known. The adversarial example kept for each input is
 * the successful one of smallest L2 over all steps; where none succeeds the input is returned
 * unchanged (CleverHans). With `abortEarly`, a binary-search step stops when the batch loss,
 * checked every ⌊maxIterations/10⌋ iterations, exceeds 0.9999 × its value at the previous check.
 *
 * Departures from CleverHans' TF2 port, following its TF1 version / the original code: `targeted`
 * is its own option (the TF2 port sets targeted = (y given)); the constant is per example (the TF2
 * port broadcasts it to the image shape); a binary-search step counts as a success when THAT step
 * found an adversarial (the TF2 port looks at the best over all steps); Adam's ε is 1e-8 (TF1).
 */
import { checkPositiveInt } from '../util/checks';
import * as tf from '@tensorflow/tfjs';
import type { ProgressCallback } from '../util/progress';
import { checkBatch, checkClip, checkEps, checkLabelRange, checkLabels, numClassesOf, type ModelFn } from './utils';

/** Options of {@link cwL2}; defaults are CleverHans'. */
export interface CwL2Options {
  /** Integer labels `[n]` (true labels, or targets when targeted). Default: the model's predictions on `x`. */
  y?: tf.Tensor1D;
  /** Reach `y` instead of leaving it. Default false. */
  targeted?: boolean;
  /** κ: the logit margin the adversarial class must win by. Default 0. */
  confidence?: number;
  /** Adam learning rate. Default 5e-3. */
  learningRate?: number;
  /** Binary-search steps on the constant c. Default 5. (With ≥ 10, the last step re-runs at the upper bound.) */
  binarySearchSteps?: number;
  /** Adam iterations per binary-search step. Default 1000. */
  maxIterations?: number;
  /** Stop a binary-search step when the loss stops decreasing (see the module comment). Default true. */
  abortEarly?: boolean;
  /** Starting constant c. Default 1e-2. */
  initialConst?: number;
  /** Lower bound of the input box; x must lie in it. Default 0. */
  clipMin?: number;
  /** Upper bound of the input box; x must lie in it. Default 1. */
  clipMax?: number;
  /** Examples optimized together (each one independently). Default 128. */
  batchSize?: number;
  /**
   * Called after every binary-search step of every batch (unit `img`: `done` counts the batch's
   * images in proportion to the steps finished), metrics: `step`, `found` (adversarials found so
   * far in this batch).
   */
  onProgress?: ProgressCallback;
}

const LARGE = 1e10;

/** x' = (tanh(w) + 1)/2 · (max − min) + min. */
function fromTanh(w: tf.Tensor, clipMin: number, clipMax: number): tf.Tensor {
  return tf.add(tf.mul(tf.div(tf.add(tf.tanh(w), 1), 2), clipMax - clipMin), clipMin);
}

function argmax(values: Float32Array, offset: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (values[offset + c] > values[offset + best]) best = c;
  return best;
}

/**
 * Carlini-Wagner L2 adversarial examples for the batch `x` (values in [clipMin, clipMax]).
 *
 * Tensor ownership: `x` and `options.y` are read, not disposed; the returned tensor (shaped like
 * `x`, float32) is new and belongs to the caller. Per binary-search step a variable and an Adam
 * optimiser are created and disposed; no tensor outlives the call.
 * @param modelFn returns logits for a batch.
 * @throws RangeError on bad options (non-positive counts, negative confidence / learning rate /
 *   constant, inverted clip bounds); Error when x lies outside [clipMin, clipMax], on labels of the
 *   wrong shape or a targeted attack without labels.
 */
export function cwL2(modelFn: ModelFn, x: tf.Tensor, options: CwL2Options = {}): tf.Tensor {
  const {
    y,
    targeted = false,
    confidence = 0,
    learningRate = 5e-3,
    binarySearchSteps = 5,
    maxIterations = 1000,
    abortEarly = true,
    initialConst = 1e-2,
    clipMin = 0,
    clipMax = 1,
    batchSize = 128,
    onProgress,
  } = options;
  checkEps(confidence, 'confidence');
  checkEps(learningRate, 'learningRate');
  checkEps(initialConst, 'initialConst');
  checkPositiveInt('binarySearchSteps', binarySearchSteps);
  checkPositiveInt('maxIterations', maxIterations);
  checkPositiveInt('batchSize', batchSize);
  checkClip(clipMin, clipMax);
  if (!(clipMax > clipMin))
    throw new RangeError(`clipMin ${clipMin} must be < clipMax ${clipMax} (the tanh box needs a non-empty range)`);
  checkBatch(x);
  checkLabels(y, x, targeted);
  if (y) checkLabelRange(y, numClassesOf(modelFn, x));
  const n = x.shape[0];
  if (n > 0) {
    const [lo, hi] = tf
      .tidy(() => [tf.min(x), tf.max(x)])
      .map((t) => {
        const v = t.dataSync()[0];
        t.dispose();
        return v;
      });
    if (lo < clipMin || hi > clipMax) {
      throw new Error(
        `cwL2: x must lie within [clipMin, clipMax] = [${clipMin}, ${clipMax}], found values in [${lo}, ${hi}]`,
      );
    }
  }
  const out = new Float32Array(x.size);
  const per = n > 0 ? x.size / n : 0;
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    const xb = tf.slice(x, start, b);
    const yb = y ? tf.slice(y, start, b) : undefined;
    try {
      const best = attackBatch(modelFn, xb, yb, {
        targeted,
        confidence,
        learningRate,
        binarySearchSteps,
        maxIterations,
        abortEarly,
        initialConst,
        clipMin,
        clipMax,
        onStep:
          onProgress &&
          ((step, found) =>
            onProgress({
              stage: 'carlini-wagner',
              done: start + Math.round((b * step) / binarySearchSteps),
              total: n,
              unit: 'img',
              metrics: { step, found },
            })),
      });
      out.set(best, start * per);
    } finally {
      xb.dispose();
      yb?.dispose();
    }
  }
  return tf.tensor(out, x.shape, 'float32');
}

interface BatchArgs {
  targeted: boolean;
  confidence: number;
  learningRate: number;
  binarySearchSteps: number;
  maxIterations: number;
  abortEarly: boolean;
  initialConst: number;
  clipMin: number;
  clipMax: number;
  onStep?: (step: number, found: number) => void;
}

/** A batch's fixed tensors: labels, their one-hot rows, the inputs in tanh space and their image back in the box. */
interface BatchTensors {
  labels: Int32Array;
  classes: number;
  oneHot: tf.Tensor;
  tx: tf.Tensor;
  xRef: tf.Tensor;
  axes: number[];
}

function batchTensors(modelFn: ModelFn, x: tf.Tensor, y: tf.Tensor1D | undefined, a: BatchArgs): BatchTensors {
  const { clipMin, clipMax } = a;
  const logits0 = tf.tidy(() => modelFn(x));
  const classes = logits0.shape[logits0.rank - 1];
  const labelsT = tf.tidy(() => (y ? tf.cast(y, 'int32') : tf.argMax(logits0, -1).toInt()) as tf.Tensor1D);
  logits0.dispose();
  const labels = Int32Array.from(labelsT.dataSync());
  const oneHot = tf.tidy(() => tf.oneHot(labelsT, classes).toFloat());
  labelsT.dispose();
  // x in tanh space (CleverHans: scale to [-1, 1], arctanh(· × 0.999999)); distances are measured
  // from its image back in the box, so that w = arctanh(x) is at distance 0.
  const tx = tf.tidy(() =>
    tf.atanh(
      tf.mul(tf.sub(tf.mul(tf.clipByValue(tf.div(tf.sub(x, clipMin), clipMax - clipMin), 0, 1), 2), 1), 0.999999),
    ),
  );
  const xRef = tf.tidy(() => fromTanh(tx, clipMin, clipMax));
  return { labels, classes, oneHot, tx, xRef, axes: Array.from({ length: x.rank - 1 }, (_, i) => i + 1) };
}

/** The per-example search state of a batch: the binary search on c and the best adversarial so far. */
interface SearchState {
  lower: Float64Array;
  upper: Float64Array;
  consts: Float64Array;
  bestL2: Float64Array;
  bestScore: Int32Array;
  bestAttack: Float32Array;
}

/**
 * One binary-search step: Adam on the tanh-space modifier at the current constants, every
 * iterate that succeeds recorded (best of the step, best overall). Returns the step's best scores.
 */
function searchStep(modelFn: ModelFn, t: BatchTensors, st: SearchState, a: BatchArgs): Int32Array {
  const b = st.consts.length;
  const per = st.bestAttack.length / b;
  const { targeted, confidence: kappa, clipMin, clipMax } = a;
  const { labels, classes, oneHot, tx, xRef, axes } = t;
  const checkEvery = Math.floor(a.maxIterations / 10) || 1;
  /** Whether the logits row of example e counts as adversarial (κ applied as CleverHans' `compare`). */
  const succeeds = (z: Float32Array, e: number): boolean => {
    const row = z.slice(e * classes, (e + 1) * classes);
    row[labels[e]] += targeted ? -kappa : kappa;
    const p = argmax(row, 0, classes);
    return targeted ? p === labels[e] : p !== labels[e];
  };
  const stepL2 = new Float64Array(b).fill(LARGE);
  const stepScore = new Int32Array(b).fill(-1);
  const modifier = tf.tidy(() => tf.variable(tf.zerosLike(tx), true));
  const optimizer = tf.train.adam(a.learningRate, 0.9, 0.999, 1e-8);
  const constT = tf.tensor1d(Float32Array.from(st.consts));
  let prev = Infinity;
  try {
    for (let it = 0; it < a.maxIterations; it++) {
      let xNew: tf.Tensor | undefined;
      let logits: tf.Tensor | undefined;
      let l2: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const img = fromTanh(tf.add(modifier, tx), clipMin, clipMax);
        const z = modelFn(img);
        const dist = tf.sum(tf.square(tf.sub(img, xRef)), axes);
        const real = tf.sum(tf.mul(oneHot, z), 1);
        const other = tf.max(tf.sub(tf.mul(tf.sub(1, oneHot), z), tf.mul(oneHot, 10000)), 1);
        const margin = targeted ? tf.sub(other, real) : tf.sub(real, other);
        const f = tf.relu(tf.add(margin, kappa));
        xNew = tf.keep(img);
        logits = tf.keep(z);
        l2 = tf.keep(dist);
        return tf.add(tf.sum(tf.mul(constT, f)), tf.sum(dist)) as tf.Scalar;
      }, [modifier]);
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      const loss = value.dataSync()[0];
      const l2s = l2!.dataSync();
      const z = logits!.dataSync() as Float32Array;
      let images: Float32Array | undefined;
      try {
        if (a.abortEarly && it % checkEvery === 0) {
          if (loss > prev * 0.9999) break;
          prev = loss;
        }
        for (let e = 0; e < b; e++) {
          if (!succeeds(z, e)) continue;
          const d = l2s[e];
          if (d < stepL2[e]) {
            stepL2[e] = d;
            stepScore[e] = argmax(z, e * classes, classes);
          }
          if (d < st.bestL2[e]) {
            st.bestL2[e] = d;
            st.bestScore[e] = argmax(z, e * classes, classes);
            images ??= xNew!.dataSync() as Float32Array;
            st.bestAttack.set(images.subarray(e * per, (e + 1) * per), e * per);
          }
        }
      } finally {
        tf.dispose([value, ...Object.values(grads), xNew!, logits!, l2!]);
      }
    }
  } finally {
    modifier.dispose();
    optimizer.dispose();
    constT.dispose();
  }
  return stepScore;
}

/** One batch: returns the best adversarial of every example (the input where none was found), flat. */
function attackBatch(modelFn: ModelFn, x: tf.Tensor, y: tf.Tensor1D | undefined, a: BatchArgs): Float32Array {
  const b = x.shape[0];
  const t = batchTensors(modelFn, x, y, a);
  const st: SearchState = {
    lower: new Float64Array(b),
    upper: new Float64Array(b).fill(LARGE),
    consts: new Float64Array(b).fill(a.initialConst),
    bestL2: new Float64Array(b).fill(LARGE),
    bestScore: new Int32Array(b).fill(-1),
    bestAttack: Float32Array.from(x.dataSync()),
  };
  const { lower, upper, consts } = st;
  try {
    for (let step = 0; step < a.binarySearchSteps; step++) {
      if (a.binarySearchSteps >= 10 && step === a.binarySearchSteps - 1) consts.set(upper);
      const stepScore = searchStep(modelFn, t, st, a);
      // Binary search on c, per example (success = this step found an adversarial).
      for (let e = 0; e < b; e++) {
        const label = t.labels[e];
        const ok = stepScore[e] !== -1 && (a.targeted ? stepScore[e] === label : stepScore[e] !== label);
        if (ok) {
          upper[e] = Math.min(upper[e], consts[e]);
          if (upper[e] < 1e9) consts[e] = (lower[e] + upper[e]) / 2;
        } else {
          lower[e] = Math.max(lower[e], consts[e]);
          consts[e] = upper[e] < 1e9 ? (lower[e] + upper[e]) / 2 : consts[e] * 10;
        }
      }
      a.onStep?.(
        step + 1,
        st.bestScore.reduce((s, v) => s + (v !== -1 ? 1 : 0), 0),
      );
    }
  } finally {
    tf.dispose([t.oneHot, t.tx, t.xRef]);
  }
  return st.bestAttack;
}
