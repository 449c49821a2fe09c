import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { boundarySearch, hopSkipJump, hsjTheta, oracle } from '../../lib/attacks/hop-skip-jump';
import { hopSkipJumpAttack } from '../../lib/attacks/attack';
import { answerPlan, lockstep, tensorQueryFn, type ImagePlan, type QueryFn } from '../../lib/attacks/query';
import { logitsFn } from '../../lib/attacks/utils';
import type { ImageBatch } from '../../lib/data/types';
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

/** The line model on 1×2×1 images: scores [s − 1, 1 − s], s = x₀ + x₁ (class 0 when s ≥ 1). */
const line: QueryFn = (b: ImageBatch) =>
  Float32Array.from({ length: 2 * b.n }, (_, i) => {
    const s = b.images[2 * (i >> 1)] + b.images[2 * (i >> 1) + 1];
    return i % 2 === 0 ? s - 1 : 1 - s;
  });

/** The boundary search between x and p on the line model: where it stopped (t) and the point. */
async function search(x: number[], p: number[], norm: 'linf' | 'l2', theta: number) {
  let out = { point: new Float32Array(2), dist: 0, high: 0 };
  let queries = 0;
  function* plan(): ImagePlan {
    const o = oracle(2, 1, 1000);
    out = yield* boundarySearch(o, Float32Array.from(x), Float32Array.from(p), norm, theta);
    queries = 1000 - o.left();
    return out.point;
  }
  await answerPlan(lockstep([plan()], 2, 1000), line, { height: 1, width: 2, channels: 1 });
  return { ...out, queries };
}

test("HopSkipJump's binary search ends on the boundary, on its adversarial side (checked by hand on a line)", async () => {
  // L∞: the box of half-width t around x = (0.2, 0.2) clips p = (0.9, 0.9) to (0.2 + t, 0.2 + t): s = 1 at t = 0.3.
  const theta = 1e-4;
  const a = await search([0.2, 0.2], [0.9, 0.9], 'linf', theta);
  const thr = Math.min(0.7 * theta, theta); // the authors' threshold: relative to the distance 0.7 for L∞
  assert.ok(a.high >= 0.3 - 1e-7 && a.high - 0.3 <= thr, `t ${a.high}`);
  assert.equal(a.dist, Number(Math.fround(0.9) - Math.fround(0.2)));
  assert.ok(Math.abs(a.point[0] - (0.2 + a.high)) < 1e-6 && Math.abs(a.point[1] - (0.2 + a.high)) < 1e-6);
  assert.deepEqual(argmaxOf(await line({ images: a.point, n: 1, height: 1, width: 2, channels: 1 }), 2), [0]);
  assert.equal(a.queries, Math.ceil(Math.log2(0.7 / thr)));
  // L2: the blend (1 − t)·x + t·p has s = 0.4 + 1.4·t = 1 at t = 3/7.
  const b = await search([0.2, 0.2], [0.9, 0.9], 'l2', theta);
  assert.ok(b.high >= 3 / 7 - 1e-7 && b.high - 3 / 7 <= theta, `t ${b.high}`);
  // With the authors' γ = 1 on 784 pixels the L∞ search stops within d⁻² of the distance.
  assert.equal(hsjTheta('linf', 784, 1), 1 / 784 ** 2);
  assert.equal(hsjTheta('l2', 784, 1), 1 / (28 * 784));
});

test('HopSkipJump keeps every image within ε of its source (L∞ and L2) and within the pixel range', async () => {
  const x = randomImages(6, 1);
  for (const norm of ['linf', 'l2'] as const) {
    const eps = norm === 'linf' ? 0.05 : 0.3;
    const r = await hopSkipJump(cnnQuery, x, { eps, norm, maxQueries: 400, initNumEvals: 20 });
    for (let i = 0; i < 6; i++) {
      const a = r.images.subarray(i * 36, (i + 1) * 36);
      const b = x.images.subarray(i * 36, (i + 1) * 36);
      const d = norm === 'linf' ? spread(a, b).linf : Math.sqrt(a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0));
      assert.ok(d <= eps + 1e-5, `${norm} image ${i}: distance ${d} > ε ${eps}`);
      assert.ok(Math.min(...a) >= 0 && Math.max(...a) <= 1);
    }
  }
});

