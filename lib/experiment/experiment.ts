/**
 * Experiment set-up: one call that starts the engine, loads a dataset (registered, or the user's
 * own splits), makes the paper's splits (calibration = the head of the test set, evaluation = the
 * rest) and loads the model, then runs the usual steps with progress bars and stage timings, and
 * finally writes the run's results beside its report. Nothing here knows which dataset it serves:
 * shapes, classes and class names come from the data.
 *
 * ```ts
 * const ex = await setupExperiment({ dataset: 'mnist', model: 'pretrained', progress: 'notebook' });
 * const dknn = await ex.fitDkNN({ k: 75 });          // fit on ex.train, calibrate on ex.calib
 * const pred = await ex.predict(dknn);               // ex.eval
 * ```
 */
import type * as tf from '@tensorflow/tfjs';
import { clearDatasetCache, dataDir } from '../data/datasets';
import { subset } from '../data/split';
import { datasetEntry, type DatasetSplits } from '../data/registry';
import { initBackend, type BackendInfo, type InitBackendOptions } from '../engine/backend';
import { craftAdversarial, type AdversarialSet } from '../attacks/craft';
import { type Attack } from '../attacks/attack';
import { ArtifactCache } from '../artifacts/cache';
import { DkNN } from '../dknn/dknn';
import { loadModel } from '../models/format';
import { dknnMetadata, setDknnMetadata, type Architecture } from '../models/metadata';
import { trainModel } from '../training/train';
import { trainingRecipe } from '../training/defaults';
import { sha256Of } from '../artifacts/keys';
import { modelHash } from '../models/weights';
import { logitsModel } from '../models/logits';
import { fitKey, keepFit, keepPrediction, reusedFit, reusedPrediction } from './reuse';
import { createModel, pretrainedPath } from '../models/zoo';
import { terminalProgress, type ProgressCallback } from '../util/progress';
import { notebookProgress, notebookWarning } from '../report/display';
import { markdown, type Html, type Markdown } from '../plots/html';
import { provenance, provenanceTable, StageTimer, type Provenance } from '../report/provenance';
import { writeResults, type NotebookResults } from '../report/results';
import { engineKey } from '../engine/kernels';
import type { ImageBatch, ImageDataset } from '../data/types';
import type { DkNNPrediction, DkNNOptions } from '../dknn/types';
import type { Columns } from '../util/columns';
import type { TrainArgs, TrainResult } from '../training/types';

/** How progress is shown: a notebook bar, a terminal bar, nothing, or a factory of callbacks. */
export type ProgressMode = 'notebook' | 'terminal' | 'none' | (() => ProgressCallback | undefined);

/** Options of {@link setupExperiment}; each has a default. */
export interface ExperimentOptions {
  /** A registered dataset name, or the splits of your own. Default 'mnist'. */
  dataset?: string | DatasetSplits;
  /**
   * The model: 'pretrained' (the dataset's committed model), a path (model folder or model.json), a tf.LayersModel, or null for none (e.g. before training). Default 'pretrained'.
   */
  model?: string | tf.LayersModel | null;
  /** First N training images (the kNN database). Default: all. */
  trainSubset?: number;
  /** Calibration = test[0 : calibEnd]. Default 750 (the reference's). */
  calibEnd?: number;
  /** Evaluation = test[calibEnd : evalEnd]. Default: the whole test set. */
  evalEnd?: number;
  /** Progress display. Default 'none'. */
  progress?: ProgressMode;
  /** The notebook's parameters, recorded in the provenance. Default {}. */
  parameters?: Record<string, unknown>;
  /** Engine choice. Default: native → wasm → cpu. */
  backend?: InitBackendOptions;
  /** Artefact cache folder for activations and adversarial sets; false disables it. Default `<repo>/.cache`. */
  cacheDir?: string | false;
}

/** Options of {@link Experiment.fitDkNN}: the DkNN's, and what happens to the training images. */
export interface FitDkNNOptions extends DkNNOptions {
  /** Release the training images: freed once the fit has their activations (see {@link Experiment.fitDkNN}). Default false. */
  releaseTrainingImages?: boolean;
}

/** What is known about the experiment's model. */
export interface ModelInfo {
  /** Where it was loaded from (null for a model passed in). */
  path: string | null;
  architecture: Architecture | null;
  record: Record<string, unknown>;
  /** sha256 of the weights at set-up. */
  hash: string;
}

