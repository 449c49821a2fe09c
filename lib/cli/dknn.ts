#!/usr/bin/env node
/**
 * Runs the DkNN on MNIST from the command line with the reference's protocol; the options are in
 * USAGE below (`npm run dknn -- --help`). With --attack, the inputs are adversarial versions crafted
 * on the DNN (the first --attack-images of them; cached like the notebooks' sets). Shows a progress
 * bar on stderr, prints a summary on stdout and writes a JSON report atomically. Every option is
 * checked before any work: ranges, --workers capped by the cores, and --out (a file, not a folder,
 * in a writable folder with room for the report). Errors print their message alone (see runCli).
 */
import { existsSync, statfsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { checkWritableDir, writeFileAtomic } from '../artifacts/atomic';
import { repoRoot } from '../artifacts/repo';
import { setupExperiment, type Experiment } from '../experiment/experiment';
import type { PValueFormula } from '../conformal/calibrator';
import type { ExactBackend } from '../knn/exact/options';
import type { AdversarialSet } from '../attacks/craft';
import type { LabeledImages } from '../data/types';
import type { DkNN } from '../dknn/dknn';
import type { DkNNPrediction } from '../dknn/types';
import { capWorkers, parseCli, parseCount, parseNumber, runCli } from './args';
import { subset } from '../data/split';
import { bimAttack, cwL2Attack, fgsmAttack, type Attack } from '../attacks/attack';
import { GRADIENT_SEMANTICS, type GradientSemantics } from '../attacks/utils';
import { MNIST_CNN_DKNN_LAYERS } from '../models/mnist-cnn';
import { perInputColumns, summarizePrediction } from '../analysis/summary';

const USAGE = `
Usage: npm run dknn -- [options]
The DkNN on MNIST with the reference's protocol: fit on train[0:train-subset], calibrate on
test[0:calib], predict test[calib:eval-end] (or their adversarial versions with --attack).
  --model PATH                 model folder (default: the committed MNIST CNN)
  --train-subset N             training images in the kNN database (60000)
  --calib N                    calibration images, test[0:N] (750)
  --eval-end N                 evaluation ends at test[N] (10000)
  --k N                        neighbors per layer (75)
  --layers A,B,...             layers read (ReLU1,ReLU3,ReLU5,logits)
  --formula reference|conformal  p-value formula (reference)
  --exact-backend auto|js|native   exact search engine (auto)
  --exact-projection auto|off|RANK projection first pass of the exact search (auto)
  --workers auto|N             extraction threads, this one included (auto: all cores for
                               the fit's 60,000 images, one for the chunks of calibrate/predict);
                               at most the machine's cores
  --batch-size N               images per forward pass (250)
  --cache-dir DIR | --no-cache activation and adversarial cache (default .cache/)
  --out FILE                   per-input JSON report (reports/dknn-mnist.json)
  --attack fgsm|bim|cw         adversarial inputs crafted on the DNN
  --gradient reference|exact   gradient semantics of FGSM/BIM (reference)
  --eps E --eps-iter E --nb-iter N   FGSM/BIM (0.25, 0.05, 10)
  --attack-images N            first N evaluation images only (with --attack)
  --cw-max-iterations N --cw-binary-search-steps N --cw-learning-rate L --cw-initial-const C
  -h, --help                   this text
`;

/** The attack the flags ask for, or null (clean inputs). */
function attackFromArgs(values: Record<string, string | boolean | undefined>): Attack | null {
  const name = values.attack as string | undefined;
  if (name === undefined) return null;
  const gradient = values.gradient as GradientSemantics;
  if (!GRADIENT_SEMANTICS.includes(gradient))
    throw new Error(`--gradient must be ${GRADIENT_SEMANTICS.join(' or ')}, found ${JSON.stringify(gradient)}`);
  const eps = parseNumber('eps', values.eps as string);
  if (name === 'fgsm') return fgsmAttack({ eps, gradient });
  if (name === 'bim')
    return bimAttack({
      eps,
      epsIter: parseNumber('eps-iter', values['eps-iter'] as string),
      nbIter: parseCount('nb-iter', values['nb-iter'] as string, { min: 1 }),
      gradient,
    });
  if (name === 'cw') {
    return cwL2Attack({
      maxIterations: parseCount('cw-max-iterations', values['cw-max-iterations'] as string, { min: 1 }),
      binarySearchSteps: parseCount('cw-binary-search-steps', values['cw-binary-search-steps'] as string, { min: 1 }),
      learningRate: parseNumber('cw-learning-rate', values['cw-learning-rate'] as string),
      initialConst: parseNumber('cw-initial-const', values['cw-initial-const'] as string),
    });
  }
  throw new Error(`--attack must be fgsm, bim or cw, found ${JSON.stringify(name)}`);
}

/** MNIST's splits (the data loader checks them against SHA256SUMS): the bounds of the run's sizes. */
const MNIST = { train: 60000, test: 10000 };

/** The CLI's options (parseArgs spec, defaults the USAGE names). */
const OPTIONS = {
  model: { type: 'string' },
  'train-subset': { type: 'string', default: String(MNIST.train) },
  calib: { type: 'string', default: '750' },
  'eval-end': { type: 'string', default: String(MNIST.test) },
  k: { type: 'string', default: '75' },
  layers: { type: 'string', default: MNIST_CNN_DKNN_LAYERS.join(',') },
  formula: { type: 'string', default: 'reference' },
  'exact-backend': { type: 'string', default: 'auto' },
  'exact-projection': { type: 'string', default: 'auto' },
  workers: { type: 'string', default: 'auto' },
  'batch-size': { type: 'string', default: '250' },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean', default: false },
  out: { type: 'string', default: join(repoRoot(), 'reports', 'dknn-mnist.json') },
  attack: { type: 'string' },
  gradient: { type: 'string', default: 'reference' },
  eps: { type: 'string', default: '0.25' },
  'eps-iter': { type: 'string', default: '0.05' },
  'nb-iter': { type: 'string', default: '10' },
  'attack-images': { type: 'string' },
  'cw-max-iterations': { type: 'string', default: '100' },
  'cw-binary-search-steps': { type: 'string', default: '5' },
  'cw-learning-rate': { type: 'string', default: '0.1' },
  'cw-initial-const': { type: 'string', default: '0.01' },
} as const;

/** The run the flags ask for. */
interface Run {
  attack: Attack | null;
  formula: PValueFormula;
  exactBackend: 'auto' | ExactBackend;
  exactProjection: 'auto' | false | number;
  workers: 'auto' | number;
  layers: string[];
  out: string;
  calibEnd: number;
  k: number;
  batchSize: number;
  trainSubset: number;
  evalEnd: number;
  attackImages: number | undefined;
  model: string;
  cacheDir: string | false | undefined;
}

/** The sizes and counts the flags ask for, each in its range. */
function countsFromArgs(values: Record<string, string | boolean | undefined>) {
  const trainSubset = parseCount('train-subset', values['train-subset'] as string, { min: 1, max: MNIST.train });
  const calibEnd = parseCount('calib', values.calib as string, { min: 1, max: MNIST.test - 1 });
  const evalEnd = parseCount('eval-end', values['eval-end'] as string, { min: 1, max: MNIST.test });
  if (evalEnd <= calibEnd)
    throw new Error(
      `--eval-end must be greater than --calib ${calibEnd} (the evaluation is test[calib:eval-end]), found ${evalEnd}`,
    );
  const k = parseCount('k', values.k as string, { min: 1 });
  if (k >= trainSubset)
    throw new Error(
      `--k ${k} needs more than k training images in the kNN database, found --train-subset ${trainSubset}`,
    );
  const raw = values['attack-images'] as string | undefined;
  const attackImages = raw === undefined ? undefined : parseCount('attack-images', raw, { min: 1 });
  if (attackImages !== undefined && values.attack === undefined)
    throw new Error(
      '--attack-images needs --attack fgsm, bim or cw (without an attack every evaluation image is used)',
    );
  const batchSize = parseCount('batch-size', values['batch-size'] as string, { min: 1 });
  return { trainSubset, calibEnd, evalEnd, k, attackImages, batchSize };
}

/** Room the report needs at least: its fixed part and a few numbers per input (measured: ~45 bytes each). */
const REPORT_MIN_BYTES = { fixed: 64 * 1024, perInput: 64 };

/**
 * The report's path, checked before any work: a file, not a folder, in a folder that can be
 * written (created if missing) and has room for the report. @throws naming the path.
 */
function outFromArgs(raw: string, inputs: number): string {
  const out = resolve(raw);
  if (/[/\\]$/.test(raw) || (existsSync(out) && statSync(out).isDirectory()))
    throw new Error(`--out ${raw} is a folder; expected the report's file path, e.g. ${join(out, 'dknn-mnist.json')}`);
  const dir = dirname(out);
  checkWritableDir(dir);
  const need = REPORT_MIN_BYTES.fixed + REPORT_MIN_BYTES.perInput * inputs;
  const { bavail, bsize } = statfsSync(dir);
  if (bavail * bsize < need) {
    const kib = (b: number) => `${Math.floor(b / 1024)} KiB`;
    throw new Error(
      `cannot write the report ${out}: ${kib(bavail * bsize)} free in ${dir}, it needs at least ${kib(need)}`,
    );
  }
  return out;
}

/** The extraction threads the flags ask for: auto, or a count capped by the cores (with the message to print). */
function workersFromArgs(raw: string): { workers: 'auto' | number; message: string | null } {
  if (raw === 'auto') return { workers: 'auto', message: null };
  return capWorkers(parseCount('workers (auto or a count)', raw, { min: 1 }), availableParallelism());
}

/** The run the flags ask for, every value checked before any work. */
function runFromArgs(values: Record<string, string | boolean | undefined>): Run & { workersMessage: string | null } {
  const attack = attackFromArgs(values);
  const counts = countsFromArgs(values);
  const formula = values.formula as PValueFormula;
  if (formula !== 'reference' && formula !== 'conformal')
    throw new Error(`--formula must be reference or conformal, found ${JSON.stringify(formula)}`);
  const exactBackend = values['exact-backend'] as Run['exactBackend'];
  if (exactBackend !== 'auto' && exactBackend !== 'js' && exactBackend !== 'native') {
    throw new Error(`--exact-backend must be auto, js or native, found ${JSON.stringify(exactBackend)}`);
  }
  const proj = values['exact-projection'] as string;
  const exactProjection =
    proj === 'auto'
      ? 'auto'
      : proj === 'off'
        ? false
        : parseCount('exact-projection (auto, off or a rank)', proj, { min: 1 });
  const workers = workersFromArgs(values.workers as string);
  const layers = (values.layers as string).split(',').map((s) => s.trim());
  if (layers.some((l) => l === ''))
    throw new Error(`--layers must be a comma-separated list of layer names, found ${JSON.stringify(values.layers)}`);
  const inputs = Math.min(counts.evalEnd - counts.calibEnd, counts.attackImages ?? Infinity);
  return {
    ...counts,
    attack,
    formula,
    exactBackend,
    exactProjection,
    workers: workers.workers,
    workersMessage: workers.message,
    layers,
    out: outFromArgs(values.out as string, inputs),
    model: values.model ? resolve(values.model as string) : 'pretrained',
    cacheDir: values['no-cache'] ? (false as const) : ((values['cache-dir'] as string | undefined) ?? undefined),
  };
}

/** The per-input JSON report of a run. */
function reportOf(
  run: Run,
  ex: Experiment,
  dknn: DkNN,
  result: { inputs: LabeledImages; pred: DkNNPrediction; adversarial: AdversarialSet | null; seconds: number },
) {
  const { inputs, pred, adversarial, seconds } = result;
  const info = dknn.info();
  const summary = { ...summarizePrediction(pred, inputs.labels), calibrationSize: info.calibrationSize, seconds };
  const cols = perInputColumns(pred, inputs.labels, { index: run.calibEnd });
  const { k, layers } = info;
  const { formula, exactBackend, exactProjection, workers, calibEnd } = run;
  return {
    kind: run.attack ? 'dknn-mnist-adversarial' : 'dknn-mnist-clean',
    attack: adversarial
      ? {
          ...adversarial.attack,
          seconds: adversarial.seconds,
          cached: adversarial.cached,
          imagesPerSecond: adversarial.n / adversarial.seconds,
        }
      : null,
    summary,
    parameters: {
      model: ex.modelInfo!.path,
      trainSubset: ex.trainN,
      calib: calibEnd,
      evalEnd: calibEnd + ex.eval.n,
      k,
      layers,
      formula,
      exactBackend,
      exactProjection,
      workers,
    },
    info,
    timings: info.timings,
    model: { path: ex.modelInfo!.path, architecture: ex.modelInfo!.architecture, record: ex.modelInfo!.record },
    provenance: ex.provenance(),
    inputs: {
      testIndex: Array.from(cols.inputIndex as Int32Array),
      label: Array.from(inputs.labels),
      prediction: Array.from(pred.predictions),
      credibility: Array.from(pred.credibility),
      confidence: Array.from(pred.confidence),
      dnnPrediction: Array.from(pred.dnnPredictions),
      dnnConfidence: Array.from(pred.dnnConfidence),
    },
  };
}

/** The summary printed on stdout. */
function summaryText(
  run: Run,
  ex: Experiment,
  report: ReturnType<typeof reportOf>,
  inputs: LabeledImages,
  adversarial: AdversarialSet | null,
): string {
  const { info, summary } = report;
  const { calibEnd, formula } = run;
  return [
    `DkNN on MNIST: train ${ex.trainN}, calibration ${calibEnd} (${info.calibrationSize} after ${formula === 'reference' ? 'trimming zeros' : 'no trimming'}), evaluation test[${calibEnd}:${calibEnd + inputs.n}] = ${inputs.n} images${adversarial ? `, adversarial: ${adversarial.attack.label} (${adversarial.cached ? 'cached, ' : ''}crafted at ${(adversarial.n / adversarial.seconds).toFixed(1)} img/s)` : ''}`,
    `  layers ${info.layers.join(', ')} (dims ${info.dims.join(', ')}), k ${info.k}, index ${info.index}/${info.indexBackend}, p-values: ${formula} formula`,
    `  DNN accuracy        ${summary.dnnAccuracy.toFixed(4)}   mean softmax confidence ${summary.meanDnnConfidence.toFixed(4)}`,
    `  DkNN accuracy       ${summary.dknnAccuracy.toFixed(4)}   mean credibility ${summary.meanCredibility.toFixed(4)}   mean confidence ${summary.meanConfidence.toFixed(4)}`,
    `  time ${summary.seconds.toFixed(1)} s (${(['fit', 'calibrate', 'predict'] as const)
      .map((stage) => `${stage} ${info.timings[stage].total.toFixed(2)}`)
      .join(', ')}; kNN queries ${(info.timings.calibrate.query + info.timings.predict.query).toFixed(2)})`,
    `  activation cache: ${info.cache.dir === false ? 'off' : `${info.cache.dir} (hits: ${info.cache.hits.join(', ') || 'none'})`}`,
    `  report: ${run.out}`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseCli(OPTIONS, USAGE);
  const run = runFromArgs(values);
  if (run.workersMessage) process.stderr.write(`${run.workersMessage}\n`);
  const ex = await setupExperiment({
    dataset: 'mnist',
    model: run.model,
    trainSubset: run.trainSubset,
    calibEnd: run.calibEnd,
    evalEnd: run.evalEnd,
    progress: 'terminal',
    cacheDir: run.cacheDir,
  });
  process.stderr.write(`engine backend: ${ex.backend.description}\n`);
  const t0 = performance.now();
  // The DkNN keeps the training activations, never the pixels: nothing here needs them after the fit.
  const dknn = await ex.fitDkNN({
    layers: run.layers,
    k: run.k,
    formula: run.formula,
    exactBackend: run.exactBackend,
    exactProjection: run.exactProjection,
    workers: run.workers,
    batchSize: run.batchSize,
    releaseTrainingImages: true,
  });
  const inputs = run.attack ? subset(ex.eval, { end: Math.min(ex.eval.n, run.attackImages ?? ex.eval.n) }) : ex.eval;
  const adversarial = run.attack ? await ex.craft(run.attack, inputs) : null;
  const pred = await ex.predict(dknn, { data: adversarial ?? inputs });
  const report = reportOf(run, ex, dknn, { inputs, pred, adversarial, seconds: (performance.now() - t0) / 1000 });
  try {
    writeFileAtomic(run.out, `${JSON.stringify(report)}\n`);
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes(run.out)) throw err;
    throw new Error(`cannot write the report ${run.out}: ${message}`, { cause: err });
  }
  process.stdout.write(summaryText(run, ex, report, inputs, adversarial));
  ex.dispose();
}

runCli('dknn', main);
