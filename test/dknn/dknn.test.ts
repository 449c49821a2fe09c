import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { readContainer } from '../../lib/artifacts/container';
import { dataDir, loadMnist } from '../../lib/data/datasets';
import { subset } from '../../lib/data/split';
import { DkNN } from '../../lib/dknn/dknn';
import type { NeighborIndexFactory } from '../../lib/knn/types';
import { ExactIndex } from '../../lib/knn/exact/exact';
import type { NeighborIndex } from '../../lib/knn/types';
import { accuracy } from '../../lib/metrics/classification';
import { createMnistCnn } from '../../lib/models/mnist-cnn';
import { trainModel } from '../../lib/training/train';
import { loadModel } from '../../lib/models/format';
import { pretrainedPath } from '../../lib/models/zoo';
import { blobs, tinyModel } from '../helpers/tiny';
import { argmaxRows, predictLogits } from '../../lib/models/predict';

const tmp = mkdtempSync(join(tmpdir(), 'dknn-dknn-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});

const LAYERS = ['flat', 'hidden', 'logits'];

/** Warnings of the DkNNs made with {@link options} (small calibration sets warn about their resolution). */
const warned: string[] = [];

function options(extra: Record<string, unknown> = {}) {
  return { layers: LAYERS, k: 5, cacheDir: false as const, onWarning: (m: string) => warned.push(m), ...extra };
}

test('methods must be called in order: fit, calibrate, predict', async () => {
  const model = tinyModel(1);
  const dknn = new DkNN(model, options());
  await assert.rejects(dknn.calibrate(blobs(10, 2)), { message: 'call fit before calibrate' });
  await assert.rejects(dknn.predict(blobs(10, 2)), { message: 'call calibrate before predict' });
  await dknn.fit(blobs(40, 1));
  assert.equal(dknn.fitted, true);
  await assert.rejects(dknn.predict(blobs(10, 2)), { message: 'call calibrate before predict' });
  await dknn.calibrate(blobs(30, 2));
  const out = await dknn.predict(blobs(10, 3));
  assert.equal(out.n, 10);
  // Fitting again drops the calibration.
  await dknn.fit(blobs(40, 4));
  assert.equal(dknn.calibrated, false);
  await assert.rejects(dknn.predict(blobs(10, 2)), { message: 'call calibrate before predict' });
  model.dispose();
});

test('bad options and data are refused with what was expected and found', async () => {
  const model = tinyModel(1);
  assert.throws(
    () => new DkNN(model, options({ layers: ['flat', 'ReLU1'] })),
    /DkNN: unknown layer "ReLU1"; the model's layers are flat, hidden, logits/,
  );
  assert.throws(() => new DkNN(model, options({ k: 0 })), /k must be a positive integer, found 0/);
  assert.throws(
    () => new DkNN(model, options({ formula: 'textbook' })),
    /formula: expected 'reference' or 'conformal', found textbook/,
  );
  assert.throws(() => new DkNN(model, options({ index: 'lsh' })), /index: expected 'exact' or a factory/);
  assert.throws(
    () => new DkNN(model),
    /DkNN: pass layers \(the model records no DkNN layers\); its layers are flat, hidden, logits/,
  );
  assert.throws(
    () => new DkNN(model, options({ layers: 'hidden' as unknown as string[] })),
    /layers must be an array of layer names, found "hidden"/,
  );
  const dknn = new DkNN(model, options());
  const train = blobs(20, 1);
  await assert.rejects(
    dknn.fit({ ...train, labels: train.labels.subarray(0, 19) }),
    /fit: expected 20 labels \(one per image\), found 19/,
  );
  await assert.rejects(
    dknn.fit({ ...train, labels: Uint8Array.from(train.labels, (l, i) => (i === 3 ? 3 : l)) }),
    /fit: labels\[3\] is 3, expected an integer in 0…2/,
  );
  await assert.rejects(
    dknn.fit(blobs(5, 1)),
    /fit: k = 5 neighbors per layer needs more training points than k \(every point would be a neighbor of every input\); the training set has 5/,
  );
  await assert.rejects(dknn.fit({ ...train, n: 21 }), /fit: expected 21×4×4×1 = 336 pixel values, found 320/);
  await dknn.fit(train);
  const calib = blobs(10, 2);
  await assert.rejects(
    dknn.calibrate({ ...calib, labels: calib.labels.subarray(0, 9) }),
    /calibrate: expected 10 labels \(one per image\), found 9/,
  );
  model.dispose();
});

test('p-values, credibility and confidence follow from the returned nonconformity and the calibration scores', async () => {
  const model = tinyModel(2);
  for (const formula of ['reference', 'conformal'] as const) {
    const dknn = new DkNN(model, options({ formula }));
    await dknn.fit(blobs(60, 1));
    await dknn.calibrate(blobs(40, 2));
    const x = blobs(25, 3);
    const out = await dknn.predict(x);
    const A = Array.from(dknn.calibrationScores);
    assert.equal(A.length, 40);
    const kept = formula === 'reference' ? A.filter((a) => a !== 0) : A;
    if (formula === 'reference')
      assert.ok(kept.length > 0 && kept.length < 40, `some zeros trimmed, some scores kept: ${kept.length}`);
    assert.equal(dknn.info().calibrationSize, kept.length);
    assert.equal(out.formula, formula);
    const C = 3;
    const slots = LAYERS.length * 5;
    for (let i = 0; i < x.n; i++) {
      const p: number[] = [];
      for (let j = 0; j < C; j++) {
        const alpha = out.nonconformity[i * C + j];
        assert.ok(alpha >= 0 && alpha <= slots);
        assert.equal(alpha, slots - out.knnCounts[i * C + j], 'α = Σk − votes for j');
        const atLeast = kept.filter((a) => a >= alpha).length;
        const want = formula === 'reference' ? atLeast / kept.length : (atLeast + 1) / (kept.length + 1);
        assert.equal(out.pValues[i * C + j], want, `p_${j}(x_${i})`);
        p.push(want);
      }
      const best = p.indexOf(Math.max(...p));
      assert.equal(out.predictions[i], best);
      assert.ok(out.predictions[i] >= 0 && out.predictions[i] < C);
      assert.equal(out.credibility[i], p[best]);
      const second = [...p].sort((a, b) => b - a)[1];
      assert.equal(out.confidence[i], 1 - second);
    }
  }
  model.dispose();
});

test('neighbors, DNN predictions and info are returned with their documented shapes', async () => {
  const model = tinyModel(3);
  const dknn = new DkNN(model, options({ exactBackend: 'js', batchSize: 20 }));
  const train = blobs(50, 1);
  const events: string[] = [];
  const onProgress = (e: { stage: string; done: number; total: number; unit?: string }) =>
    events.push(`${e.stage} ${e.done}/${e.total} ${e.unit}`);
  await dknn.fit(train, { onProgress });
  await dknn.calibrate(blobs(20, 2), { onProgress });
  const x = blobs(12, 3);
  const out = await dknn.predict(x, { onProgress });
  assert.deepEqual(events, [
    'fit: extract flat+hidden+logits 20/50 img',
    'fit: extract flat+hidden+logits 40/50 img',
    'fit: extract flat+hidden+logits 50/50 img',
    'fit: preprocess + index 1/3 layer',
    'fit: preprocess + index 2/3 layer',
    'fit: preprocess + index 3/3 layer',
    'calibrate 20/20 img',
    'predict 12/12 img',
  ]);
  assert.deepEqual(
    out.neighbors.map((nb) => [nb.layer, nb.rows, nb.k, nb.indices.length, nb.distances.length]),
    [
      ['flat', 12, 5, 60, 60],
      ['hidden', 12, 5, 60, 60],
      ['logits', 12, 5, 60, 60],
    ],
  );
  for (const nb of out.neighbors) {
    for (let i = 0; i < 12; i++) {
      for (let s = 0; s < 5; s++) {
        assert.ok(nb.indices[i * 5 + s] >= 0 && nb.indices[i * 5 + s] < 50);
        if (s > 0) assert.ok(nb.distances[i * 5 + s] >= nb.distances[i * 5 + s - 1], 'nearest first');
      }
    }
  }
  assert.equal(out.missingNeighbors, 0);
  const logits = predictLogits(model, x);
  assert.deepEqual(out.dnnPredictions, argmaxRows(logits, 3));
  for (let i = 0; i < 12; i++) {
    const row = Array.from(logits.subarray(i * 3, i * 3 + 3));
    const z = row.reduce((s, v) => s + Math.exp(v), 0);
    assert.ok(Math.abs(out.dnnConfidence[i] - Math.max(...row.map((v) => Math.exp(v) / z))) < 1e-6);
  }
  const info = dknn.info();
  assert.equal(info.warnings.length, 1, 'calibrated on 20 points: the resolution warning');
  assert.deepEqual(
    { ...info, timings: undefined, modelHash: undefined, warnings: undefined },
    {
      layers: LAYERS,
      dims: [16, 8, 3],
      k: 5,
      index: 'exact',
      indexBackend: 'js',
      formula: 'reference',
      missing: 'disagree',
      indexParameters: { name: 'exact', backend: 'js', projection: 'auto' },
      indexLayers: LAYERS.map(() => ({ name: 'exact', backend: 'js' })),
      numClasses: 3,
      calibrationN: 20,
      calibrationSize: info.calibrationSize,
      trainN: 50,
      cache: { dir: false, hits: [], written: [] },
      timings: undefined,
      modelHash: undefined,
      warnings: undefined,
    },
  );
  assert.match(info.modelHash!, /^[0-9a-f]{64}$/);
  const t = info.timings;
  const ran = {
    'fit.total': t.fit.total,
    'fit.extract': t.fit.extract,
    'fit.index': t.fit.index,
    'calibrate.total': t.calibrate.total,
    'calibrate.query': t.calibrate.query,
    'predict.total': t.predict.total,
    'predict.query': t.predict.query,
    'predict.extract': t.predict.extract,
  };
  for (const [stage, seconds] of Object.entries(ran)) assert.ok(seconds > 0, `timing ${stage}: ${seconds}`);
  assert.ok(t.fit.total >= t.fit.extract + t.fit.index, 'the fit total covers its parts');
  model.dispose();
});

test('the same model and inputs give identical predictions and p-values on a rerun (also chunked)', async () => {
  const run = async (queryChunk: number, batchSize: number) => {
    const model = tinyModel(4);
    const dknn = new DkNN(model, options({ queryChunk, batchSize }));
    await dknn.fit(blobs(80, 1));
    await dknn.calibrate(blobs(30, 2));
    const out = await dknn.predict(blobs(33, 3));
    model.dispose();
    return out;
  };
  const a = await run(1000, 250);
  const b = await run(7, 4);
  assert.deepEqual(b.predictions, a.predictions);
  assert.deepEqual(b.pValues, a.pValues);
  assert.deepEqual(b.nonconformity, a.nonconformity);
  b.neighbors.forEach((nb, l) => assert.deepEqual(nb.indices, a.neighbors[l].indices));
  assert.deepEqual(b.dnnPredictions, a.dnnPredictions);
});

test('training activations are cached under a key and re-used only when it matches', async () => {
  const cacheDir = join(tmp, 'cache');
  const train = blobs(60, 1);
  const calib = blobs(20, 2);
  const x = blobs(15, 3);
  const model = tinyModel(5);
  const first = new DkNN(model, options({ cacheDir }));
  await first.fit(train);
  assert.deepEqual(first.info().cache, { dir: cacheDir, hits: [], written: LAYERS });
  const files = readdirSync(join(cacheDir, 'activations')).filter((f) => f.endsWith('.bin'));
  assert.equal(files.length, 3, 'one file per layer');
  const meta = readContainer(join(cacheDir, 'activations', files[0])).meta as {
    parts: Record<string, unknown>;
    dataset: string;
  };
  assert.equal(meta.parts.modelHash, first.info().modelHash);
  assert.equal(meta.parts.n, 60);
  assert.equal(meta.dataset, 'blobs-1');
  await first.calibrate(calib);
  const a = await first.predict(x);

  const second = new DkNN(model, options({ cacheDir }));
  await second.fit(train);
  assert.deepEqual(
    second.info().cache,
    { dir: cacheDir, hits: LAYERS, written: [] },
    'same model, same images: all hits',
  );
  assert.equal(second.info().timings.fit.extract, 0, 'the model did not run');
  await second.calibrate(calib);
  const b = await second.predict(x);
  assert.deepEqual(b.pValues, a.pValues);
  b.neighbors.forEach((nb, l) => assert.deepEqual(nb.indices, a.neighbors[l].indices));

  const other = tinyModel(6);
  const third = new DkNN(other, options({ cacheDir }));
  await third.fit(train);
  assert.deepEqual(third.info().cache.hits, [], 'another model hash: no reuse');
  assert.notEqual(third.info().modelHash, first.info().modelHash);
  const fourth = new DkNN(model, options({ cacheDir, layers: ['hidden'] }));
  await fourth.fit(blobs(60, 7));
  assert.deepEqual(fourth.info().cache.hits, [], 'other images: no reuse');
  await fourth.fit(train);
  assert.deepEqual(fourth.info().cache.hits, ['hidden'], 'a subset of the layers is found');
  assert.ok(existsSync(join(cacheDir, 'activations')));
  model.dispose();
  other.dispose();
});

test('a model changed after fit is refused until fit runs again', async () => {
  const model = tinyModel(7);
  const dknn = new DkNN(model, options());
  await dknn.fit(blobs(30, 1));
  const w = model.getLayer('logits').getWeights();
  model.getLayer('logits').setWeights(w.map((t) => tf.tidy(() => t.add(0.5))));
  await assert.rejects(dknn.calibrate(blobs(10, 2)), /the model's weights changed since fit .*; call fit again/);
  await dknn.fit(blobs(30, 1));
  await dknn.calibrate(blobs(10, 2));
  model.dispose();
});

test('all-zero calibration scores are refused by the reference formula and accepted by the conformal one', async () => {
  const model = tinyModel(8);
  const clean = (n: number, seed: number) => blobs(n, seed, 0); // every image of a class identical
  const ref = new DkNN(model, options());
  await ref.fit(clean(30, 1));
  await assert.rejects(
    ref.calibrate(clean(9, 2)),
    /every one of the 9 calibration scores is 0 .*use formula 'conformal'/,
  );
  const conf = new DkNN(model, options({ formula: 'conformal' }));
  await conf.fit(clean(30, 1));
  await conf.calibrate(clean(9, 2));
  const out = await conf.predict(clean(6, 3));
  const x = clean(6, 3);
  for (let i = 0; i < 6; i++) {
    assert.equal(out.predictions[i], x.labels[i]);
    assert.equal(out.credibility[i], 1);
    assert.equal(out.confidence[i], 1 - 1 / 10);
  }
  model.dispose();
});

test('a custom index factory is used, and its missing neighbors are counted and vote for no class', async () => {
  /** Exact search that loses the last neighbor of every query. */
  const dropLast: NeighborIndexFactory = {
    name: 'drop-last',
    create(): NeighborIndex {
      const inner = new ExactIndex({ backend: 'js' });
      return {
        get size() {
          return inner.size;
        },
        get dim() {
          return inner.dim;
        },
        build: (data, shape) => inner.build(data, shape),
        async query(q, o) {
          const { rows, k } = o;
          const r = await inner.query(q, o);
          for (let i = 0; i < rows; i++) {
            r.indices[i * k + k - 1] = -1;
            r.distances[i * k + k - 1] = Infinity;
          }
          return r;
        },
      };
    },
  };
  const model = tinyModel(9);
  const dknn = new DkNN(model, options({ index: dropLast, formula: 'conformal' }));
  await dknn.fit(blobs(40, 1));
  await dknn.calibrate(blobs(20, 2));
  const out = await dknn.predict(blobs(8, 3));
  assert.equal(dknn.info().index, 'drop-last');
  assert.equal(dknn.info().indexBackend, null);
  assert.equal(out.missingNeighbors, 8 * 3);
  for (let i = 0; i < 8; i++) {
    let votes = 0;
    for (let j = 0; j < 3; j++) {
      votes += out.knnCounts[i * 3 + j];
      assert.equal(
        out.nonconformity[i * 3 + j],
        15 - out.knnCounts[i * 3 + j],
        "'disagree': a missing slot adds 1 to every α",
      );
    }
    assert.equal(votes, 12);
  }
  model.dispose();
});

test('no tensor outlives fit, calibrate or predict', async () => {
  const model = tinyModel(10);
  const before = tf.memory().numTensors;
  const dknn = new DkNN(model, options({ batchSize: 7, queryChunk: 9 }));
  await dknn.fit(blobs(40, 1));
  await dknn.calibrate(blobs(20, 2));
  await dknn.predict(blobs(20, 3));
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('on real MNIST (2,000 training images) the DkNN is accurate', async () => {
  const mnist = await loadMnist();
  const train = subset(mnist.train, { end: 2000 });
  const pretrained = pretrainedPath('mnist-cnn', dataDir());
  let model: tf.LayersModel;
  let source: string;
  if (existsSync(pretrained)) {
    model = (await loadModel(pretrained)).model;
    source = 'pretrained';
  } else {
    model = createMnistCnn({ seed: 1234 });
    await trainModel(model, train, { epochs: 1, batchSize: 50, seed: 1 });
    source = 'trained in the test (2,000 images, 1 epoch, batch 50)';
  }
  const dknn = new DkNN(model, { k: 75, cacheDir: join(tmp, 'mnist-cache') });
  await dknn.fit(train);
  await dknn.calibrate(subset(mnist.test, { end: 100 }));
  const evalSet = subset(mnist.test, { start: 100, end: 400 });
  const out = await dknn.predict(evalSet);
  const acc = accuracy(out.predictions, evalSet.labels);
  const dnnAcc = accuracy(out.dnnPredictions, evalSet.labels);
  assert.deepEqual(dknn.info().dims, [12544, 3200, 128, 10]);
  assert.ok(acc >= 0.85, `DkNN accuracy ${acc} (DNN ${dnnAcc}; model ${source})`);
  model.dispose();
});

test('rescore gives, without searching again, what a DkNN with the smaller k, fewer layers or the other formula gives', async () => {
  const model = tinyModel(12);
  const train = blobs(90, 1, 0.8);
  const calib = blobs(60, 2, 0.8);
  const x = blobs(40, 3, 0.8);
  const big = new DkNN(model, options({ k: 9 }));
  await big.fit(train);
  await big.calibrate(calib);
  const full = await big.predict(x);
  for (const o of [
    { k: 4 },
    { k: 9, layers: ['logits', 'flat'] },
    { formula: 'conformal' as const },
    { k: 1, layers: ['hidden'], formula: 'conformal' as const },
  ]) {
    const direct = new DkNN(
      model,
      options({
        k: o.k ?? 9,
        layers: o.layers ? LAYERS.filter((l) => o.layers!.includes(l)) : LAYERS,
        formula: o.formula ?? 'reference',
      }),
    );
    await direct.fit(train);
    await direct.calibrate(calib);
    const want = await direct.predict(x);
    const got = big.rescore(full, o);
    assert.deepEqual(got.pValues, want.pValues, JSON.stringify(o));
    assert.deepEqual(got.predictions, want.predictions);
    assert.deepEqual(got.credibility, want.credibility);
    assert.deepEqual(got.nonconformity, want.nonconformity);
    assert.equal(got.formula, want.formula);
    assert.deepEqual(
      got.neighbors.map((n) => n.layer),
      want.neighbors.map((n) => n.layer),
    );
    got.neighbors.forEach((nb, l) => assert.deepEqual(nb.indices, want.neighbors[l].indices));
  }
  assert.throws(
    () => big.rescore(full, { k: 10 }),
    /k must be an integer in 1…9 \(the k the neighbors were found with\), found 10/,
  );
  assert.throws(
    () => big.rescore(full, { layers: ['ReLU1'] }),
    /unknown layer "ReLU1"; the DkNN's layers are flat, hidden, logits/,
  );
  assert.throws(() => big.rescore(full, { layers: [] }), /layers must be a non-empty list/);
  assert.throws(() => new DkNN(model, options()).rescore(full), { message: 'call calibrate before predict' });
  model.dispose();
});
