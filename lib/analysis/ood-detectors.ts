/**
 * Today's out-of-distribution detectors beside the DkNN's credibility, fitted once and then scoring
 * any set of images the DkNN predicted: maximum softmax probability (Hendrycks & Gimpel 2017),
 * energy (Liu et al. 2020), ODIN (Liang et al. 2018, tuned on a validation pair, see `odin.ts`),
 * Mahalanobis on one layer (Lee et al. 2018, see `mahalanobis.ts`), the k-th nearest-neighbor
 * distance on that layer's normalized features (Sun et al. 2022, read from the DkNN's own search)
 * and the DkNN's credibility. Every score is oriented **higher = more in-distribution**.
 *
 * ```ts
 * const detectors = await fitOodDetectors(ex.model, { train: ex.train, validation: ex.calib, layer: 'ReLU5', cache: ex.cache });
 * const clean = await detectors.score(ex.eval, await ex.predict(dknn));  // { msp, energy, odin, … }
 * ```
 */
import type * as tf from '@tensorflow/tfjs';
import { cachedActivations } from '../activations/cache';
import { extractActivations, outputLayerName } from '../activations/extract';
import { ArtifactCache } from '../artifacts/cache';
import { logitsModel } from '../models/logits';
import { fitMahalanobis, mahalanobisScore, type MahalanobisModel } from './mahalanobis';
import { odinScore, permutedPixels, tuneOdin, type OdinTuning } from './odin';
import {
  credibilityScore,
  energyScore,
  knnDistanceScore,
  maxSoftmaxScore,
  type InDistributionScores,
} from './ood-scores';
import type { ImageBatch, LabeledImages } from '../data/types';
import type { DkNNPrediction } from '../dknn/types';
import type { ProgressCallback } from '../util/progress';

/** The detectors, in the order of every table. */
export const OOD_DETECTORS = ['msp', 'energy', 'odin', 'mahalanobis', 'knn', 'credibility'] as const;

/** One of {@link OOD_DETECTORS}. */
export type DetectorName = (typeof OOD_DETECTORS)[number];

/** Every detector's per-input scores on one set, each oriented higher = more in-distribution. */
export type DetectorScores = Record<DetectorName, InDistributionScores>;

/** Options of {@link fitOodDetectors}. */
export interface OodDetectorsOptions {
  /** The training images and labels (the DkNN's kNN database): Mahalanobis' class means and covariance. */
  train: LabeledImages;
  /** In-distribution images the evaluation never scores (e.g. the DkNN's calibration images): ODIN's tuning. */
  validation: ImageBatch;
  /** The layer of Mahalanobis and of the k-th neighbor distance (the penultimate one in the papers); one of the DkNN's layers. */
  layer: string;
  /** Which neighbor's distance the KNN detector reads; at most the DkNN's k. Default 50 (Sun et al.'s k on CIFAR-10). */
  knnK?: number;
  /** Seed of ODIN's validation shift ({@link permutedPixels}). Default 0. */
  seed?: number;
  /** ODIN's grid. Default `ODIN_GRID`. */
  odinGrid?: { temperatures?: readonly number[]; epsilons?: readonly number[] };
  /** Where the training activations are read from (the DkNN's fit wrote them there). Default: none (extracted). */
  cache?: ArtifactCache;
  /** Images per forward pass. Default 250. */
  batchSize?: number;
  onProgress?: ProgressCallback;
}

/** Fitted detectors (see the module comment). */
export interface OodDetectors {
  readonly layer: string;
  readonly knnK: number;
  /** ODIN's chosen parameters and the validation grid. */
  readonly odin: OdinTuning;
  readonly mahalanobis: MahalanobisModel;
  /** A name per detector with its parameters, for tables and legends. */
  readonly labels: Record<DetectorName, string>;
  /**
   * Every detector's scores on `data`, whose DkNN prediction is `prediction` (credibility and the
   * neighbor distances come from it; the logits, the layer and ODIN from the model).
   */
  score(data: ImageBatch, prediction: DkNNPrediction): Promise<DetectorScores>;
}

/** Fits the detectors that need fitting (Mahalanobis, ODIN's two parameters); see {@link OodDetectorsOptions}. */
export async function fitOodDetectors(given: tf.LayersModel, options: OodDetectorsOptions): Promise<OodDetectors> {
  const model = logitsModel(given);
  const { layer, train, validation } = options;
  const knnK = options.knnK ?? 50;
  if (!Number.isInteger(knnK) || knnK < 1) throw new RangeError(`knnK: expected an integer ≥ 1, found ${knnK}`);
  const batchSize = options.batchSize ?? 250;
  const output = outputLayerName(model);
  const acts = await cachedActivations(model, train, {
    layers: [layer],
    cache: options.cache ?? new ArtifactCache({ dir: false }),
    batchSize,
    workers: 'auto',
    dataName: (train as { name?: string }).name,
    onProgress: options.onProgress,
  });
  const mahalanobis = fitMahalanobis({ values: acts.values[0], dim: acts.dims[0] }, train.labels);
  const odin = tuneOdin(model, {
    inDist: validation,
    outDist: permutedPixels(validation, { seed: options.seed ?? 0 }),
    ...options.odinGrid,
    batchSize,
    onProgress: options.onProgress,
  });
  const best = odin.best;
  const labels: Record<DetectorName, string> = {
    msp: 'MSP (softmax)',
    energy: 'energy',
    odin: `ODIN (T ${best.temperature}, ε ${best.epsilon})`,
    mahalanobis: `Mahalanobis (${layer})`,
    knn: `KNN (${layer}, k ${knnK})`,
    credibility: 'DkNN credibility',
  };
  const layers = layer === output ? [layer] : [layer, output];
  return {
    layer,
    knnK,
    odin,
    mahalanobis,
    labels,
    async score(data: ImageBatch, prediction: DkNNPrediction): Promise<DetectorScores> {
      if (prediction.n !== data.n) {
        throw new Error(`score: expected the DkNN prediction of these ${data.n} images, found one of ${prediction.n}`);
      }
      const a = await extractActivations(model, data, { layers, batchSize });
      const features = { values: a.layers[0].values, dim: a.layers[0].dim };
      const logits = { values: a.layers[layers.length - 1].values, dim: a.layers[layers.length - 1].dim };
      return {
        msp: maxSoftmaxScore(logits),
        energy: energyScore(logits),
        odin: odinScore(model, data, { ...best, batchSize }),
        mahalanobis: mahalanobisScore(mahalanobis, features),
        knn: knnDistanceScore(prediction, { layer, k: knnK }),
        credibility: credibilityScore(prediction),
      };
    },
  };
}
