import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { fgsm } from '../../lib/attacks/fgsm';
import { perturbationNorms } from '../../lib/attacks/norms';
import { attackFixtures, mnistFixture, lineLabel, noLeak, points, predict, take } from './helpers';

const fx = attackFixtures(3);
const { cnnFn } = fx;

test('eps = 0 returns x unchanged, for every norm', async () => {
  const x = tf.randomUniform([5, 6, 6, 1], 0, 1, 'float32', 11);
  const orig = x.dataSync();
  await noLeak(() => {
    for (const norm of ['linf', 'l1', 'l2'] as const) {
      assert.deepEqual(take(fgsm(cnnFn, x, { eps: 0, norm, clipMin: 0, clipMax: 1 })), orig, norm);
      assert.deepEqual(take(fgsm(cnnFn, x, { eps: 0, norm })), orig, `${norm}, no clipping`);
    }
  });
  x.dispose();
});

test('on a linear model, L∞ FGSM moves every coordinate by eps towards the decision boundary (then clips)', async () => {
  const xy = points(200, 1);
  const x = tf.tensor2d(xy, [200, 2]);
  const eps = 0.1;
  const adv = await noLeak(() => take(fgsm(fx.line.fn, x, { eps, clipMin: 0, clipMax: 1 })));
  for (let i = 0; i < 200; i++) {
    const dir = lineLabel(xy[2 * i], xy[2 * i + 1]) === 0 ? -1 : 1; // class 0 lies above x₀ + x₁ = 1
    for (const j of [0, 1]) {
      const expected = Math.min(1, Math.max(0, xy[2 * i + j] + dir * eps));
      assert.ok(Math.abs(adv[2 * i + j] - expected) < 1e-6, `point ${i}: ${adv[2 * i + j]} vs ${expected}`);
    }
  }
  x.dispose();
});

test('untargeted FGSM flips exactly the points it can reach on a linear model, and most of them at eps = 0.3', async () => {
  const n = 400;
  const xy = points(n, 2);
  const x = tf.tensor2d(xy, [n, 2]);
  for (const eps of [0.1, 0.3]) {
    const adv = await noLeak(() => take(fgsm(fx.line.fn, x, { eps, clipMin: 0, clipMax: 1 })));
    let flipped = 0;
    let reachable = 0;
    for (let i = 0; i < n; i++) {
      const [a, b] = [xy[2 * i], xy[2 * i + 1]];
      const c = lineLabel(a, b);
      const d = c === 0 ? -eps : eps;
      if (lineLabel(Math.min(1, Math.max(0, a + d)), Math.min(1, Math.max(0, b + d))) !== c) reachable++;
      if (lineLabel(adv[2 * i], adv[2 * i + 1]) !== c) flipped++;
    }
    assert.equal(flipped, reachable, `eps ${eps}`);
    // Uniform points: P(|x₀ + x₁ − 1| < 2 eps) = 1 − (1 − 2 eps)² (0.36 at 0.1, 0.84 at 0.3).
    const theory = 1 - (1 - 2 * eps) ** 2;
    assert.ok(Math.abs(flipped / n - theory) < 0.07, `eps ${eps}: success ${flipped / n} vs ${theory}`);
  }
  x.dispose();
});

test('L1 and L2 steps on the linear model: the tied gradient splits eps (L1), the step has norm eps (L2)', async () => {
  const x = tf.tensor2d([
    [0.6, 0.7],
    [0.2, 0.3],
  ]);
  await noLeak(() => {
    const l1 = take(fgsm(fx.line.fn, x, { eps: 0.2, norm: 'l1' }));
    [0.5, 0.6, 0.3, 0.4].forEach((v, i) => assert.ok(Math.abs(l1[i] - v) < 1e-6, `l1 [${i}] ${l1[i]}`));
    const l2 = take(fgsm(fx.line.fn, x, { eps: 0.2, norm: 'l2' }));
    const s = 0.2 / Math.SQRT2;
    [0.6 - s, 0.7 - s, 0.2 + s, 0.3 + s].forEach((v, i) => assert.ok(Math.abs(l2[i] - v) < 1e-6, `l2 [${i}] ${l2[i]}`));
  });
  x.dispose();
});

