/**
 * The DkNN's public options and results (the class is in dknn.ts, which re-exports all of these).
 */
import type { PValueFormula } from '../conformal/calibrator';
import type { MissingNeighborRule } from '../conformal/nonconformity';
import type { NeighborIndexFactory } from '../knn/types';
import type { ProgressCallback } from '../util/progress';
import type { ExactBackend } from '../knn/exact/options';

/** Options of {@link DkNN}. */
export interface DkNNOptions {
  /**
   * Layers whose activations are searched. Default: the layers recorded with the model
   * (`userDefinedMetadata.dknn.layers`; the zoo's MNIST CNN records the reference's ReLU1, ReLU3,
   * ReLU5, logits). For an ONNX model: tensor names (`model.layers()` lists them), by default the
   * `layers` given to `loadOnnxModel`.
   */
  layers?: readonly string[];
  /** Neighbors per layer. Default 75. */
  k?: number;
  /** Nearest-neighbor index: `'exact'` or a factory (e.g. LSH, HNSW). Default `'exact'`. */
  index?: 'exact' | NeighborIndexFactory;
  /** Backend of the exact index (see `ExactIndex`). Default `'auto'` (native GEMM when onnxruntime-node loads). */
  exactBackend?: 'auto' | ExactBackend;
  /** The exact index's projection first pass: `'auto'` (default), `false` or a rank (see `ExactIndex`). Same neighbors either way. */
  exactProjection?: 'auto' | false | number;
  /** p-value formula. Default `'reference'` (CleverHans: zeros trimmed, no +1); `'conformal'` = textbook. */
  formula?: PValueFormula;
  /** How a missing neighbor (approximate indexes) enters α. Default `'disagree'`. */
  missing?: MissingNeighborRule;
  /** Images per forward pass. Default 250. */
  batchSize?: number;
  /** Inputs per chunk in calibrate/predict (bounds their memory: 32 MB a chunk on MNIST). Default 500. */
  queryChunk?: number;
  /**
   * Threads of every forward pass: a count, or `'auto'` (default; see `extractActivations`: all
   * cores for an extraction of 2,000 images or more, so the fit's, while the chunks of calibrate and
   * predict stay on this thread and the fit's workers end after it — their memory, ~100 MB on
   * MNIST, is worth more there than ~1 s on 9,250 inputs). Same values for any count. An ONNX model
   * (`loadOnnxModel`) runs on its onnxruntime session's threads instead (its `threads` option).
   */
  workers?: number | 'auto';
  /** Folder of the activation cache; `false` disables it. Default `<repo>/.cache`. */
  cacheDir?: string | false;
  /**
   * Receives one line per warning: a damaged cache entry (then recomputed), a calibration set too
   * small for {@link pValueResolution}. Default `process.emitWarning`. Warnings are also in `info().warnings`.
   */
  onWarning?: (message: string) => void;
  /**
   * The p-value resolution wanted: `calibrate` warns when the calibration scores the formula
   * divides by are fewer than 1/resolution (p-values then move in steps of 1/n). Default 0.01.
   */
  pValueResolution?: number;
  /** Number of classes. Default: the training set's `numClasses`, else the model's output size. */
  numClasses?: number;
}

/** Options of {@link DkNN.fit}, {@link DkNN.calibrate} and {@link DkNN.predict}. */
export interface DkNNRunOptions {
  /** Progress reports (stages `fit: …`, `calibrate`, `predict`). */
  onProgress?: ProgressCallback;
}

/** The k neighbors of every input in one layer. */
export interface LayerNeighbors {
  layer: string;
  /** `rows × k` training indices, nearest first; -1 = missing. */
  indices: Int32Array;
  /** `rows × k` squared distances after preprocessing; Infinity where the index is -1. */
  distances: Float32Array;
  rows: number;
  k: number;
}

