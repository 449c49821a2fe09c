import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { checkClip, checkEps, checkNorm, clipEta, computeGradient, exactSign, modelPredictions, optimizeLinear, softmaxCrossEntropy } from '../../lib/attacks/utils';
import { noLeak } from './helpers';

test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});

const values = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};
const close = (a: number[], b: number[], tol = 1e-6) => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= tol, `[${i}] ${v} vs ${b[i]}`));
};

test('argument checks throw one clear sentence each', () => {
  assert.throws(() => checkEps(-1), { name: 'RangeError', message: 'eps must be ≥ 0, found -1' });
  assert.throws(() => checkEps(NaN), { message: 'eps must be a finite number, found NaN' });
  assert.throws(() => checkEps(-0.5, 'epsIter'), { message: 'epsIter must be ≥ 0, found -0.5' });
  assert.doesNotThrow(() => checkEps(0));
  assert.throws(() => checkNorm('l3'), { message: "norm must be one of linf, l1, l2, found 'l3'" });
  assert.throws(() => checkNorm('l1', ['linf', 'l2']), { message: "norm must be one of linf, l2, found 'l1'" });
  assert.throws(() => checkNorm(2), { message: 'norm must be one of linf, l1, l2, found 2' });
  assert.throws(() => checkClip(1, 0), { message: 'clipMin 1 must be ≤ clipMax 0' });
  assert.throws(() => checkClip(0, undefined), /clipMin and clipMax must be given together/);
  assert.throws(() => checkClip(0, Infinity), { message: 'clipMax must be a finite number, found Infinity' });
  assert.doesNotThrow(() => checkClip(undefined, undefined));
  assert.doesNotThrow(() => checkClip(0.5, 0.5));
});

test('optimizeLinear: linf takes the sign, l1 splits eps over the tied largest |grad|, l2 normalises; per example', async () => {
  await noLeak(() => {
    const g = tf.tensor2d([[1, -3, 3, 0], [0.5, 0, 0, -2]]);
    close(values(optimizeLinear(g, 0.1, 'linf')), [0.1, -0.1, 0.1, 0, 0.1, 0, 0, -0.1]);
    close(values(optimizeLinear(g, 1, 'l1')), [0, -0.5, 0.5, 0, 0, 0, 0, -1]);
    const n0 = Math.sqrt(19);
    const n1 = Math.sqrt(4.25);
    close(values(optimizeLinear(g, 2, 'l2')), [2 / n0, -6 / n0, 6 / n0, 0, 1 / n1, 0, 0, -4 / n1]);
    const zero = tf.zeros([1, 3]);
    close(values(optimizeLinear(zero, 1, 'l2')), [0, 0, 0], 0);
    close(values(optimizeLinear(zero, 1, 'l1')), [0, 0, 0], 0);
    zero.dispose();
    assert.throws(() => optimizeLinear(g, -1), { message: 'eps must be ≥ 0, found -1' });
    assert.throws(() => optimizeLinear(g, 1, 'l3' as 'l1'), { message: "norm must be one of linf, l1, l2, found 'l3'" });
    g.dispose();
  });
});

test('optimizeLinear reduces over every axis but the batch axis (images)', async () => {
  await noLeak(() => {
    const g = tf.tensor4d([3, 4, 0, 0, /* example 2 */ 0, 0, 0, 5], [2, 2, 2, 1]);
    close(values(optimizeLinear(g, 1, 'l2')), [0.6, 0.8, 0, 0, 0, 0, 0, 1]);
    g.dispose();
  });
});

test('clipEta: linf clips coordinates, l2 rescales only outside the ball, l1 is the exact projection', async () => {
  await noLeak(() => {
    const e = tf.tensor2d([[0.3, -0.05], [3, 4]]);
    close(values(clipEta(e, 'linf', 0.1)), [0.1, -0.05, 0.1, 0.1]);
    // ‖(0.3, −0.05)‖ ≈ 0.304 < 1 unchanged; ‖(3, 4)‖ = 5 → scaled to norm 1.
    close(values(clipEta(e, 'l2', 1)), [0.3, -0.05, 0.6, 0.8]);
    // L1 ball of radius 2: (3, 1) → soft threshold θ = 1 → (2, 0); (−3, 2) → θ = 1.5 → (−1.5, 0.5);
    // inside the ball: unchanged. Radius 3: (3, 2) → θ = 1 → (2, 1).
    const p = tf.tensor2d([[3, 1], [-3, 2], [0.5, -0.5]]);
    close(values(clipEta(p, 'l1', 2)), [2, 0, -1.5, 0.5, 0.5, -0.5]);
    const q = tf.tensor2d([[3, 2]]);
    close(values(clipEta(q, 'l1', 3)), [2, 1]);
    close(values(clipEta(p, 'l1', 0)), [0, 0, 0, 0, 0, 0], 0);
    tf.dispose([e, p, q]);
  });
});