function checkSplit(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer in ${min}…${max}, found ${value}`);
  return value;
}

/** A set-up experiment: data, splits, model, engine, timings (see the module comment). */
export class Experiment {
  readonly timer = new StageTimer();
  readonly cache: ArtifactCache;
  private readonly progressMode: ProgressMode;
  private ownsModel: boolean;
  /** Evaluation: test[calibEnd : evalEnd]. */
  readonly eval: ImageDataset;
  /** Images in {@link train} (known after {@link releaseTrainingImages} too). */
  readonly trainN: number;
  private modelValue: tf.LayersModel | null;
  private datasetValue: DatasetSplits;
  private trainValue: ImageDataset | null;
  private readonly checksums: Record<string, string>;

  constructor(
    readonly backend: BackendInfo,
    /** The whole dataset (all splits). */
    dataset: DatasetSplits,
    /** The kNN database: train[0 : trainSubset]. */
    train: ImageDataset,
    /** Calibration: test[0 : calibEnd]. */
    readonly calib: ImageDataset,
    evalSet: ImageDataset,
    model: { model: tf.LayersModel; info: ModelInfo; owned: boolean } | null,
    readonly parameters: Record<string, unknown>,
    options: { progress: ProgressMode; cacheDir: string | false | undefined },
  ) {
    this.datasetValue = dataset;
    this.trainValue = train;
    this.trainN = train.n;
    this.checksums = { ...(dataset.train?.checksums ?? {}), ...dataset.test.checksums };
    this.eval = evalSet;
    this.modelValue = model ? logitsModel(model.model) : null;
    this.modelInfo = model?.info ?? null;
    this.ownsModel = model?.owned ?? false;
    this.progressMode = options.progress;
    this.cache = new ArtifactCache({ dir: options.cacheDir });
  }

  /** The whole dataset (all splits; without `train` after {@link releaseTrainingImages}). */
  get dataset(): DatasetSplits {
    return this.datasetValue;
  }

  /** The kNN database: train[0 : trainSubset]. @throws after {@link releaseTrainingImages}. */
  get train(): ImageDataset {
    if (!this.trainValue) {
      throw new Error(
        `ex.train: the ${this.trainN} training images were released (releaseTrainingImages); set up a new experiment to use them again`,
      );
    }
    return this.trainValue;
  }

  /**
   * Drops this experiment's training images, and the data loader's memo of them, so that their
   * memory (188 MB for MNIST) is freed once nothing else holds them: for a run that no longer needs
   * the pixels, e.g. after {@link fitDkNN} (a DkNN keeps the training activations and labels, never
   * the images). Neighbor galleries, attacks guided by training images and training need them:
   * call it only when none follows. Afterwards {@link train} throws; {@link trainN}, the
   * calibration and evaluation images and the provenance's checksums stay.
   */
  releaseTrainingImages(): void {
    if (!this.trainValue) return;
    this.trainValue = null;
    const { train: _dropped, ...rest } = this.datasetValue;
    this.datasetValue = rest;
    clearDatasetCache();
  }

  /** What is known about the model; null when there is none. */
  modelInfo: ModelInfo | null;

  /** The model. @throws when the experiment was set up without one (see {@link useModel}). */
  get model(): tf.LayersModel {
    if (!this.modelValue)
      throw new Error('this experiment has no model: pass model to setupExperiment, or call useModel');
    return this.modelValue;
  }

  /**
   * Uses `model` from now on (e.g. one trained in the notebook; a softmax or sigmoid head is
   * skipped, see `models.logitsModel`); the experiment disposes it at the end.
   */
  useModel(model: tf.LayersModel, info: Partial<ModelInfo> = {}): void {
    const logits = logitsModel(model);
    if (this.ownsModel && this.modelValue && this.modelValue !== logits) this.modelValue.dispose();
    this.modelValue = logits;
    const meta = dknnMetadata(model);
    this.modelInfo = {
      path: info.path ?? null,
      architecture: info.architecture ?? meta.architecture ?? null,
      record: info.record ?? meta.record ?? {},
      hash: modelHash(model),
    };
    this.ownsModel = true;
  }

  /**
   * Trains a fresh zoo model on {@link train} (evaluated on `evalData` after every epoch, default
   * {@link eval}) and uses it from then on. With `checkpoint` (default true) a checkpoint keyed by
   * the architecture, the training arguments, the images and the backend is written to the
   * artefact cache after every epoch, and a re-run resumes from it.
   */
  async trainModel(
    architecture: Architecture,
    args: Omit<TrainArgs, 'checkpointPath' | 'onProgress' | 'architecture'> & { checkpoint?: boolean } = {},
  ): Promise<TrainResult> {
    const { checkpoint = true, ...trainArgs } = args;
    const model = createModel(architecture);
    const parts = {
      artefact: 'training-checkpoint',
      architecture: { ...architecture },
      args: trainingRecipe(trainArgs),
      images: sha256Of(this.train.images),
      n: this.train.n,
      backend: engineKey(),
    };
    const checkpointPath = checkpoint ? (this.cache.path({ kind: 'checkpoints', parts }) ?? undefined) : undefined;
    try {
      const result = await this.timer.time('train', () =>
        trainModel(model, this.train, {
          evalData: this.eval,
          ...trainArgs,
          architecture,
          checkpointPath,
          onProgress: this.progress(),
        }),
      );
      setDknnMetadata(model, {
        record: {
          epochs: result.epochs,
          steps: result.steps,
          imagesPerSecond: result.imagesPerSecond,
          backend: this.backend.description,
          train: { images: this.train.n, ...result.args },
        },
      });
      this.useModel(model, { architecture });
      return result;
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  /** A fresh progress callback for one long step (or undefined when progress is off). */
  progress(): ProgressCallback | undefined {
    const m = this.progressMode;
    if (m === 'none') return undefined;
    if (m === 'notebook') return notebookProgress();
    if (m === 'terminal') return terminalProgress();
    return m();
  }

  /** Engine, model and data in a few lines of markdown. */
  describe(): Markdown {
    const i = this.modelInfo;
    const acc =
      i && typeof i.record.testAccuracy === 'number'
        ? `, recorded test accuracy ${(100 * i.record.testAccuracy).toFixed(2)} %`
        : '';
    const t = this.eval;
    return markdown(
      `**Engine backend:** ${this.backend.description}  \n` +
        (i
          ? `**Model:** ${i.path ? `\`${i.path.split('/').slice(-2).join('/')}\`` : 'given in the notebook'}${i.architecture ? ` (${i.architecture.name})` : ''}${acc}, weights sha256 \`${i.hash.slice(0, 12)}…\`  \n`
          : '**Model:** none yet  \n') +
        `**Data:** ${this.dataset.name}: ${this.trainN} training images (kNN database), ${this.calib.n} calibration (test 0–${this.calib.n - 1}), ` +
        `${t.n} evaluation (test ${this.calib.n}–${this.calib.n + t.n - 1}); ${t.height}×${t.width}×${t.channels}, ${t.numClasses} classes`,
    );
  }

  /**
   * A DkNN on the model, fitted on {@link train} and calibrated on {@link calib}, with progress bars
   * and timings. With `releaseTrainingImages` the experiment lets go of the training images when
   * the fit starts ({@link releaseTrainingImages}), and they are freed as soon as the fit has their
   * activations, before it builds the indexes. The DkNN last fitted in this process is reused when
   * the model's weights, the images and the options are the same (a re-run cell): no new fit.
   */
  async fitDkNN(options: FitDkNNOptions = {}): Promise<DkNN> {
    const { releaseTrainingImages = false, ...dknnOptions } = options;
    const key = fitKey({
      modelHash: modelHash(this.model),
      train: this.train,
      calib: this.calib,
      options: dknnOptions,
    });
    const reused = reusedFit(key);
    if (reused) {
      await this.timer.time('fit and calibrate (reused: fitted earlier in this process)', () => undefined);
      if (releaseTrainingImages) this.releaseTrainingImages();
      return reused;
    }
    const dknn = new DkNN(this.model, { cacheDir: this.cache.dir, onWarning: notebookWarning, ...dknnOptions });
    const handed: { train: ImageDataset | null } = { train: this.train };
    if (releaseTrainingImages) this.releaseTrainingImages();
    await this.timer.time('fit (extract + index)', () => {
      const fitting = dknn.fit(handed.train!, { onProgress: this.progress() });
      handed.train = null; // the fit holds the only reference now (and drops it after extraction)
      return fitting;
    });
    await this.timer.time('calibrate', () => dknn.calibrate(this.calib, { onProgress: this.progress() }));
    keepFit(key, dknn);
    return dknn;
  }

  /**
   * The DkNN's predictions on `data` (default {@link eval}), timed under `stage`. The predictions
   * of the DkNN last fitted in this process are kept: asked again for the same images (a re-run
   * cell), they are returned without a new search.
   */
  async predict(dknn: DkNN, options: { data?: ImageBatch; stage?: string } = {}): Promise<DkNNPrediction> {
    const { data = this.eval, stage = 'predict' } = options;
    const reused = reusedPrediction(dknn, data);
    if (reused) return this.timer.time(`${stage} (reused: searched earlier in this process)`, () => reused);
    const pred = await this.timer.time(stage, () => dknn.predict(data, { onProgress: this.progress() }));
    keepPrediction(dknn, data, pred);
    return pred;
  }

  /** Adversarial versions of `data` (default {@link eval}) under `attack`, crafted against the model (cached). */
  craft(attack: Attack, data: ImageBatch = this.eval): Promise<AdversarialSet> {
    return this.timer.time(`craft ${attack.label}`, () =>
      craftAdversarial(this.model, data, { attack, cache: this.cache, onProgress: this.progress() }),
    );
  }

  /** The run's provenance: commit, engine, parameters, data checksums, stage timings, `extra`. */
  provenance(extra: Record<string, unknown> = {}): Provenance {
    const checksums = this.checksums;
    return provenance({
      backend: this.backend.description,
      seed: typeof this.parameters.seed === 'number' ? this.parameters.seed : this.seedText(),
      parameters: this.parameters,
      dataChecksums: checksums,
      stages: this.timer.stages,
      extra: { ...(this.modelInfo ? { 'model weights sha256': this.modelInfo.hash } : {}), ...extra },
    });
  }

  /** What the provenance says when the run has no seed: this run is deterministic; the model's seed if recorded. */
  private seedText(): string {
    const train = this.modelInfo?.record['train'];
    const seed = train && typeof train === 'object' ? (train as Record<string, unknown>)['seed'] : undefined;
    return (
      'none for this run (exact search and the attacks used are deterministic); ' +
      (typeof seed === 'number'
        ? `the model was trained with seed ${seed}`
        : "the model's training seed is not recorded")
    );
  }

  /**
   * Reports the run: writes `<notebook>.results.json` (the `results`, parameters and provenance)
   * and a CSV per `perInput` table beside the report, and returns the provenance table to show.
   * The experiment stays usable (re-running a cell after it works); {@link dispose} releases the model.
   */
  finish(
    notebook: string,
    content: {
      results: Record<string, unknown>;
      headline?: Record<string, number | string>;
      perInput?: Record<string, Columns>;
      extra?: Record<string, unknown>;
    },
  ): Html & { written: NotebookResults } {
    const p = this.provenance(content.extra);
    const written = writeResults(notebook, {
      quick: Boolean(this.parameters.quick),
      parameters: this.parameters,
      results: content.results,
      ...(content.headline ? { headline: content.headline } : {}),
      provenance: p,
      perInput: content.perInput,
    });
    return { ...provenanceTable(p), written };
  }

  /** Disposes the model when the experiment loaded or adopted it. */
  dispose(): void {
    if (this.ownsModel && this.modelValue) this.modelValue.dispose();
    this.modelValue = null;
  }
}