/** What {@link DkNN.predict} returns; `[row * numClasses + j]` layout for per-class arrays. */
export interface DkNNPrediction {
  /** argmax_j p_j(x) (lowest class on ties). */
  predictions: Int32Array;
  /** max_j p_j(x). */
  credibility: Float64Array;
  /** 1 − second-largest p_j(x). */
  confidence: Float64Array;
  /** p_j(x), n × numClasses. */
  pValues: Float64Array;
  /** α(x, j), n × numClasses. */
  nonconformity: Int32Array;
  /** Neighbors labeled j, summed over layers, n × numClasses. */
  knnCounts: Int32Array;
  /** Per layer, in the DkNN's layer order. */
  neighbors: LayerNeighbors[];
  /** Missing neighbors over all inputs and layers (0 for the exact index). */
  missingNeighbors: number;
  /** The DNN's own prediction (argmax of the model output). */
  dnnPredictions: Int32Array;
  /** The DNN's softmax probability of its prediction (the model outputs logits). */
  dnnConfidence: Float32Array;
  n: number;
  numClasses: number;
  /** The p-value formula used. */
  formula: PValueFormula;
}

/** What {@link DkNN.info} returns. */
export interface DkNNInfo {
  layers: string[];
  /** Values per row of each layer. */
  dims: number[];
  k: number;
  /** The index factory's name ('exact', 'lsh', 'hnsw', …). */
  index: string;
  /** The factory's `describe()` (index kind and parameters as given), null when it has none. */
  indexParameters: Record<string, unknown> | null;
  /** Per layer, the fitted index's own `describe()` (parameters resolved for that layer's dimension); [] before fit. */
  indexLayers: (Record<string, unknown> | null)[];
  /** The backend the index reports after build (e.g. 'native' or 'js' for exact), else null. */
  indexBackend: string | null;
  formula: PValueFormula;
  missing: MissingNeighborRule;
  numClasses: number | null;
  /** Calibration points (before trimming); null before calibrate. */
  calibrationN: number | null;
  /** Points the p-value formula divides by (after trimming zeros for 'reference'); null before calibrate. */
  calibrationSize: number | null;
  /** sha256 of the model weights at fit; null before fit. */
  modelHash: string | null;
  /** Training points; 0 before fit. */
  trainN: number;
  /** Activation cache of the last fit: folder (false = off), layers read from it and layers written. */
  cache: { dir: string | false; hits: string[]; written: string[] };
  /** Seconds of each stage of the latest fit, calibrate and predict (0 for a part that did not run). */
  timings: DkNNTimings;
  /** Warnings of the latest fit and calibrate (see {@link DkNNOptions.onWarning}). */
  warnings: string[];
}

/** Seconds of the parts of a search (calibrate or predict). */
export interface SearchTimings {
  /** Forward passes (activations and the DNN's output). */
  extract: number;
  /** Normalising and centering the activations. */
  preprocess: number;
  /** Index queries. */
  query: number;
  total: number;
}

/** Seconds of each stage of a DkNN's latest fit, calibrate and predict; 0 for a part that did not run. */
export interface DkNNTimings {
  fit: {
    /** Hashing the model's weights (the cache key and the later checks). */
    modelHash: number;
    /** Hashing the training images (the cache key). */
    hashImages: number;
    cacheRead: number;
    /** Forward passes of the layers the cache did not hold (0: every layer came from the cache). */
    extract: number;
    cacheWrite: number;
    preprocess: number;
    /** Building the indexes. */
    index: number;
    total: number;
  };
  calibrate: SearchTimings;
  predict: SearchTimings & { conformal: number };
}

/** Timings of a DkNN that has not run yet. */
export function emptyTimings(): DkNNTimings {
  const search = (): SearchTimings => ({ extract: 0, preprocess: 0, query: 0, total: 0 });
  return {
    fit: { modelHash: 0, hashImages: 0, cacheRead: 0, extract: 0, cacheWrite: 0, preprocess: 0, index: 0, total: 0 },
    calibrate: search(),
    predict: { ...search(), conformal: 0 },
  };
}
