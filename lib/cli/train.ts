#!/usr/bin/env node
/**
 * Trains a DkNN network from the command line (default: the reference's MNIST CNN and recipe);
 * the options are in USAGE below (`npm run train -- --help`). Validation splits keep whole groups
 * (GTSRB tracks) on one side and the model keeps the weights of its best epoch; --workers defaults
 * to 2 when os.availableParallelism() ≥ 2 and the backend is single-threaded (wasm, cpu), else 1
 * (see TrainArgs.workers). Resumes from the checkpoint when one exists (unless --fresh), shows a
 * progress bar on stderr, and saves the weights with a record of how they were made (parameters,
 * commit, backend, data checksums, test accuracy, throughput).
 */
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { rmSync } from 'node:fs';
import { initBackend, type BackendName } from '../engine/backend';
import { dataDir } from '../data/datasets';
import { splitByGroup, subset } from '../data/split';
import { datasetEntry } from '../data/registry';
import type { LayersModel } from '@tensorflow/tfjs';
import { trainModel } from '../training/train';
import type { TrainResult } from '../training/types';
import { loadModel } from '../models/format';
import { dknnMetadata } from '../models/metadata';
import { modelHash } from '../models/weights';
import { randomAffineAugment, randomShiftAugment } from '../training/augment';
import { createModel, MODEL_ZOO, pretrainedPath } from '../models/zoo';
import { defaultCacheDir, gitCommit, repoRoot } from '../artifacts/repo';
import { checkCheckpointPath } from '../training/checkpoint';
import { trainingProblems } from '../training/health';
import { checkModelOut, saveModelFolder } from '../training/output';
import { capWorkers, parseCli, parseCount, parseNumber, runCli } from './args';
import { terminalProgress } from '../util/progress';
import { TRAIN_DEFAULTS } from '../training/defaults';
import { evaluateAccuracy } from '../models/predict';

const USAGE = `
Usage: npm run train -- [options]
Trains a zoo network (default: the dataset's pretrained one, with the reference's recipe).
  --dataset mnist|gtsrb|...    a registered dataset (mnist)
  --architecture NAME          a zoo entry (default: the dataset's pretrained architecture)
  --epochs N --batch-size N --lr L   Adam recipe (${TRAIN_DEFAULTS.epochs}, ${TRAIN_DEFAULTS.batchSize}, ${TRAIN_DEFAULTS.learningRate})
  --seed N                     shuffling seed (${TRAIN_DEFAULTS.seed}); --init-seed N weight initialization (1234)
  --subset N                   first N training images only
  --validation F --patience P  early stopping on a track-split validation part F (patience 3)
  --augment                    shifts of up to 2 px, brightness 0.8…1.2 (seeded)
  --augment-affine             rotation ±15°, scale 0.9…1.1, shift ±3 px, brightness 0.8…1.2 (seeded)
  --workers N                  data-parallel gradient threads (2 on ≥ 2 cores, single-threaded engine)
  --out DIR, --force           model folder (default: the committed one); a committed model's folder
                               (data/pretrained/…, however spelled) is replaced only with --force
  --checkpoint PATH --fresh    resume from / ignore the per-epoch checkpoint (resumed only by a run
                               with the same data, initial weights, recipe, augmentation, validation
                               split, engine and workers; another run's is set aside, with a message)
  --keep-anyway                save the model even when its loss rose over training or its test
                               accuracy is at chance (refused otherwise)
  --init-from DIR              start from the weights of a saved model of the same architecture
                               (e.g. a second stage at a lower --lr); recorded with its hash
  -h, --help                   this text
`;