/** Sets up an experiment (see the module comment and {@link ExperimentOptions}). */
export async function setupExperiment(options: ExperimentOptions = {}): Promise<Experiment> {
  const timer = new StageTimer();
  const backend = await timer.time('engine start', () => initBackend(options.backend));
  const datasetOption = options.dataset ?? 'mnist';
  const dataset = await timer.time('load data', () =>
    typeof datasetOption === 'string' ? datasetEntry(datasetOption).load() : datasetOption,
  );
  if (!dataset.train)
    throw new Error(`dataset ${dataset.name} has no training split; an experiment needs one (the kNN database)`);
  const test = dataset.test;
  const trainN = checkSplit('trainSubset', options.trainSubset ?? dataset.train.n, 1, dataset.train.n);
  const calibEnd = checkSplit(
    options.calibEnd === undefined ? "calibEnd (default 750, the reference's)" : 'calibEnd',
    options.calibEnd ?? 750,
    1,
    test.n - 1,
  );
  const evalEnd = checkSplit('evalEnd', options.evalEnd ?? test.n, calibEnd + 1, test.n);
  let model: { model: tf.LayersModel; info: ModelInfo; owned: boolean } | null = null;
  const m = options.model === undefined ? 'pretrained' : options.model;
  if (typeof m === 'string') {
    let path = m;
    if (m === 'pretrained' || m === '') {
      const zoo = typeof datasetOption === 'string' ? datasetEntry(datasetOption).pretrained : undefined;
      if (!zoo)
        throw new Error(`dataset ${dataset.name} has no pretrained model; pass model: a path or a tf.LayersModel`);
      path = pretrainedPath(zoo, dataDir());
    }
    const saved = await timer.time('load model', () => loadModel(path));
    model = {
      model: saved.model,
      info: { path: saved.path, architecture: saved.architecture, record: saved.record, hash: modelHash(saved.model) },
      owned: true,
    };
  } else if (m !== null) {
    const meta = dknnMetadata(m);
    model = {
      model: m,
      info: { path: null, architecture: meta.architecture ?? null, record: meta.record ?? {}, hash: modelHash(m) },
      owned: false,
    };
  }
  const ex = new Experiment(
    backend,
    dataset,
    subset(dataset.train, { end: trainN }),
    subset(test, { end: calibEnd }),
    subset(test, { start: calibEnd, end: evalEnd }),
    model,
    options.parameters ?? {},
    { progress: options.progress ?? 'none', cacheDir: options.cacheDir },
  );
  ex.timer.stages.push(...timer.stages);
  return ex;
}
