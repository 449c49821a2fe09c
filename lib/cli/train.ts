#!/usr/bin/env node
/**
 * Trains the DkNN MNIST network from the command line:
 *   npm run train -- [--epochs 6] [--batch-size 500] [--lr 0.001] [--seed 1234] [--init-seed 1234]
 *                    [--subset N] [--out DIR] [--force] [--checkpoint PATH] [--fresh] [--workers N]
 * --out: the model folder (tfjs LayersModel); default the committed pretrained model
 * (data/pretrained/mnist-cnn), which is only replaced with --force.
 * --workers: threads computing gradients (data-parallel on worker threads, see TrainArgs.workers);
 * default 2 when os.availableParallelism() ≥ 2 and the backend is single-threaded (wasm, cpu), else 1.
 * Resumes from the checkpoint when one exists (unless --fresh), shows a progress bar on stderr,
 * and saves the weights with a record of how they were made (parameters, commit, backend, data
 * checksums, test accuracy, throughput).
 */
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { existsSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend } from '../backend';
import { dataDir, loadMnist, subset } from '../data';
import { evaluateAccuracy, saveModel, trainModel } from '../models';
import { createModel, pretrainedPath } from '../models/zoo';
import { checkWritableDir } from '../artefacts/atomic';
import { gitCommit, repoRoot } from '../artefacts/repo';
import { capWorkers, parseCount, parseNumber } from './args';
import { terminalProgress } from '../progress';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string', default: '6' },
      'batch-size': { type: 'string', default: '500' },
      lr: { type: 'string', default: '0.001' },
      seed: { type: 'string', default: '1234' },
      'init-seed': { type: 'string', default: '1234' },
      subset: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      checkpoint: { type: 'string', default: join(repoRoot(), '.cache', 'train', 'mnist-cnn.ckpt') },
      fresh: { type: 'boolean', default: false },
      workers: { type: 'string' },
    },
  });
  const epochs = parseCount('epochs', values.epochs);
  const batchSize = parseCount('batch-size', values['batch-size']);
  const learningRate = parseNumber('lr', values.lr);
  if (!(learningRate > 0)) throw new Error(`--lr must be > 0, found ${values.lr}`);
  const seed = parseCount('seed', values.seed);
  const initSeed = parseCount('init-seed', values['init-seed']);
  const subsetN = values.subset === undefined ? undefined : parseCount('subset', values.subset);
  if (subsetN === 0) throw new Error('--subset 0 would train on no image; expected at least 1');
  const pretrained = resolve(pretrainedPath('mnist-cnn', dataDir()));
  const out = resolve(values.out ?? pretrained);
  if (out === pretrained && existsSync(out) && values.out === undefined && !values.force) {
    throw new Error(`would overwrite the committed pretrained model at ${out}; pass --force to replace it, or --out DIR for another folder`);
  }
  checkWritableDir(dirname(out));
  const backend = await initBackend();
  process.stderr.write(`engine backend: ${backend.description}\n`);
  // The native backend is multi-threaded already (and cannot be loaded in worker threads).
  const cores = availableParallelism();
  const capped = capWorkers(values.workers !== undefined ? parseCount('workers', values.workers) : backend.name !== 'tensorflow' && cores >= 2 ? 2 : 1, cores);
  if (capped.message) process.stderr.write(`${capped.message}\n`);
  const workers = capped.workers;
  process.stderr.write(`training threads: ${workers}${workers > 1 ? ' (data-parallel, worker_threads)' : ''}\n`);
  const mnist = await loadMnist();
  if (subsetN !== undefined && subsetN > mnist.train.n) throw new Error(`--subset must be at most ${mnist.train.n}, found ${subsetN}`);
  const train = subsetN !== undefined ? subset(mnist.train, 0, subsetN) : mnist.train;
  const architecture = { name: 'mnist-cnn', args: { seed: initSeed } };
  const model = createModel(architecture);
  if (values.fresh) rmSync(values.checkpoint!, { force: true });
  const t0 = performance.now();
  const result = await trainModel(model, train, {
    epochs,
    batchSize,
    learningRate,
    seed,
    workers,
    architecture,
    checkpointPath: values.checkpoint,
    evalData: mnist.test,
    onProgress: terminalProgress(),
  });
  const seconds = (performance.now() - t0) / 1000;
  const testAccuracy = evaluateAccuracy(model, mnist.test);
  const record = {
    task: 'MNIST, CleverHans DkNN recipe',
    train: { images: train.n, ...result.args, initSeed, resumedFromEpoch: result.resumedFromEpoch },
    testAccuracy,
    testImages: mnist.test.n,
    epochs: result.epochs,
    steps: result.steps,
    trainSeconds: seconds,
    imagesPerSecond: result.imagesPerSecond,
    backend: backend.description,
    commit: gitCommit(),
    createdAt: new Date().toISOString(),
    node: process.version,
    dataChecksums: { ...mnist.train.checksums, ...mnist.test.checksums },
  };
  await saveModel(out, model, { architecture, record });
  process.stdout.write(`${JSON.stringify({ out, testAccuracy, trainSeconds: seconds, imagesPerSecond: result.imagesPerSecond, backend: backend.name, workers }, null, 2)}\n`);
  model.dispose();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