/** The CLI's options (parseArgs spec; the recipe's defaults are TRAIN_DEFAULTS). */
const OPTIONS = {
  epochs: { type: 'string', default: String(TRAIN_DEFAULTS.epochs) },
  'batch-size': { type: 'string', default: String(TRAIN_DEFAULTS.batchSize) },
  lr: { type: 'string', default: String(TRAIN_DEFAULTS.learningRate) },
  seed: { type: 'string', default: String(TRAIN_DEFAULTS.seed) },
  'init-seed': { type: 'string', default: '1234' },
  subset: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  checkpoint: { type: 'string' },
  fresh: { type: 'boolean', default: false },
  'init-from': { type: 'string' },
  workers: { type: 'string' },
  dataset: { type: 'string', default: 'mnist' },
  architecture: { type: 'string' },
  validation: { type: 'string' },
  patience: { type: 'string', default: '3' },
  augment: { type: 'boolean', default: false },
  'augment-affine': { type: 'boolean', default: false },
  'keep-anyway': { type: 'boolean', default: false },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** The augmentation the flags ask for, as recorded (null for none). */
function augmentFromArgs(values: Values) {
  if (values.augment && values['augment-affine']) throw new Error('pass --augment or --augment-affine, not both');
  if (values['augment-affine'])
    return { kind: 'affine' as const, maxShift: 3, maxRotation: 15, maxScale: 0.1, brightness: 0.2 };
  return values.augment ? { kind: 'shift' as const, maxShift: 2, brightness: 0.2 } : null;
}

/** The run the flags ask for, every value checked before any long work. */
function runFromArgs(values: Values) {
  const learningRate = parseNumber('lr', values.lr as string);
  if (!(learningRate > 0)) throw new Error(`--lr must be > 0, found ${values.lr}`);
  const subsetN = values.subset === undefined ? undefined : parseCount('subset', values.subset as string);
  if (subsetN === 0) throw new Error('--subset 0 would train on no image; expected at least 1');
  const dataset = values.dataset as string;
  const entry = datasetEntry(dataset);
  const archName = (values.architecture as string | undefined) ?? entry.pretrained;
  if (!archName)
    throw new Error(
      `dataset ${dataset} has no default architecture; pass --architecture (the zoo has ${Object.keys(MODEL_ZOO).join(', ')})`,
    );
  const validationFraction =
    values.validation === undefined ? undefined : parseNumber('validation', values.validation as string);
  if (validationFraction !== undefined && !(validationFraction > 0 && validationFraction < 1))
    throw new Error(`--validation must be a fraction in (0, 1), found ${values.validation}`);
  const run = {
    dataset,
    entry,
    archName,
    learningRate,
    subsetN,
    epochs: parseCount('epochs', values.epochs as string),
    batchSize: parseCount('batch-size', values['batch-size'] as string),
    seed: parseCount('seed', values.seed as string),
    initSeed: parseCount('init-seed', values['init-seed'] as string),
    augment: augmentFromArgs(values),
    validationFraction,
    patience: parseCount('patience', values.patience as string),
    workers: values.workers === undefined ? undefined : parseCount('workers', values.workers as string),
    initFrom: values['init-from'] as string | undefined,
    checkpoint: values.checkpoint as string | undefined,
    fresh: Boolean(values.fresh),
    keepAnyway: Boolean(values['keep-anyway']),
  };
  // Where the model goes is checked once every value is known to be right.
  const out = resolve((values.out as string | undefined) ?? pretrainedPath(archName, dataDir()));
  checkModelOut(out, {
    protectedRoots: committedModelRoots(),
    force: Boolean(values.force),
    label: values.out === undefined ? 'with no --out, the model' : `--out ${values.out as string}`,
  });
  return { ...run, out };
}

/** The folders of the committed models: those of the data folder and, when it is another, the repository's. */
function committedModelRoots(): string[] {
  const dataDirs = [dataDir()];
  try {
    dataDirs.push(join(repoRoot(), 'data'));
  } catch {
    // an installed package: its data folder is the one
  }
  const roots = dataDirs.flatMap((d) =>
    Object.values(MODEL_ZOO).flatMap((e) => (e.pretrained ? [dirname(join(d, e.pretrained))] : [])),
  );
  return [...new Set(roots.map((r) => resolve(r)))];
}

type Run = ReturnType<typeof runFromArgs>;

/** Gradient threads: the flag, or 2 on ≥ 2 cores with a single-threaded engine (the native one is multi-threaded already), capped by the cores. */
function trainingThreads(run: Run, backend: BackendName): number {
  const cores = availableParallelism();
  const capped = capWorkers(run.workers ?? (backend !== 'tensorflow' && cores >= 2 ? 2 : 1), cores);
  if (capped.message) process.stderr.write(`${capped.message}\n`);
  const workers = capped.workers;
  process.stderr.write(`training threads: ${workers}${workers > 1 ? ' (data-parallel, worker_threads)' : ''}\n`);
  return workers;
}

/** The training images (the subset asked for) and, with --validation, the track-split validation part. */
async function trainingData(run: Run) {
  const data = await run.entry.load();
  if (!data.train) throw new Error(`dataset ${run.dataset} has no training split`);
  if (run.subsetN !== undefined && run.subsetN > data.train.n)
    throw new Error(`--subset must be at most ${data.train.n}, found ${run.subsetN}`);
  const all = run.subsetN !== undefined ? subset(data.train, { end: run.subsetN }) : data.train;
  const split =
    run.validationFraction !== undefined
      ? splitByGroup(all, { validationFraction: run.validationFraction, seed: run.seed })
      : null;
  const train = split ? split.train : all;
  if (split)
    process.stderr.write(
      `early stopping on ${split.validation.n} validation images (${new Set(split.validation.groups).size} whole tracks), patience ${run.patience}; training on ${train.n}\n`,
    );
  return { data: { ...data, train: data.train }, train, split };
}

async function main(): Promise<void> {
  const { values } = parseCli(OPTIONS, USAGE);
  const run = runFromArgs(values);
  if (run.checkpoint !== undefined) checkCheckpointPath(run.checkpoint); // before any long work
  const backend = await initBackend();
  process.stderr.write(`engine backend: ${backend.description}\n`);
  const initFrom = run.initFrom !== undefined ? await initialWeights(run.initFrom) : undefined;
  const stage = initFrom ? `-from-${initFrom.modelHash.slice(0, 12)}` : '';
  const checkpoint = run.checkpoint ?? join(defaultCacheDir(), 'train', `${run.archName}-${run.dataset}${stage}.ckpt`);
  checkCheckpointPath(checkpoint);
  const workers = trainingThreads(run, backend.name);
  const { data, train, split } = await trainingData(run);
  const architecture = { name: run.archName, args: { seed: run.initSeed } };
  const model = createModel(architecture);
  if (initFrom) copyWeights(initFrom.model, model, run.initFrom!);
  if (run.fresh) rmSync(checkpoint, { force: true });
  const t0 = performance.now();
  const augment = run.augment;
  const result = await trainModel(model, train, {
    epochs: run.epochs,
    batchSize: run.batchSize,
    learningRate: run.learningRate,
    seed: run.seed,
    workers,
    architecture,
    checkpointPath: checkpoint,
    evalData: data.test,
    ...(split ? { earlyStopping: { data: split.validation, patience: run.patience } } : {}),
    ...(augment
      ? { augment: augment.kind === 'affine' ? randomAffineAugment(augment) : randomShiftAugment(augment) }
      : {}),
    onProgress: terminalProgress(),
    onNotice: (message) => process.stderr.write(`${message}\n`),
  });
  const seconds = (performance.now() - t0) / 1000;
  const testAccuracy = evaluateAccuracy(model, data.test);
  const problems = checkOutcome(run, checkpoint, { result, testAccuracy, test: data.test });
  const record = {
    task: `${run.dataset}, ${run.archName}${run.dataset === 'mnist' ? ', CleverHans DkNN recipe' : ''}`,
    train: {
      images: train.n,
      ...result.args,
      augment,
      initSeed: run.initSeed,
      ...(initFrom
        ? { initFrom: { path: run.initFrom, modelHash: initFrom.modelHash, testAccuracy: initFrom.testAccuracy } }
        : {}),
      resumedFromEpoch: result.resumedFromEpoch,
      checkpointKey: result.checkpointKey,
      ...(split ? validationRecord(split.validation, run.patience) : {}),
    },
    ...(result.earlyStopping ? { earlyStopping: result.earlyStopping } : {}),
    ...(problems.length > 0 ? { problems } : {}),
    testAccuracy,
    testImages: data.test.n,
    epochs: result.epochs,
    steps: result.steps,
    trainSeconds: seconds,
    imagesPerSecond: result.imagesPerSecond,
    backend: backend.description,
    commit: gitCommit(),
    createdAt: new Date().toISOString(),
    node: process.version,
    dataChecksums: { ...data.train.checksums, ...data.test.checksums },
  };
  await saveModelFolder(run.out, model, { architecture, record });
  process.stdout.write(
    `${JSON.stringify({ out: run.out, testAccuracy, trainSeconds: seconds, imagesPerSecond: result.imagesPerSecond, backend: backend.name, workers, earlyStopping: result.earlyStopping ?? null }, null, 2)}\n`,
  );
  model.dispose();
}

/**
 * What is wrong with the trained model ({@link trainingProblems}): an error, or with --keep-anyway
 * a warning per problem, printed, and returned for the record.
 */
function checkOutcome(
  run: Run,
  checkpoint: string,
  o: { result: TrainResult; testAccuracy: number; test: { labels: ArrayLike<number>; numClasses: number } },
): string[] {
  const problems = trainingProblems({
    steps: o.result.steps,
    epochs: o.result.epochs,
    keptEpoch: o.result.earlyStopping?.bestEpoch,
    accuracy: o.testAccuracy,
    labels: o.test.labels,
    numClasses: o.test.numClasses,
  });
  if (problems.length > 0 && !run.keepAnyway) {
    throw new Error(
      `refusing to save the model to ${run.out}: ${problems.join('; ')}. Nothing was saved (--keep-anyway saves it all the same); ` +
        `the checkpoint ${checkpoint} is resumed only by a run with these same arguments (--fresh retrains)`,
    );
  }
  for (const p of problems) process.stderr.write(`warning (kept with --keep-anyway): ${p}\n`);
  return problems;
}

/** The record's lines about the validation part of an early-stopped run. */
function validationRecord(validation: { n: number; groups?: ArrayLike<unknown> }, patience: number) {
  return {
    validationImages: validation.n,
    validationTracks: new Set(Array.from(validation.groups ?? [])).size,
    patience,
  };
}

/** The model saved at `dir`, its weight hash and recorded test accuracy (for `--init-from`). */
async function initialWeights(
  dir: string,
): Promise<{ model: LayersModel; modelHash: string; testAccuracy: number | null }> {
  const { model } = await loadModel(resolve(dir));
  const record = dknnMetadata(model)?.record as { testAccuracy?: number } | undefined;
  return { model, modelHash: modelHash(model), testAccuracy: record?.testAccuracy ?? null };
}

/** Copies `from`'s weights into `to` (then disposes `from`); refuses a different architecture, naming both layouts. */
function copyWeights(from: LayersModel, to: LayersModel, dir: string): void {
  const layout = (m: LayersModel) => m.weights.map((w) => `${w.originalName}[${w.shape.join(',')}]`).join(' ');
  if (layout(from) !== layout(to)) {
    throw new Error(`--init-from ${dir}: expected weights ${layout(to)}, found ${layout(from)}`);
  }
  to.setWeights(from.getWeights());
  from.dispose();
}

runCli('train', main);