test('HopSkipJump holds every image to its query budget and counts the queries the model answered', async () => {
  const x = randomImages(6, 2);
  const c = counting(cnnQuery);
  const r = await hopSkipJump(c.fn, x, { eps: 0.01, maxQueries: 150, initNumEvals: 30 });
  assert.equal(
    r.queries.reduce((s, v) => s + v, 0),
    c.images,
  );
  assert.ok(Math.max(...r.queries) <= 150);
  assert.ok(
    r.queries.some((q) => q === 150),
    'at ε 0.01 some image spends its whole budget',
  );
  // A model it cannot fool: the random start is never adversarial, every image spends its budget on it.
  const constant = counting((b) => Float32Array.from({ length: b.n * 2 }, (_, i) => (i % 2 === 0 ? 1 : 0)));
  const r2 = await hopSkipJump(constant.fn, x, { eps: 0.1, maxQueries: 25 });
  assert.deepEqual(Array.from(r2.queries), new Array(6).fill(25));
  assert.deepEqual(r2.images, x.images, 'nothing adversarial found: the images are returned unchanged');
});

test('the same seed gives the same images, another seed other images', async () => {
  const x = randomImages(4, 3);
  const opts = { eps: 0.02, maxQueries: 200, initNumEvals: 20 };
  const a = await hopSkipJump(cnnQuery, x, { ...opts, seed: 1 });
  const b = await hopSkipJump(cnnQuery, x, { ...opts, seed: 1 });
  const c = await hopSkipJump(cnnQuery, x, { ...opts, seed: 2 });
  assert.deepEqual(a.images, b.images);
  assert.deepEqual(a.queries, b.queries);
  assert.notDeepEqual(a.images, c.images);
});

test('on a linear model HopSkipJump walks from its start to the nearest boundary', async () => {
  const x = linearImages(4, 0.08, 7); // the boundary at L∞ distance 0.08
  const r = await hopSkipJump(linearScores, x, { eps: 0.09, maxQueries: 3000 });
  assert.deepEqual(argmaxOf(linearScores({ ...x, images: r.images }), 2), [1, 1, 1, 1]);
  assert.ok(spread(r.images, x.images).linf <= 0.09);
  assert.ok(Math.max(...r.queries) < 3000, 'each image stopped once within ε');
});

test('on a trained tiny model HopSkipJump lowers the accuracy', async () => {
  const { model, test: data } = await trainedTiny();
  const q = tensorQueryFn(logitsFn(model));
  const clean = argmaxOf(await q(data), 3);
  const r = await hopSkipJump(q, data, { eps: 0.5, maxQueries: 500 });
  const adv = argmaxOf(await q({ ...data, images: r.images }), 3);
  const before = agreement(clean, data.labels);
  const after = agreement(adv, data.labels);
  model.dispose();
  assert.ok(before >= 0.8, `clean accuracy ${before}`);
  assert.ok(after < before - 0.3, `accuracy ${before} → ${after}`);
});

test('bad options get one clear sentence each', async () => {
  assert.throws(() => hopSkipJumpAttack({ eps: Number.NaN }), /eps must be a finite number, found NaN/);
  assert.throws(() => hopSkipJumpAttack({ eps: 0.1, norm: 'l1' as 'l2' }), /norm must be one of linf, l2, found 'l1'/);
  assert.throws(
    () => hopSkipJumpAttack({ eps: 0.1, maxQueries: -5 }),
    /maxQueries must be a positive integer, found -5/,
  );
  assert.throws(() => hopSkipJumpAttack({ eps: 0.1, gamma: 0 }), /gamma must be a finite number > 0, found 0/);
  assert.throws(
    () => hopSkipJumpAttack({ eps: 0.1, numIterations: 0 }),
    /numIterations must be a positive integer, found 0/,
  );
  assert.throws(() => hopSkipJumpAttack({ eps: 0.1, initNumEvals: 1.5 }), /initNumEvals must be a positive integer/);
  assert.throws(() => hopSkipJumpAttack({ eps: 0.1, seed: Infinity }), /seed must be an integer, found Infinity/);
  await assert.rejects(
    hopSkipJump(cnnQuery, randomImages(2, 1), { eps: 0.1, y: [0, -1] }),
    /y\[1\] is -1: expected a class index/,
  );
});
