/**
 * Deep k-Nearest Neighbors (Papernot & McDaniel 2018): fit → calibrate → predict, in that order.
 *
 * ```ts
 * const dknn = new DkNN(model, { k: 75 });          // layers ReLU1, ReLU3, ReLU5, logits
 * await dknn.fit(mnist.train);                      // activations → preprocessing → one index per layer
 * await dknn.calibrate(subset(mnist.test, { end: 750 })); // calibration scores α(xᵢ, yᵢ)
 * const out = await dknn.predict(subset(mnist.test, { start: 750 })); // predictions, credibility, confidence, …
 * ```
 *
 * - fit: the training activations of every layer are extracted in ONE pass of the model (one
 *   sub-model with an output per layer, on all cores by default (`workers`), written into one
 *   preallocated array per layer). That costs
 *   no extra memory: these arrays are exactly the ones the indexes keep, normalized and centered in
 *   place by {@link Preprocessor} (full MNIST: 60,000 × (12,544 + 3,200 + 128 + 10) float32 ≈ 3.8 GB,
 *   one copy). Raw activations are cached (lib/cache.ts) under a key made of the model's weight
 *   hash, the sha256 of the training images, n, the layer and the tf.js backend; only the layers
 *   without a matching cache entry are extracted.
 * - calibrate / predict: inputs go through in chunks (`queryChunk`, default 500 images): extract
 *   all layers (and the model's output, for the DNN's own prediction), preprocess with the training
 *   center, query each index; so memory stays bounded whatever the number of inputs. Under the
 *   default `workers: 'auto'` a chunk is extracted on this thread (see `workers`).
 * - Memory: once the training activations are extracted, the call holds no reference to the
 *   training images, so a caller holding none either gets them freed before the index build
 *   (`Experiment.fitDkNN`'s `releaseTrainingImages`).
 * - α(x, j) = Σ_layers #{k neighbors with label ≠ j}; p-values by the chosen formula
 *   (`'reference'` = CleverHans, `'conformal'` = textbook, see {@link ConformalCalibrator}).
 *
 * Tensor ownership: the model is only read, never disposed; no tensor outlives a method call.
 * Calling fit again discards the previous fit and calibration.
 */
import * as tf from '@tensorflow/tfjs';
import { checkPositiveInt } from '../util/checks';
import { DEFAULT_ACTIVATION_BATCH, layerDims } from '../activations/extract';
import { ArtifactCache } from '../artifacts/cache';
import { cachedActivations, type CachedActivations } from '../activations/cache';
import { closeActivationPool, extractWorkerCount } from '../activations/pool';
import { NotFittedError } from '../util/errors';
import { rescorePrediction, type RescoreBasis, type RescoreOptions } from './rescore';
import { ConformalCalibrator, type PValueFormula } from '../conformal/calibrator';
import { knnCounts, nonconformity, scoresAtLabels, type MissingNeighborRule } from '../conformal/nonconformity';
import { conformalPredict } from '../conformal/predict';
import { Preprocessor } from '../knn/preprocess';
import type { NeighborIndexFactory } from '../knn/types';
import {
  calibrationWarning,
  checkLabels,
  checkNotConstant,
  checkPixels,
  dknnLayers,
  scoringChoices,
  fitWarnings,
  indexFactoryOf,
  outputDim,
  checkModelUnchanged,
  resolutionWarning,
} from './checks';
import { searchNeighbors, type FittedLayer, type SearchSetup } from './search';
import { classifierHash, logitsClassifier, tfjsModel, type ClassifierModel } from '../models/classifier';
import { isOnnxModel } from '../models/onnx';
import { initBackend } from '../engine/backend';
import {
  emptyTimings,
  type DkNNInfo,
  type DkNNOptions,
  type DkNNPrediction,
  type DkNNRunOptions,
  type DkNNTimings,
  type LayerNeighbors,
} from './types';
import type { ImageBatch, LabeledImages } from '../data/types';

/** What the first step of {@link DkNN.fit} hands to the second (no pixels). */
interface TrainingActivations {
  acts: CachedActivations;
  trainLabels: Int32Array;
  n: number;
  numClasses: number;
  pixelRange: readonly [number, number] | null;
  hash: string;
  t0: number;
}

