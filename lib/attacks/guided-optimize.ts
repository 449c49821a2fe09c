/**
 * The optimization of the guided attack on the DkNN (`dknn-attack.ts`), for one batch, on the
 * calling thread: projected Adam on the pixels minimising Σ_layers Σ_guides
 * sigmoid(a · (‖r_l(x') − r_l(g)‖ − η_l) / η_l), returning the iterates at the checkpoint steps.
 * Pure tf.js, so the main thread and the workers (`guided-worker.ts`) run the very same code.
 * Tensor ownership: no tensor outlives a call.
 */
import * as tf from '@tensorflow/tfjs';

/** One batch to optimize: B inputs, their m guides each, η per layer and input, the pixel box. */
export interface GuidedBatch {
  B: number;
  shape: [number, number, number];
  /** B × pixels, the clean inputs. */
  x: Float32Array;
  /** B × m × pixels, input b's guides at [b·m, (b+1)·m). */
  guides: Float32Array;
  m: number;
  /** layers × B: the k-th neighbor distance of each input in each layer. */
  eta: Float32Array;
  /** B × pixels each: max(lo, x − ε) and min(hi, x + ε). */
  boxLo: Float32Array;
  boxHi: Float32Array;
}

/** The optimiser's settings. */
export interface GuidedSettings {
  steps: number;
  learningRate: number;
  steepness: number;
  /** Steps (ascending, the last = steps) whose iterates are returned. */
  checkSteps: number[];
}

/** Images per forward pass when computing guide representations. */
const GUIDE_CHUNK = 500;

/** The DkNN representation of every layer: flatten, L2-normalize (zero rows stay zero), subtract the center. */
export function representations(acts: tf.Tensor[], centers: tf.Tensor[]): tf.Tensor2D[] {
  return acts.map((a, l) => {
    const flat = tf.reshape(a, [a.shape[0], -1]) as tf.Tensor2D;
    const norm = tf.sqrt(tf.sum(tf.square(flat), 1, true));
    return tf.sub(tf.div(flat, tf.maximum(norm, 1e-30)), centers[l]) as tf.Tensor2D;
  });
}

/** A model's outputs as a list (a single-output model returns one tensor). */
export function outputs(o: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(o) ? o : [o];
}

/** The representations of the guides in every layer, B × m × d, computed in chunks of images. */
function guideRepresentations(subModel: tf.LayersModel, centers: tf.Tensor[], batch: GuidedBatch): tf.Tensor3D[] {
  const per = batch.shape[0] * batch.shape[1] * batch.shape[2];
  const total = batch.B * batch.m;
  const dims = centers.map((c) => c.shape[0]);
  const host = dims.map((d) => new Float32Array(total * d));
  for (let s = 0; s < total; s += GUIDE_CHUNK) {
    const e = Math.min(total, s + GUIDE_CHUNK);
    const reps = tf.tidy(() =>
      representations(
        outputs(subModel.predict(tf.tensor4d(batch.guides.subarray(s * per, e * per), [e - s, ...batch.shape]))),
        centers,
      ),
    );
    reps.forEach((r, l) => host[l].set(r.dataSync(), s * dims[l]));
    tf.dispose(reps);
  }
  return host.map((h, l) => tf.tensor3d(h, [batch.B, batch.m, dims[l]]));
}

/**
 * Optimizes one batch; returns the iterates at `settings.checkSteps` (checkpoints × B × pixels).
 * `subModel` outputs the DkNN layers in order; `centers` are their training centers.
 * `onStep(step)` is called every 25 steps.
 */
export function optimizeGuided(
  subModel: tf.LayersModel,
  centers: tf.Tensor[],
  batch: GuidedBatch,
  settings: GuidedSettings,
  onStep?: (step: number) => void,
): Float32Array {
  const { B, shape } = batch;
  const per = shape[0] * shape[1] * shape[2];
  const L = centers.length;
  const { steps, steepness, checkSteps } = settings;
  // ‖r − g‖² = ‖r‖² − 2 r·g + ‖g‖² as one batched product: never a B × m × d difference.
  const guideReps = guideRepresentations(subModel, centers, batch);
  const guideSq = guideReps.map((r) => tf.tidy(() => tf.sum(tf.square(r), 2)));
  const eta = Array.from({ length: L }, (_, l) => tf.tensor2d(batch.eta.subarray(l * B, (l + 1) * B), [B, 1]));
  const loT = tf.tensor4d(batch.boxLo, [B, ...shape]);
  const hiT = tf.tensor4d(batch.boxHi, [B, ...shape]);
  const xv = tf.tidy(() => tf.variable(tf.tensor4d(batch.x, [B, ...shape])));
  const opt = tf.train.adam(settings.learningRate);
  const out = new Float32Array(checkSteps.length * B * per);
  try {
    let c = 0;
    for (let step = 1; step <= steps; step++) {
      opt.minimize(
        () => {
          const reps = representations(outputs(subModel.apply(xv) as tf.Tensor | tf.Tensor[]), centers);
          let loss: tf.Tensor = tf.scalar(0);
          reps.forEach((r, l) => {
            const rg = tf.reshape(tf.matMul(tf.expandDims(r, 1), guideReps[l], false, true), [B, -1]); // B × m
            const sq = tf.add(tf.sub(tf.sum(tf.square(r), 1, true), tf.mul(rg, 2)), guideSq[l]);
            const d = tf.sqrt(tf.add(tf.relu(sq), 1e-12));
            loss = tf.add(loss, tf.sum(tf.sigmoid(tf.mul(tf.div(tf.sub(d, eta[l]), eta[l]), steepness))));
          });
          return loss as tf.Scalar;
        },
        false,
        [xv],
      );
      tf.tidy(() => xv.assign(tf.minimum(tf.maximum(xv, loT), hiT)));
      if (step === checkSteps[c]) out.set(xv.dataSync() as Float32Array, c++ * B * per);
      if (step % 25 === 0) onStep?.(step);
    }
  } finally {
    opt.dispose();
    xv.dispose();
    tf.dispose([loT, hiT, ...guideReps, ...guideSq, ...eta]);
  }
  return out;
}
