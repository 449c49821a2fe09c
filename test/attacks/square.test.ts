import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { square, squareFraction, squareSide } from '../../lib/attacks/square';
import { squareAttack } from '../../lib/attacks/attack';
import { tensorQueryFn, type QueryFn } from '../../lib/attacks/query';
import { logitsFn } from '../../lib/attacks/utils';
import { tinyCnn } from './helpers';
import { agreement, argmaxOf, counting, linearImages, linearScores, spread, trainedTiny } from './query-helpers';

let cnn: tf.LayersModel;
let cnnQuery: QueryFn;
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
  cnn = tinyCnn(4);
  cnnQuery = tensorQueryFn(logitsFn(cnn));
});
test.after(() => cnn.dispose());

function randomImages(n: number, seed: number) {
  const t = tf.randomUniform([n, 6, 6, 1], 0, 1, 'float32', seed);
  const images = t.dataSync() as Float32Array;
  t.dispose();
  return { images, n, height: 6, width: 6, channels: 1 };
}

test("the square's size follows the authors' schedule: p halved at 10, 50, 200, … of every 10,000 iterations", () => {
  const p = (it: number) => squareFraction(0.8, it, 10000);
  assert.deepEqual(
    [p(0), p(10), p(11), p(50), p(51), p(200), p(201), p(8000), p(8001), p(9999)],
    [0.8, 0.8, 0.4, 0.4, 0.2, 0.2, 0.1, 0.8 / 256, 0.8 / 512, 0.8 / 512],
  );
  // Scaled to the budget: with 1,000 iterations the first halving comes after iteration 1.
  assert.equal(squareFraction(0.8, 1, 1000), 0.8);
  assert.equal(squareFraction(0.8, 2, 1000), 0.4);
  // MNIST at p 0.8: round(√(0.8 · 784)) = 25; never below 1, never the whole image.
  assert.equal(squareSide(0.8, 28, 28), 25);
  assert.equal(squareSide(0.001, 28, 28), 1);
  assert.equal(squareSide(1, 28, 28), 27);
});

test('Square keeps every image within ε (L∞) of its source and within the pixel range', async () => {
  const x = randomImages(12, 1);
  for (const [eps, clipMin, clipMax] of [
    [0.1, 0, 1],
    [0.3, 0.2, 0.9],
  ]) {
    const clipped = { ...x, images: x.images.map((v) => Math.min(Math.max(v, clipMin), clipMax)) };
    const r = await square(cnnQuery, clipped, { eps, maxQueries: 60, clipMin, clipMax, pInit: 0.5 });
    const s = spread(r.images, clipped.images);
    assert.ok(s.linf <= eps + 1e-6, `L∞ ${s.linf} > ε ${eps}`);
    assert.ok(s.min >= clipMin && s.max <= clipMax, `range [${s.min}, ${s.max}]`);
    assert.ok(s.linf > eps / 2, 'the images moved');
  }
});

test('Square holds every image to its query budget and counts the queries the model answered', async () => {
  const x = randomImages(10, 2);
  // A model it cannot fool (the scores do not depend on the image): every image spends its whole budget.
  const constant = counting((b) => Float32Array.from({ length: b.n * 3 }, (_, i) => (i % 3 === 1 ? 5 : 0)));
  const r = await square(constant.fn, x, { eps: 0.2, maxQueries: 37 });
  assert.deepEqual(Array.from(r.queries), new Array(10).fill(37));
  assert.equal(constant.images, 370);
  assert.equal(constant.calls, 37, 'one model call per round for the whole batch');
  // On the CNN images stop early once fooled; the counts add up to what the model scored.
  const cnnCount = counting(cnnQuery);
  const r2 = await square(cnnCount.fn, x, { eps: 0.3, maxQueries: 200 });
  const total = r2.queries.reduce((s, v) => s + v, 0);
  assert.equal(total, cnnCount.images);
  assert.ok(Math.max(...r2.queries) <= 200);
  assert.ok(Math.min(...r2.queries) < 200, 'some image stopped early');
});

test('images already misclassified (given labels) stop at their clean query, unchanged', async () => {
  const x = linearImages(4, 0.05, 3); // class 0
  const counter = counting(linearScores);
  const r = await square(counter.fn, x, { eps: 0.1, maxQueries: 50, y: [1, 1, 0, 1] });
  assert.deepEqual(Array.from(r.queries.filter((_, i) => i !== 2)), [1, 1, 1]);
  assert.ok(r.queries[2] > 1);
  assert.deepEqual(r.images.subarray(0, 32), x.images.subarray(0, 32));
});