interface FitState {
  layers: FittedLayer[];
  trainLabels: Int32Array;
  trainN: number;
  modelHash: string;
  numClasses: number;
  /** The training set's pixel range (inputs are checked against it), or null. */
  pixelRange: readonly [number, number] | null;
}

/** The Deep k-Nearest Neighbors classifier around a trained model. See the module comment. */
export class DkNN {
  /** The model it reads: a tfjs LayersModel, or an ONNX classifier (`loadOnnxModel`). */
  readonly classifier: ClassifierModel;
  readonly layers: readonly string[];
  readonly k: number;
  readonly formula: PValueFormula;
  readonly missing: MissingNeighborRule;
  private readonly factory: NeighborIndexFactory;
  private readonly dims: number[];
  private readonly batchSize: number;
  private readonly queryChunk: number;
  private readonly workers: number | 'auto';
  private readonly cache: ArtifactCache;
  private readonly numClassesOption: number | undefined;
  private state: FitState | null = null;
  private calibrator: ConformalCalibrator | null = null;
  private calibScores: Int32Array | null = null;
  private calibRun: { neighbors: LayerNeighbors[]; labels: Int32Array } | null = null;
  private cacheHits: string[] = [];
  private cacheWritten: string[] = [];
  private timings: DkNNTimings = emptyTimings();
  private warnings: string[] = [];
  private readonly warn: (message: string) => void;
  private readonly resolution: number;

  /**
   * @param model a trained model outputting logits (a tfjs LayersModel, or an ONNX classifier from
   *   `loadOnnxModel`); read, never modified or disposed.
   * @throws Error for a layer the model does not have (listing its layers), k or batch sizes that
   *   are not positive integers, an unknown index/formula/missing rule.
   */
  constructor(model: ClassifierModel, options: DkNNOptions = {}) {
    const emit = options.onWarning ?? ((m: string) => process.emitWarning(m, 'DkNNWarning'));
    this.warn = (m) => {
      this.warnings.push(m);
      emit(m);
    };
    this.classifier = logitsClassifier(model, { onWarning: this.warn });
    this.layers = dknnLayers(this.classifier, options.layers);
    this.dims = layerDims(this.classifier, this.layers, 'DkNN');
    this.k = options.k ?? 75;
    checkPositiveInt('k', this.k);
    this.batchSize = options.batchSize ?? DEFAULT_ACTIVATION_BATCH;
    checkPositiveInt('batchSize', this.batchSize);
    this.queryChunk = options.queryChunk ?? 500;
    this.workers = options.workers ?? 'auto';
    extractWorkerCount(this.workers, 1, 1); // validates
    checkPositiveInt('queryChunk', this.queryChunk);
    ({ formula: this.formula, missing: this.missing, resolution: this.resolution } = scoringChoices(options));
    this.factory = indexFactoryOf(options);
    if (options.numClasses !== undefined) checkPositiveInt('numClasses', options.numClasses);
    this.numClassesOption = options.numClasses;
    try {
      this.cache = new ArtifactCache({ dir: options.cacheDir, onWarning: (m) => this.warn(m) });
    } catch (e) {
      throw new Error(
        `DkNN: cannot place the activation cache (${(e as Error).message}); pass cacheDir: a folder, or false`,
        { cause: e },
      );
    }
  }

  /** The tfjs model it reads. @throws for a DkNN on an ONNX model (which has no tfjs layers nor gradients; see `classifier`). */
  get model(): tf.LayersModel {
    return tfjsModel(this.classifier, 'DkNN.model');
  }

  /** Whether {@link fit} has run. */
  get fitted(): boolean {
    return this.state !== null;
  }

  /** Whether {@link calibrate} has run (since the last fit). */
  get calibrated(): boolean {
    return this.calibrator !== null;
  }

  /** The calibration scores α(xᵢ, yᵢ) in calibration order (a copy). @throws before calibrate. */
  get calibrationScores(): Int32Array {
    if (!this.calibScores) throw new NotFittedError('predict');
    return this.calibScores.slice();
  }

