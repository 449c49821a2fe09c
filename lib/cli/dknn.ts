#!/usr/bin/env node
/**
 * Runs the DkNN on clean MNIST from the command line (the reference's protocol):
 *   npm run dknn -- [--model PATH] [--train-subset 60000] [--calib 750] [--eval-end 10000] [--k 75]
 *                   [--layers ReLU1,ReLU3,ReLU5,logits] [--formula reference|conformal]
 *                   [--exact-backend auto|js|native] [--batch-size 250] [--cache-dir DIR] [--no-cache]
 *                   [--out reports/dknn-mnist.json]
 * fit on train[0:train-subset], calibrate on test[0:calib], predict test[calib:eval-end]. Shows a
 * progress bar on stderr, prints a summary on stdout and writes a JSON report atomically.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../backend';
import { dataDir, loadMnist, subset } from '../data';
import { DkNN } from '../dknn';
import { MNIST_CNN_DKNN_LAYERS } from '../models/mnist-cnn';
import { accuracy } from '../metrics';
import { loadModel, pretrainedPath } from '../models';
import { gitCommit, repoRoot } from '../artefacts/repo';
import { terminalProgress } from '../progress';
import { writeFileAtomic } from '../artefacts/atomic';

function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length > 0 ? s / values.length : NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      'train-subset': { type: 'string', default: '60000' },
      calib: { type: 'string', default: '750' },
      'eval-end': { type: 'string', default: '10000' },
      k: { type: 'string', default: '75' },
      layers: { type: 'string', default: MNIST_CNN_DKNN_LAYERS.join(',') },
      formula: { type: 'string', default: 'reference' },
      'exact-backend': { type: 'string', default: 'auto' },
      'batch-size': { type: 'string', default: '250' },
      'cache-dir': { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      out: { type: 'string', default: join(repoRoot(), 'reports', 'dknn-mnist.json') },
    },
  });
  const int = (name: keyof typeof values): number => {
    const v = Number(values[name]);
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer, found ${JSON.stringify(values[name])}`);
    return v;
  };
  const formula = values.formula;
  if (formula !== 'reference' && formula !== 'conformal') throw new Error(`--formula must be reference or conformal, found ${JSON.stringify(formula)}`);
  const exactBackend = values['exact-backend'];
  if (exactBackend !== 'auto' && exactBackend !== 'js' && exactBackend !== 'native') {
    throw new Error(`--exact-backend must be auto, js or native, found ${JSON.stringify(exactBackend)}`);
  }
  const modelPath = resolve(values.model ?? pretrainedPath('mnist-cnn', dataDir()));
  if (!existsSync(modelPath)) {
    throw new Error(`no model at ${modelPath}: train one with \`npm run train\` (writes the pretrained weights) or pass --model PATH`);
  }
  const trainN = int('train-subset');
  const calibN = int('calib');
  const evalEnd = int('eval-end');
  const layers = values.layers!.split(',').map((s) => s.trim()).filter((s) => s !== '');

  const backend = await initBackend();
  process.stderr.write(`engine backend: ${backend.description}\n`);
  const mnist = await loadMnist();
  if (trainN < 1 || trainN > mnist.train.n) throw new Error(`--train-subset must be in 1…${mnist.train.n}, found ${trainN}`);
  if (calibN < 1 || calibN >= evalEnd || evalEnd > mnist.test.n) {
    throw new Error(`need 1 ≤ --calib < --eval-end ≤ ${mnist.test.n}, found --calib ${calibN} --eval-end ${evalEnd}`);
  }
  const train = subset(mnist.train, 0, trainN);
  const calib = subset(mnist.test, 0, calibN);
  const evalSet = subset(mnist.test, calibN, evalEnd);
  const saved = await loadModel(modelPath);
  const dknn = new DkNN(saved.model, {
    layers,
    k: int('k'),
    formula,
    exactBackend,
    batchSize: int('batch-size'),
    cacheDir: values['no-cache'] ? false : values['cache-dir'] ?? undefined,
  });
  const onProgress = terminalProgress();
  const t0 = performance.now();
  await dknn.fit(train, { onProgress });
  await dknn.calibrate(calib, { onProgress });
  const out = await dknn.predict(evalSet, { onProgress });
  const seconds = (performance.now() - t0) / 1000;
  const info = dknn.info();

  const summary = {
    evalImages: evalSet.n,
    dnnAccuracy: accuracy(out.dnnPredictions, evalSet.labels),
    dknnAccuracy: accuracy(out.predictions, evalSet.labels),
    meanCredibility: mean(out.credibility),
    meanConfidence: mean(out.confidence),
    meanDnnConfidence: mean(out.dnnConfidence),
    missingNeighbors: out.missingNeighbors,
    formula,
    calibrationSize: info.calibrationSize,
    seconds,
  };
  const report = {
    kind: 'dknn-mnist-clean',
    summary,
    parameters: { model: modelPath, trainSubset: trainN, calib: calibN, evalEnd, k: info.k, layers: info.layers, formula, exactBackend },
    info,
    timings: info.timings,
    model: { path: modelPath, architecture: saved.architecture, record: saved.record },
    provenance: {
      commit: gitCommit(),
      createdAt: new Date().toISOString(),
      node: process.version,
      backend: backend.description,
      dataChecksums: { ...mnist.train.checksums, ...mnist.test.checksums },
    },
    inputs: {
      testIndex: Array.from({ length: evalSet.n }, (_, i) => calibN + i),
      label: Array.from(evalSet.labels),
      prediction: Array.from(out.predictions),
      credibility: Array.from(out.credibility),
      confidence: Array.from(out.confidence),
      dnnPrediction: Array.from(out.dnnPredictions),
      dnnConfidence: Array.from(out.dnnConfidence),
    },
  };
  writeFileAtomic(values.out!, `${JSON.stringify(report)}\n`);
  process.stdout.write(
    [
      `DkNN on MNIST: train ${trainN}, calibration ${calibN} (${info.calibrationSize} after ${formula === 'reference' ? 'trimming zeros' : 'no trimming'}), evaluation test[${calibN}:${evalEnd}] = ${evalSet.n} images`,
      `  layers ${info.layers.join(', ')} (dims ${info.dims.join(', ')}), k ${info.k}, index ${info.index}/${info.indexBackend}, p-values: ${formula} formula`,
      `  DNN accuracy        ${summary.dnnAccuracy.toFixed(4)}   mean softmax confidence ${summary.meanDnnConfidence.toFixed(4)}`,
      `  DkNN accuracy       ${summary.dknnAccuracy.toFixed(4)}   mean credibility ${summary.meanCredibility.toFixed(4)}   mean confidence ${summary.meanConfidence.toFixed(4)}`,
      `  time ${seconds.toFixed(1)} s (${Object.entries(info.timings).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})`,
      `  activation cache: ${info.cache.dir === false ? 'off' : `${info.cache.dir} (hits: ${info.cache.hits.join(', ') || 'none'})`}`,
      `  report: ${values.out}`,
      '',
    ].join('\n'),
  );
  saved.model.dispose();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