test('the same seed gives the same images, another seed other images, in any batch', async () => {
  const x = randomImages(8, 4);
  const opts = { eps: 0.2, maxQueries: 40, pInit: 0.3 };
  const a = await square(cnnQuery, x, { ...opts, seed: 7 });
  const b = await square(cnnQuery, x, { ...opts, seed: 7 });
  const c = await square(cnnQuery, x, { ...opts, seed: 8 });
  assert.deepEqual(a.images, b.images);
  assert.deepEqual(a.queries, b.queries);
  assert.notDeepEqual(a.images, c.images);
  // An image's draws are its own: the last four alone get what they got with the first four.
  const half = { ...x, images: x.images.slice(4 * 36), n: 4 };
  const d = await square(cnnQuery, half, { ...opts, seed: 7 });
  assert.deepEqual(d.images, a.images.subarray(4 * 36));
});

test('on a linear model Square finds the adversarial example whenever one lies within ε, and none when none does', async () => {
  const eps = 0.1;
  const near = linearImages(10, 0.08, 5); // the boundary at L∞ distance 0.08 < ε
  const far = linearImages(5, 0.12, 6); // at 0.12 > ε
  const r = await square(linearScores, near, { eps, maxQueries: 400 });
  assert.deepEqual(argmaxOf(linearScores({ ...near, images: r.images }), 2), new Array(10).fill(1));
  const r2 = await square(linearScores, far, { eps, maxQueries: 100 });
  assert.deepEqual(argmaxOf(linearScores({ ...far, images: r2.images }), 2), new Array(5).fill(0));
  assert.ok(spread(r2.images, far.images).linf <= eps + 1e-6);
});

test('on a trained tiny model Square lowers the accuracy', async () => {
  const { model, test: data } = await trainedTiny();
  const q = tensorQueryFn(logitsFn(model));
  const clean = argmaxOf(await q(data), 3);
  const r = await square(q, data, { eps: 0.5, maxQueries: 300, pInit: 0.3 });
  const adv = argmaxOf(await q({ ...data, images: r.images }), 3);
  const before = agreement(clean, data.labels);
  const after = agreement(adv, data.labels);
  model.dispose();
  assert.ok(before >= 0.8, `clean accuracy ${before}`);
  assert.ok(after < before - 0.3, `accuracy ${before} → ${after}`);
});

test('bad options and models get one clear sentence each', async () => {
  const x = randomImages(2, 5);
  assert.throws(() => squareAttack({ eps: -0.1 }), /eps must be ≥ 0, found -0.1/);
  assert.throws(() => squareAttack({ eps: 0.1, maxQueries: 0 }), /maxQueries must be a positive integer, found 0/);
  assert.throws(() => squareAttack({ eps: 0.1, maxQueries: 2.5 }), /maxQueries must be a positive integer, found 2.5/);
  assert.throws(() => squareAttack({ eps: 0.1, pInit: 0 }), /pInit must be a fraction in \(0, 1\], found 0/);
  assert.throws(() => squareAttack({ eps: 0.1, pInit: 1.5 }), /pInit must be a fraction in \(0, 1\], found 1.5/);
  assert.throws(() => squareAttack({ eps: 0.1, seed: 0.5 }), /seed must be an integer, found 0.5/);
  assert.throws(() => squareAttack({ eps: 0.1, clipMin: 1, clipMax: 0 }), /clipMin 1 must be ≤ clipMax 0/);
  assert.throws(() => squareAttack({ eps: 0.1, batchSize: 0 }), /batchSize must be a positive integer, found 0/);
  await assert.rejects(
    square(cnnQuery, x, { eps: 0.1, y: [0] }),
    /y must hold one label per image: expected 2, found 1/,
  );
  await assert.rejects(square(cnnQuery, x, { eps: 0.1, y: [0, 9] }), /label 9 is not a class of the model's 4 scores/);
  await assert.rejects(
    square(() => new Float32Array(3), x, { eps: 0.1 }),
    /the model returned 3 scores for 2 images; expected n × classes with at least 2 classes/,
  );
  await assert.rejects(
    square((b) => new Float32Array(b.n * 2).fill(NaN), x, { eps: 0.1 }),
    /the model returned NaN as score 0 of query 0; expected finite scores/,
  );
  await assert.rejects(
    square(cnnQuery, { ...x, images: x.images.subarray(5) }, { eps: 0.1 }),
    /x.images must be a Float32Array of n × height × width × channels = 72 values, found 67/,
  );
});