  /** Per layer, the center subtracted after normalization (the mean of the normalized training rows; copies). @throws before fit. */
  get layerCenters(): Float32Array[] {
    if (!this.state) throw new NotFittedError('calibrate');
    return this.state.layers.map((f) => f.pre.center.slice());
  }

  /** The training labels of the fit (a copy). @throws before fit. */
  get trainLabels(): Int32Array {
    if (!this.state) throw new NotFittedError('calibrate');
    return this.state.trainLabels.slice();
  }

  /** The calibration scores α(xᵢ, yᵢ) and the labels yᵢ, in calibration order (copies). @throws before calibrate. */
  get calibrationData(): { scores: Int32Array; labels: Int32Array } {
    if (!this.calibScores || !this.calibRun) throw new NotFittedError('predict');
    return { scores: this.calibScores.slice(), labels: this.calibRun.labels.slice() };
  }

  /** The fitted calibrator (scores only), e.g. to compute p-values with the other formula. @throws before calibrate. */
  get conformalCalibrator(): ConformalCalibrator {
    if (!this.calibrator) throw new NotFittedError('predict');
    return this.calibrator;
  }

  /**
   * Builds one index per layer over the training set's preprocessed activations and keeps its labels.
   * Discards any previous fit and calibration.
   * @throws Error when the label count is not n, a label is outside [0, numClasses), k > n, or the
   *   images do not fit the model.
   */
  fit(train: LabeledImages, options: DkNNRunOptions = {}): Promise<this> {
    // Two steps, so that once the activations are extracted nothing of this call holds the pixels:
    // a caller that holds none either (Experiment.fitDkNN's releaseTrainingImages) gets them freed
    // during the index build (an async function would keep its argument until it returns).
    return this.buildIndexes(this.extractTraining(train, options), options);
  }

  /** fit, first step: checks, and the training activations (from the cache or extracted). */
  private async extractTraining(train: LabeledImages, options: DkNNRunOptions): Promise<TrainingActivations> {
    await initBackend(); // the engine starts on first use when the caller did not start it
    this.state = null;
    this.calibrator = null;
    this.calibScores = null;
    this.calibRun = null;
    this.timings = emptyTimings();
    this.cacheHits = [];
    this.cacheWritten = [];
    this.warnings = [];
    const t0 = performance.now();
    const numClasses = this.numClassesOption ?? train.numClasses ?? outputDim(this.classifier);
    const trainLabels = checkLabels('fit', train, numClasses);
    const pixelRange = train.pixelRange ?? null;
    checkPixels('fit', 'training', train, pixelRange);
    const n = train.n;
    const ks = { k: this.k, labels: trainLabels, numClasses, dataName: train.name };
    for (const w of fitWarnings(ks, this.classifier, this.numClassesOption !== undefined)) this.warn(w);
    const t = performance.now();
    const hash = classifierHash(this.classifier);
    this.timings.fit.modelHash = (performance.now() - t) / 1000;
    const acts = await cachedActivations(this.classifier, train, {
      layers: this.layers,
      cache: this.cache,
      batchSize: this.batchSize,
      modelHash: hash,
      dataName: train.name,
      workers: this.workers,
      onProgress: options.onProgress && ((e) => options.onProgress!({ ...e, stage: `fit: ${e.stage}` })),
    });
    // Calibrate and predict extract chunk by chunk: where they will not use the fit's workers (under
    // 'auto', chunks below the size that starts workers), those end now and give their memory back.
    if (this.chunkWorkers() === 1 && !isOnnxModel(this.classifier)) closeActivationPool(this.classifier);
    return { acts, trainLabels, n, numClasses, pixelRange, hash, t0 };
  }

