/**
 * The guided attack's batches (`dknn-attack.ts`): for each input, the target class's training points
 * nearest to it in the guide layer as the DkNN sees it (normalized, centered), its η per layer (the
 * distance of its k-th neighbor) and its box.
 */
import * as tf from '@tensorflow/tfjs';
import { cachedActivations } from '../activations/cache';
import { ArtifactCache } from '../artifacts/cache';
import type { ImageBatch, LabeledImages } from '../data/types';
import type { DkNN } from '../dknn/dknn';
import type { DkNNPrediction } from '../dknn/types';
import { outputs, representations, type GuidedBatch, type GuidedSettings } from './guided-optimize';

/** The guided attack's options resolved and checked against the DkNN and the data. */
export interface GuidedRun {
  eps: number;
  guides: number;
  settings: GuidedSettings;
  box: [number, number];
  layers: string[];
  /** Index of the guide layer in `layers`. */
  g: number;
  /** Inputs optimized together. */
  batch: number;
  workers: number;
}

/** The guide layer's training rows as the DkNN sees them (normalized, then centered on the fly), by class. */
interface GuideSpace {
  acts: Float32Array;
  invNorm: Float64Array;
  center: Float32Array;
  dim: number;
  byClass: Map<number, number[]>;
}

async function guideSpace(
  dknn: DkNN,
  train: LabeledImages,
  g: number,
  cacheDir: string | false | undefined,
): Promise<GuideSpace> {
  const acts = (
    await cachedActivations(dknn.model, train, {
      layers: [dknn.layers[g]],
      cache: new ArtifactCache({ dir: cacheDir }),
    })
  ).values[0];
  const center = dknn.layerCenters[g];
  const dim = center.length;
  // Inverse L2 norm of each training row (0 for a zero row, which stays zero: the DkNN's preprocessing).
  const invNorm = new Float64Array(train.n);
  for (let i = 0; i < train.n; i++) {
    let q = 0;
    for (let j = 0; j < dim; j++) q += acts[i * dim + j] * acts[i * dim + j];
    invNorm[i] = q > 0 ? 1 / Math.sqrt(q) : 0;
  }
  const byClass = new Map<number, number[]>();
  dknn.trainLabels.forEach((y, i) => (byClass.get(y) ?? byClass.set(y, []).get(y)!).push(i));
  return { acts, invNorm, center, dim, byClass };
}

/** For each input of a batch (representations `xRep`), the `guides` training points of its target class nearest in the guide layer. */
function nearestGuides(space: GuideSpace, xRep: Float32Array, targets: ArrayLike<number>, guides: number): number[][] {
  const { acts, invNorm, center, dim } = space;
  return Array.from(targets, (target, b) => {
    const dist = (space.byClass.get(target) ?? []).map((t) => {
      let d = 0;
      for (let j = 0; j < dim; j++) d += (xRep[b * dim + j] - (acts[t * dim + j] * invNorm[t] - center[j])) ** 2;
      return [d, t] as const;
    });
    dist.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
    return dist.slice(0, guides).map((p) => p[1]);
  });
}

/** Per batch: the inputs, their guides (the m training points of the target class nearest in layer g), η and the box. */
export async function planBatches(
  dknn: DkNN,
  train: LabeledImages,
  data: ImageBatch,
  clean: DkNNPrediction,
  targets: Int32Array,
  run: GuidedRun,
  cacheDir: string | false | undefined,
): Promise<GuidedBatch[]> {
  const { layers, g, batch, eps } = run;
  const [lo, hi] = run.box;
  const space = await guideSpace(dknn, train, g, cacheDir);
  const per = data.height * data.width * data.channels;
  const shape: [number, number, number] = [data.height, data.width, data.channels];
  const sub = tf.model({
    inputs: dknn.model.inputs,
    outputs: [dknn.model.getLayer(layers[g]).output as tf.SymbolicTensor],
  });
  const centerT = tf.tensor1d(space.center);
  const plans: GuidedBatch[] = [];
  try {
    for (let s = 0; s < data.n; s += batch) {
      const e = Math.min(data.n, s + batch);
      const B = e - s;
      const x = data.images.slice(s * per, e * per);
      const xRep = tf.tidy(
        () =>
          representations(outputs(sub.predict(tf.tensor4d(x, [B, ...shape]))), [centerT])[0].dataSync() as Float32Array,
      );
      const guideIdx = nearestGuides(space, xRep, targets.subarray(s, e), run.guides);
      const m = Math.min(...guideIdx.map((gi) => gi.length));
      if (m === 0) throw new Error('dknnGuidedAttack: a target class has no training point');
      const guideImgs = new Float32Array(B * m * per);
      guideIdx.forEach((gi, b) =>
        gi
          .slice(0, m)
          .forEach((t, j) => guideImgs.set(train.images.subarray(t * per, (t + 1) * per), (b * m + j) * per)),
      );
      // η_l: distance of the k-th neighbor of each input in each layer (the lists hold squared distances).
      const eta = new Float32Array(layers.length * B);
      layers.forEach((l, li) => {
        const nb = clean.neighbors.find((q) => q.layer === l)!;
        for (let b = 0; b < B; b++)
          eta[li * B + b] = Math.max(1e-6, Math.sqrt(nb.distances[(s + b) * nb.k + nb.k - 1]));
      });
      const boxLo = new Float32Array(x.length);
      const boxHi = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        boxLo[i] = Math.max(lo, x[i] - eps);
        boxHi[i] = Math.min(hi, x[i] + eps);
      }
      plans.push({ B, shape, x, guides: guideImgs, m, eta, boxLo, boxHi });
    }
  } finally {
    centerT.dispose();
  }
  return plans;
}
