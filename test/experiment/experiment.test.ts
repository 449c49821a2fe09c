import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { datasetNames, loadDataset, registerDataset } from '../../lib/data/registry';
import { setupExperiment } from '../../lib/experiment/experiment';
import { ExactIndex } from '../../lib/knn/exact/exact';
import { setDknnMetadata } from '../../lib/models/metadata';
import { readResults } from '../../lib/report/results';
import { toyImages } from '../models/helpers';
import { blobs, tinyModel } from '../helpers/tiny';
import type { MatrixShape } from '../../lib/knn/types';

const tmp = mkdtempSync(join(tmpdir(), 'dknn-experiment-'));
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const splits = () => ({ name: 'blobs', train: blobs(60, 1), test: blobs(40, 2) });

test("a user's own dataset and model take the same path: splits, description, fit, predict, results beside the report", async () => {
  const model = tinyModel(3);
  setDknnMetadata(model, { layers: ['flat', 'hidden', 'logits'] });
  const ex = await setupExperiment({
    dataset: splits(),
    model,
    trainSubset: 50,
    calibEnd: 15,
    evalEnd: 35,
    cacheDir: false,
    parameters: { k: 5, quick: true },
  });
  assert.deepEqual([ex.train.n, ex.calib.n, ex.eval.n], [50, 15, 20]);
  assert.equal(ex.eval.labels[0], ex.dataset.test.labels[15], 'evaluation starts after the calibration images');
  const text = ex.describe().text;
  assert.match(
    text,
    /blobs: 50 training images \(kNN database\), 15 calibration \(test 0–14\), 20 evaluation \(test 15–34\); 4×4×1, 3 classes/,
  );
  assert.match(text, /given in the notebook/);
  const dknn = await ex.fitDkNN({ k: 5 });
  assert.deepEqual(dknn.layers, ['flat', 'hidden', 'logits'], 'the layers recorded with the model');
  const pred = await ex.predict(dknn);
  assert.equal(pred.n, 20);
  assert.deepEqual(
    ex.timer.stages.map((s) => s.name),
    ['engine start', 'load data', 'fit (extract + index)', 'calibrate', 'predict'],
  );
  const prev = process.env.DKNN_REPORT_DIR;
  process.env.DKNN_REPORT_DIR = tmp;
  try {
    const shown = ex.finish('99-test', { results: { n: pred.n } });
    assert.match(shown.html, /class="dknn-provenance"/);
    assert.deepEqual(readResults('99-test', { dir: tmp }).results, { n: 20 });
    assert.equal(readResults('99-test', { dir: tmp }).quick, true);
    assert.equal((await ex.predict(dknn)).n, 20, 'finish reports; the experiment stays usable');
    ex.dispose();
    assert.throws(() => ex.model, /this experiment has no model/, 'dispose releases the model');
  } finally {
    if (prev === undefined) delete process.env.DKNN_REPORT_DIR;
    else process.env.DKNN_REPORT_DIR = prev;
  }
  assert.equal(model.layers.length, 3, 'a model passed in is not disposed by the experiment');
  assert.doesNotThrow(() => model.predict(tf.zeros([1, 4, 4, 1])));
  model.dispose();
});

