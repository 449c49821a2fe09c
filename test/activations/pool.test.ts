import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractActivations } from '../../lib/activations/extract';
import {
  activationPool,
  activationPoolThreads,
  closeActivationPools,
  extractWorkerCount,
} from '../../lib/activations/pool';
import { initBackend } from '../../lib/engine/backend';
import { DkNN } from '../../lib/dknn/dknn';
import { createMnistCnn } from '../../lib/models/mnist-cnn';
import { createRng } from '../../lib/util/random';

function randomImages(n: number, seed: number) {
  const rng = createRng(seed);
  const images = Float32Array.from({ length: n * 784 }, () => rng.next());
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  return { images, labels, n, height: 28, width: 28, channels: 1, numClasses: 10 };
}

const LAYERS = ['ReLU1', 'ReLU3', 'ReLU5', 'logits'];

test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});
test.after(() => closeActivationPools());

test('activations on 2 and 3 worker threads equal the single-thread values bit for bit, into the given arrays', async () => {
  const model = createMnistCnn({ seed: 3 });
  const data = randomImages(70, 5);
  const one = await extractActivations(model, data, { layers: LAYERS, batchSize: 16, start: 3, end: 67 });
  for (const workers of [2, 3]) {
    const into = LAYERS.map((_, l) => new Float32Array(one.layers[l].values.length + 7).fill(-1));
    const seen: number[] = [];
    const par = await extractActivations(model, data, {
      layers: LAYERS,
      batchSize: 16,
      start: 3,
      end: 67,
      workers,
      into,
      onProgress: (e) => seen.push(e.done),
    });
    par.layers.forEach((a, l) => {
      assert.equal(a.values.buffer, into[l].buffer, 'written into the caller array');
      assert.deepEqual(a.values, one.layers[l].values, `${a.name} with ${workers} workers`);
    });
    assert.equal(into[0][one.layers[0].values.length], -1, 'nothing written past the rows');
    assert.equal(seen.length, 4, 'one progress report per batch');
    assert.equal(Math.max(...seen), 64);
  }
});

test('a pool follows the model: new weights give a new pool and the new values', async () => {
  const model = createMnistCnn({ seed: 4 });
  const data = randomImages(40, 6);
  const pool = await activationPool(model, 2);
  assert.equal(await activationPool(model, 2), pool, 'reused while the weights are unchanged');
  const other = createMnistCnn({ seed: 9 });
  model.setWeights(other.getWeights());
  assert.notEqual(await activationPool(model, 2), pool, 'remade after the weights changed');
  const one = await extractActivations(model, data, { layers: ['logits'], batchSize: 10 });
  const two = await extractActivations(model, data, { layers: ['logits'], batchSize: 10, workers: 2 });
  assert.deepEqual(two.layers[0].values, one.layers[0].values);
});

test('a DkNN fitted and run on worker threads gives the single-thread neighbors and credibilities', async () => {
  const model = createMnistCnn({ seed: 7 });
  const train = randomImages(120, 1);
  const calib = randomImages(30, 2);
  const test_ = randomImages(25, 3);
  const run = async (workers: number) => {
    const d = new DkNN(model, {
      layers: ['ReLU3', 'logits'],
      k: 5,
      batchSize: 20,
      queryChunk: 12,
      cacheDir: false,
      workers,
    });
    await d.fit(train);
    await d.calibrate(calib);
    return d.predict(test_);
  };
  const a = await run(1);
  const b = await run(2);
  assert.deepEqual(b.predictions, a.predictions);
  assert.deepEqual(b.credibility, a.credibility);
  b.neighbors.forEach((nb, l) => assert.deepEqual(nb.indices, a.neighbors[l].indices));
});

test("worker counts: 'auto' stays on this thread for small inputs, explicit counts are capped by the batches, bad counts are refused", () => {
  assert.equal(extractWorkerCount('auto', 100, 250), 1);
  assert.equal(extractWorkerCount(4, 600, 250), 3);
  assert.throws(() => extractWorkerCount(0, 10, 5), /workers must be a positive integer or 'auto', found 0/);
  assert.throws(
    () => new DkNN(createMnistCnn({ seed: 1 }), { layers: ['logits'], workers: 1.5 }),
    /workers must be a positive integer or 'auto', found 1.5/,
  );
});

test('a pool of W threads starts W − 1 workers: this thread extracts its share of the batches', async () => {
  const model = createMnistCnn({ seed: 11 });
  const pool = await activationPool(model, 3);
  assert.equal(pool.size, 3);
  assert.equal(pool.workerCount, 2);
  const data = randomImages(30, 8);
  const one = await extractActivations(model, data, { layers: ['ReLU1', 'logits'], batchSize: 4 });
  const three = await extractActivations(model, data, { layers: ['ReLU1', 'logits'], batchSize: 4, workers: 3 });
  three.layers.forEach((a, l) => assert.deepEqual(a.values, one.layers[l].values, a.name));
  pool.close();
  assert.equal(pool.workerCount, 0);
  assert.equal(activationPoolThreads(model), 0, 'a closed pool is forgotten');
});

test("a DkNN ends the fit's workers when its calibrate and predict chunks run on this thread, and keeps them when they do not", async () => {
  const model = createMnistCnn({ seed: 12 });
  const train = randomImages(60, 9);
  const calib = randomImages(20, 10);
  for (const [queryChunk, kept] of [
    [10, 0],
    [40, 2],
  ] as const) {
    // batches of 10: a chunk of 10 is one batch (this thread), one of 40 is four (two threads).
    const d = new DkNN(model, {
      layers: ['ReLU5', 'logits'],
      k: 5,
      batchSize: 10,
      queryChunk,
      cacheDir: false,
      workers: 2,
    });
    await d.fit(train);
    assert.equal(activationPoolThreads(model), kept, `queryChunk ${queryChunk}`);
    await d.calibrate(calib);
    assert.equal(activationPoolThreads(model), kept, `queryChunk ${queryChunk}, after calibrate`);
  }
});

test('two extractions at once on one pool each get their own values (the staging slots are taken in turn)', async () => {
  const model = createMnistCnn({ seed: 13 });
  const a = randomImages(24, 14);
  const b = randomImages(24, 15);
  const one = await Promise.all([a, b].map((d) => extractActivations(model, d, { layers: ['ReLU3'], batchSize: 4 })));
  await extractActivations(model, a, { layers: ['ReLU3'], batchSize: 4, workers: 2 }); // the pool both calls below find, its worker started
  const two = await Promise.all(
    [a, b].map((d) => extractActivations(model, d, { layers: ['ReLU3'], batchSize: 4, workers: 2 })),
  );
  two.forEach((t, i) => assert.deepEqual(t.layers[0].values, one[i].layers[0].values, `set ${i}`));
});