  /** fit, second step: preprocessing and one index per layer. */
  private async buildIndexes(extracting: Promise<TrainingActivations>, options: DkNNRunOptions): Promise<this> {
    const { acts, trainLabels, n, numClasses, pixelRange, hash, t0 } = await extracting;
    const L = this.layers.length;
    let t: number;
    const arrays: (Float32Array | undefined)[] = acts.values;
    this.cacheHits = acts.hits;
    this.cacheWritten = acts.written;
    Object.assign(this.timings.fit, acts.timings);

    const fitted: FittedLayer[] = [];
    let tPre = 0;
    let tIndex = 0;
    for (let l = 0; l < L; l++) {
      const values = arrays[l]!;
      const dim = this.dims[l];
      checkNotConstant(this.layers[l], values, n, dim);
      t = performance.now();
      const pre = new Preprocessor();
      pre.fitTransform(values, { rows: n, dim }); // in place: the index keeps this very array
      tPre += performance.now() - t;
      t = performance.now();
      const index = this.factory.create();
      await index.build(values, { rows: n, dim });
      arrays[l] = undefined; // the index keeps what it needs (a reference, or its own copy): lets a copy free this one
      tIndex += performance.now() - t;
      fitted.push({ name: this.layers[l], dim, pre, index });
      options.onProgress?.({ stage: 'fit: preprocess + index', done: l + 1, total: L, unit: 'layer' });
    }
    this.timings.fit.preprocess = tPre / 1000;
    this.timings.fit.index = tIndex / 1000;
    this.timings.fit.total = (performance.now() - t0) / 1000;
    this.state = { layers: fitted, trainLabels, trainN: n, modelHash: hash, numClasses, pixelRange };
    return this;
  }

  /**
   * Computes the calibration scores α(xᵢ, yᵢ) of `calib` (held out from training) and fits the
   * conformal calibrator. Replaces any previous calibration.
   * @throws `call fit before calibrate`; on a label count other than n or a label out of range; when
   *   the model's weights changed since fit; with the 'reference' formula when every score is 0.
   */
  async calibrate(calib: LabeledImages, options: DkNNRunOptions = {}): Promise<this> {
    const state = this.requireFitted();
    const t0 = performance.now();
    const labels = checkLabels('calibrate', calib, state.numClasses);
    if (calib.n === 0) throw new Error('calibrate: expected at least 1 calibration point, found 0');
    checkPixels('calibrate', 'calibration', calib, state.pixelRange);
    this.warnings = this.warnings.filter((w) => !w.startsWith('calibrate:'));
    const single = calibrationWarning(labels, state.numClasses);
    if (single) this.warn(single);
    checkModelUnchanged(this.classifier, state.modelHash);
    this.calibrator = null;
    this.calibScores = null;
    this.calibRun = null;
    const run = await searchNeighbors(this.searchSetup(state, calib.n), calib, 'calibrate', options.onProgress);
    const nc = nonconformity(run.labels, state.numClasses, { missing: this.missing });
    const scores = scoresAtLabels(nc, labels);
    const calibrator = new ConformalCalibrator({ formula: this.formula }).fit(scores);
    if (this.formula === 'reference' && calibrator.calibrationSize('reference') === 0) {
      throw new Error(
        `calibrate: every one of the ${scores.length} calibration scores is 0 (all neighbors agree with the true label), so the reference formula's trimming leaves no score; use formula 'conformal' or a larger calibration set`,
      );
    }
    const coarse = resolutionWarning({
      formula: this.formula,
      size: calibrator.calibrationSize(),
      scores: scores.length,
      resolution: this.resolution,
    });
    if (coarse) this.warn(coarse);
    this.calibrator = calibrator;
    this.calibScores = scores;
    this.calibRun = { neighbors: run.neighbors, labels };
    this.timings.calibrate = { ...run.seconds, total: (performance.now() - t0) / 1000 };
    return this;
  }