test('bad splits, unknown datasets, missing models are refused with what was expected', async () => {
  await assert.rejects(
    setupExperiment({ dataset: splits(), model: null, calibEnd: 40 }),
    /calibEnd must be an integer in 1…39, found 40/,
  );
  await assert.rejects(
    setupExperiment({ dataset: splits(), model: null, calibEnd: 10, evalEnd: 10 }),
    /evalEnd must be an integer in 11…40, found 10/,
  );
  await assert.rejects(
    setupExperiment({ dataset: splits(), model: null, trainSubset: 0 }),
    /trainSubset must be an integer in 1…60, found 0/,
  );
  await assert.rejects(
    setupExperiment({ dataset: 'nope' }),
    /unknown dataset "nope"; registered: mnist, gtsrb, notmnist/,
  );
  await assert.rejects(setupExperiment({ dataset: 'notmnist' }), /dataset notmnist has no training split/);
  await assert.rejects(
    setupExperiment({ dataset: splits() }),
    /calibEnd \(default 750, the reference's\) must be an integer in 1…39, found 750/,
  );
  await assert.rejects(
    setupExperiment({ dataset: splits(), calibEnd: 10 }),
    /dataset blobs has no pretrained model; pass model/,
  );
  const ex = await setupExperiment({ dataset: splits(), model: null, calibEnd: 10, cacheDir: false });
  assert.throws(() => ex.model, /this experiment has no model: pass model to setupExperiment, or call useModel/);
  assert.match(ex.describe().text, /\*\*Model:\*\* none yet/);
});

test('registered datasets are found by name; names are checked', async () => {
  registerDataset('blobs-test', { description: 'blobs', load: async () => splits() });
  assert.ok(datasetNames().includes('blobs-test'));
  assert.equal((await loadDataset('blobs-test')).train!.n, 60);
  const ex = await setupExperiment({ dataset: 'blobs-test', model: null, calibEnd: 10, cacheDir: false });
  assert.equal(ex.dataset.name, 'blobs');
  assert.throws(
    () => registerDataset('Bad Name', { description: '', load: async () => splits() }),
    /name must be lower-case letters, digits and dashes/,
  );
  assert.throws(() => registerDataset('x', {} as never), /expected an entry with a load\(\) function/);
});

test('trainModel trains a fresh zoo model on the training split, checkpoints it in the cache and uses it', async () => {
  const data = toyImages(40, 1);
  const cacheDir = join(tmp, 'cache');
  const ds = {
    ...data,
    labels: Uint8Array.from(data.labels),
    numClasses: 10,
    name: 'toy',
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    checksums: {},
  };
  const ex = await setupExperiment({
    dataset: { name: 'toy', train: ds, test: { ...ds, n: 40 } },
    model: null,
    calibEnd: 20,
    cacheDir,
  });
  const result = await ex.trainModel(
    { name: 'mnist-cnn', args: { seed: 2, filters: 4 } },
    { epochs: 1, batchSize: 20 },
  );
  assert.equal(result.epochs.length, 1);
  assert.equal(ex.modelInfo!.architecture!.name, 'mnist-cnn');
  assert.equal((ex.modelInfo!.record.epochs as unknown[]).length, 1);
  assert.deepEqual(
    readdirSync(join(cacheDir, 'checkpoints')).length,
    1,
    'one checkpoint, keyed by architecture, arguments and images',
  );
  const again = await ex.trainModel({ name: 'mnist-cnn', args: { seed: 2, filters: 4 } }, { epochs: 1, batchSize: 20 });
  assert.equal(again.resumedFromEpoch, 1, 'a re-run resumes from the checkpoint');
  ex.dispose();
  assert.ok(existsSync(cacheDir));
});

test('releaseTrainingImages: the images are freed once the fit has their activations, before any index is built; ex.train then says why it fails', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const sums = { 'blobs/train': 'a'.repeat(64), 'blobs/test': 'b'.repeat(64) };
  registerDataset('blobs-release', {
    description: 'blobs, loaded afresh each time (no loader memo)',
    load: async () => ({
      name: 'blobs-release',
      train: { ...blobs(60, 1), checksums: { 'blobs/train': sums['blobs/train'] } },
      test: { ...blobs(40, 2), checksums: { 'blobs/test': sums['blobs/test'] } },
    }),
  });
  const model = tinyModel(5);
  for (const release of [false, true]) {
    const ex = await setupExperiment({ dataset: 'blobs-release', model, calibEnd: 15, evalEnd: 35, cacheDir: false });
    let freed = false;
    const registry = new FinalizationRegistry(() => (freed = true));
    registry.register(ex.train.images.buffer, 'training images');
    const atBuild: boolean[] = [];
    class Probe extends ExactIndex {
      override async build(data: Float32Array, shape: MatrixShape): Promise<void> {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 20)); // the registry's callback runs in a later task
        atBuild.push(freed);
        return super.build(data, shape);
      }
    }
    const dknn = await ex.fitDkNN({
      layers: ['hidden', 'logits'],
      k: 5,
      index: { name: 'probe', create: () => new Probe({ backend: 'js' }) },
      releaseTrainingImages: release,
    });
    assert.deepEqual(atBuild, [release, release], `freed before each index build: ${release}`);
    assert.equal(ex.trainN, 60);
    if (release) {
      assert.throws(
        () => ex.train,
        /ex\.train: the 60 training images were released \(releaseTrainingImages\); set up a new experiment to use them again/,
      );
      assert.equal(ex.dataset.train, undefined);
    } else assert.equal(ex.train.n, 60);
    assert.deepEqual(ex.provenance().dataChecksums, sums, 'the checksums stay in the provenance');
    assert.match(ex.describe().text, /blobs-release: 60 training images/);
    assert.equal((await ex.predict(dknn)).n, 20);
  }
  model.dispose();
});