test('outputs stay in [clipMin, clipMax] and within eps of x in the attack norm', async () => {
  const n = 16;
  const x = tf.randomUniform([n, 6, 6, 1], 0, 1, 'float32', 5);
  const orig = x.dataSync() as Float32Array;
  await noLeak(() => {
    for (const [norm, eps] of [
      ['linf', 0.2],
      ['l2', 0.8],
      ['l1', 1.5],
    ] as const) {
      const adv = take(fgsm(cnnFn, x, { eps, norm, clipMin: 0.1, clipMax: 0.9 }));
      assert.ok(
        adv.every((v) => v >= 0.1 && v <= 0.9),
        `${norm}: inside the clip range`,
      );
      const raw = take(fgsm(cnnFn, x, { eps, norm }));
      const d = perturbationNorms({ images: orig, n: n }, { images: raw, n: n });
      const size = norm === 'linf' ? d.linf : norm === 'l2' ? d.l2 : d.l1;
      for (let i = 0; i < n; i++)
        assert.ok(Math.abs(size[i] - eps) < 1e-4, `${norm}: example ${i} moved ${size[i]}, eps ${eps}`);
    }
  });
  x.dispose();
});

test('invalid arguments raise clear errors', () => {
  const x = tf.zeros([2, 2]);
  const y3 = tf.tensor1d([0, 1, 1], 'int32');
  assert.throws(() => fgsm(fx.line.fn, x, { eps: -1 }), { name: 'RangeError', message: 'eps must be ≥ 0, found -1' });
  assert.throws(() => fgsm(fx.line.fn, x, { eps: 0.1, norm: 'l3' as 'l2' }), {
    message: "norm must be one of linf, l1, l2, found 'l3'",
  });
  assert.throws(() => fgsm(fx.line.fn, x, { eps: 0.1, clipMin: 1, clipMax: 0 }), {
    message: 'clipMin 1 must be ≤ clipMax 0',
  });
  assert.throws(() => fgsm(fx.line.fn, x, { eps: 0.1, clipMin: 0 }), /clipMin and clipMax must be given together/);
  assert.throws(() => fgsm(fx.line.fn, x, { eps: 0.1, targeted: true }), {
    message: 'a targeted attack needs y (the target labels)',
  });
  assert.throws(() => fgsm(fx.line.fn, x, { eps: 0.1, y: y3 }), {
    message: 'y must hold one integer label per example: expected shape [2], found [3]',
  });
  tf.dispose([x, y3]);
});

test("targeted FGSM reaches the target far more often than chance; the model's predictions are the default labels", async () => {
  // Three 120° sectors; points in [−1, 1]²; target = the next class.
  const n = 300;
  const xy = points(n, 9, -1, 1);
  const x = tf.tensor2d(xy, [n, 2]);
  const pred = predict(fx.sector.fn, x);
  const target = tf.tensor1d(
    pred.map((c) => (c + 1) % 3),
    'int32',
  );
  const adv = tf.tensor2d(
    await noLeak(() => take(fgsm(fx.sector.fn, x, { eps: 1, norm: 'l2', y: target, targeted: true }))),
    [n, 2],
  );
  const after = predict(fx.sector.fn, adv);
  const t = target.dataSync();
  const hit = after.filter((c, i) => c === t[i]).length / n;
  assert.ok(hit > 0.6, `targeted success ${hit} (chance 1/3)`);
  const yPred = tf.tensor1d(pred, 'int32');
  const a = take(fgsm(fx.sector.fn, x, { eps: 0.3 }));
  const b = take(fgsm(fx.sector.fn, x, { eps: 0.3, y: yPred }));
  assert.deepEqual(a, b);
  tf.dispose([x, target, adv, yPred]);
});

test('the MNIST CNN: FGSM ε = 0.25 (L∞, clipped to [0,1]) changes most predictions of real test digits; deterministic', async () => {
  const { fn, x } = await mnistFixture();
  const before = predict(fn, x);
  const adv1 = await noLeak(() => take(fgsm(fn, x, { eps: 0.25, clipMin: 0, clipMax: 1 })));
  const adv2 = take(fgsm(fn, x, { eps: 0.25, clipMin: 0, clipMax: 1 }));
  assert.deepEqual(adv1, adv2, 'same input, same output');
  const t = tf.tensor4d(adv1, x.shape);
  const after = predict(fn, t);
  t.dispose();
  const success = after.filter((c, i) => c !== before[i]).length / x.shape[0];
  assert.ok(success >= 0.6, `FGSM success ${success} on ${x.shape[0]} digits`);
});