  /**
   * DkNN prediction of every input: neighbors per layer, nonconformity, p-values, prediction,
   * credibility and confidence, plus the DNN's own prediction for comparison.
   * @throws `call calibrate before predict`; when the model's weights changed since fit.
   */
  async predict(x: ImageBatch, options: DkNNRunOptions = {}): Promise<DkNNPrediction> {
    if (!this.calibrator || !this.state) throw new NotFittedError('predict');
    const state = this.state;
    const calibrator = this.calibrator;
    const t0 = performance.now();
    checkModelUnchanged(this.classifier, state.modelHash);
    const pixels = x.height * x.width * x.channels;
    if (!Number.isSafeInteger(x.n) || x.n < 0 || x.images.length !== x.n * pixels) {
      throw new Error(
        `predict: expected ${x.n}×${x.height}×${x.width}×${x.channels} = ${x.n * pixels} pixel values, found ${x.images.length}`,
      );
    }
    checkPixels('predict', 'input', x, state.pixelRange);
    const run = await searchNeighbors(this.searchSetup(state, x.n), x, 'predict', options.onProgress);
    const t = performance.now();
    const C = state.numClasses;
    const nc = nonconformity(run.labels, C, { missing: this.missing });
    const counts = knnCounts(run.labels, C);
    const pValues = calibrator.pValues(nc.scores, C);
    const cp = conformalPredict(pValues, C);
    this.timings.predict = {
      ...run.seconds,
      conformal: (performance.now() - t) / 1000,
      total: (performance.now() - t0) / 1000,
    };
    return {
      predictions: cp.predictions,
      credibility: cp.credibility,
      confidence: cp.confidence,
      pValues: cp.pValues,
      nonconformity: nc.scores,
      knnCounts: counts.counts,
      neighbors: run.neighbors,
      missingNeighbors: nc.missing,
      dnnPredictions: run.dnnPredictions,
      dnnConfidence: run.dnnConfidence,
      n: x.n,
      numClasses: C,
      formula: this.formula,
    };
  }

  /**
   * What re-scoring needs (lib/dknn/rescore.ts): the settings, the training labels, the calibration
   * inputs' neighbor lists and labels — this DkNN's own arrays, to read and not to change (e.g.
   * `plots.tweakPanel` packs them into a page). @throws `call calibrate before predict`.
   */
  get rescoreBasis(): RescoreBasis {
    if (!this.calibrator || !this.state || !this.calibRun) throw new NotFittedError('predict');
    const { numClasses, trainLabels } = this.state;
    const { neighbors: calibNeighbors, labels: calibLabels } = this.calibRun;
    const { layers, k, formula, missing } = this;
    return { layers, k, numClasses, formula, missing, trainLabels, calibNeighbors, calibLabels };
  }

  /**
   * `pred` (made by this DkNN's `predict`) with other settings — a smaller k, a subset of the
   * layers, the other p-value formula — from the neighbor lists already found, without searching
   * again (lib/rescore.ts): the same result as a DkNN built with those settings.
   * @throws `call calibrate before predict`; RangeError for settings outside what was searched.
   */
  rescore(pred: DkNNPrediction, options: RescoreOptions = {}): DkNNPrediction {
    return rescorePrediction(this.rescoreBasis, pred, options);
  }

  /** What this DkNN is made of and how long its stages took. */
  info(): DkNNInfo {
    const s = this.state;
    const backend = s ? (s.layers[0].index as { backend?: unknown }).backend : undefined;
    return {
      layers: [...this.layers],
      dims: [...this.dims],
      k: this.k,
      index: this.factory.name,
      indexParameters: this.factory.describe ? this.factory.describe() : null,
      indexLayers: s ? s.layers.map((f) => (typeof f.index.describe === 'function' ? f.index.describe() : null)) : [],
      indexBackend: typeof backend === 'string' ? backend : null,
      formula: this.formula,
      missing: this.missing,
      numClasses: s ? s.numClasses : null,
      calibrationN: this.calibScores ? this.calibScores.length : null,
      calibrationSize: this.calibrator ? this.calibrator.calibrationSize() : null,
      modelHash: s ? s.modelHash : null,
      trainN: s ? s.trainN : 0,
      cache: { dir: this.cache.dir, hits: [...this.cacheHits], written: [...this.cacheWritten] },
      timings: structuredClone(this.timings),
      warnings: [...this.warnings],
    };
  }

  private requireFitted(): FitState {
    if (!this.state) throw new NotFittedError('calibrate');
    return this.state;
  }

  /** Extraction threads of one calibrate/predict chunk (≤ {@link queryChunk} of `n` inputs). */
  private chunkWorkers(n = this.queryChunk): number {
    return extractWorkerCount(this.workers, Math.min(n, this.queryChunk), this.batchSize);
  }

  /** What the search of calibration or prediction inputs needs. */
  private searchSetup(state: FitState, n: number): SearchSetup {
    return {
      model: this.classifier,
      fitted: state.layers,
      trainLabels: state.trainLabels,
      k: this.k,
      batchSize: this.batchSize,
      queryChunk: this.queryChunk,
      workers: this.chunkWorkers(n),
    };
  }
}