test('clipEta l1: the result has L1 norm eps and is no farther than any other point of the ball tried', async () => {
  await noLeak(() => {
    const eta = tf.tensor2d([[0.9, -0.4, 0.3, 0.05, -0.7, 0.2]]);
    const proj = values(clipEta(eta, 'l1', 1));
    const v = values(eta);
    close([proj.reduce((s, x) => s + Math.abs(x), 0)], [1], 1e-5);
    const dist = (q: number[]) => q.reduce((s, x, i) => s + (x - v[i]) ** 2, 0);
    // Random points of the L1 sphere of radius 1 are never closer than the projection.
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    for (let t = 0; t < 200; t++) {
      const q = v.map(() => rnd());
      const s = q.reduce((a, x) => a + Math.abs(x), 0);
      assert.ok(dist(q.map((x) => x / s)) >= dist(proj) - 1e-6);
    }
  });
});

test('exactSign keeps the sign of tiny values (the wasm Sign kernel rounds |x| < 1e-7 to 0), so linf steps never vanish', async () => {
  await noLeak(() => {
    const g = tf.tensor2d([[1e-9, -1e-12, 0, 3e-30, -2]]);
    assert.deepEqual(values(exactSign(g)), [1, -1, 0, 1, -1]);
    close(values(optimizeLinear(g, 0.25, 'linf')), [0.25, -0.25, 0, 0.25, -0.25]);
    const tiny = tf.tensor2d([[3e-20, 4e-20]]);
    close(values(optimizeLinear(tiny, 1, 'l2')), [0.6, 0.8], 1e-6); // full length eps, even for a tiny gradient
    tf.dispose([g, tiny]);
  });
});

test('the cross-entropy gradient keeps the label term when the softmax saturates in float32', async () => {
  await noLeak(() => {
    // Logit gap 40: p_label rounds to 1, yet ∂loss/∂z_label = −Σ_{j≠label} p_j = −2e^−40, not 0.
    const z = tf.tensor2d([[40, 0, 0]]);
    const y = tf.tensor1d([0], 'int32');
    const g = values(tf.grad((zz: tf.Tensor) => tf.sum(softmaxCrossEntropy(y, zz)))(z));
    const e = Math.exp(-40);
    close(g.map((v) => v / e), [-2, 1, 1], 1e-3);
    tf.dispose([z, y]);
  });
});

test('softmaxCrossEntropy is logsumexp − logit of the label, per example', async () => {
  await noLeak(() => {
    const z = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
    const y = tf.tensor1d([2, 0], 'int32');
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    close(values(softmaxCrossEntropy(y, z)), [lse - 3, Math.log(3)], 1e-5);
    tf.dispose([z, y]);
  });
});

test('computeGradient matches finite differences, and a targeted attack gets the negated gradient', async () => {
  await noLeak(() => {
    const w = tf.tensor2d([[0.5, -1, 2], [1.5, 0.3, -0.7]]);
    const fn = (x: tf.Tensor) => tf.matMul(tf.tanh(x as tf.Tensor2D), w);
    const x0 = [0.2, -0.4, 1.1, 0.3];
    const x = tf.tensor2d(x0, [2, 2]);
    const y = tf.tensor1d([1, 2], 'int32');
    const g = values(computeGradient(fn, softmaxCrossEntropy, x, y, false));
    const gt = values(computeGradient(fn, softmaxCrossEntropy, x, y, true));
    close(gt, g.map((v) => -v), 1e-7);
    const loss = (v: number[]) => tf.tidy(() => tf.sum(softmaxCrossEntropy(y, fn(tf.tensor2d(v, [2, 2])))).dataSync()[0]);
    const h = 1e-2;
    const fd = x0.map((_, i) => {
      const up = [...x0];
      const down = [...x0];
      up[i] += h;
      down[i] -= h;
      return (loss(up) - loss(down)) / (2 * h);
    });
    close(g, fd, 2e-3);
    tf.dispose([w, x, y]);
  });
});

test('modelPredictions is the argmax of the logits, lowest class on ties', async () => {
  await noLeak(() => {
    const z = tf.tensor2d([[0, 2, 2], [5, 1, 0]]);
    assert.deepEqual(values(modelPredictions((x) => tf.clone(x), z)), [1, 0]);
    z.dispose();
  });
});
