import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import {
  checkClip,
  checkEps,
  checkNorm,
  clipEta,
  computeGradient,
  crossEntropyFor,
  exactCrossEntropy,
  exactSign,
  logitsFn,
  modelPredictions,
  optimizeLinear,
  referenceCrossEntropy,
} from '../../lib/attacks/utils';
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

test('optimizeLinear: linf takes the sign, l1 splits eps over the tied largest |grad|, l2 normalizes; per example', async () => {
  await noLeak(() => {
    const g = tf.tensor2d([
      [1, -3, 3, 0],
      [0.5, 0, 0, -2],
    ]);
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
    assert.throws(() => optimizeLinear(g, 1, 'l3' as 'l1'), {
      message: "norm must be one of linf, l1, l2, found 'l3'",
    });
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
    const e = tf.tensor2d([
      [0.3, -0.05],
      [3, 4],
    ]);
    close(values(clipEta(e, 'linf', 0.1)), [0.1, -0.05, 0.1, 0.1]);
    // ‖(0.3, −0.05)‖ ≈ 0.304 < 1 unchanged; ‖(3, 4)‖ = 5 → scaled to norm 1.
    close(values(clipEta(e, 'l2', 1)), [0.3, -0.05, 0.6, 0.8]);
    // L1 ball of radius 2: (3, 1) → soft threshold θ = 1 → (2, 0); (−3, 2) → θ = 1.5 → (−1.5, 0.5);
    // inside the ball: unchanged. Radius 3: (3, 2) → θ = 1 → (2, 1).
    const p = tf.tensor2d([
      [3, 1],
      [-3, 2],
      [0.5, -0.5],
    ]);
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

test('the exact cross-entropy gradient keeps the label term when the softmax saturates in float32; the reference one loses it, as TF and PyTorch do', async () => {
  await noLeak(() => {
    // Logit gap 40: p_label rounds to 1, yet ∂loss/∂z_label = −Σ_{j≠label} p_j = −2e^−40, not 0.
    const z = tf.tensor2d([[40, 0, 0]]);
    const y = tf.tensor1d([0], 'int32');
    const e = Math.exp(-40);
    const exact = values(tf.grad((zz: tf.Tensor) => tf.sum(exactCrossEntropy(y, zz)))(z));
    close(
      exact.map((v) => v / e),
      [-2, 1, 1],
      1e-3,
    );
    const ref = values(tf.grad((zz: tf.Tensor) => tf.sum(referenceCrossEntropy(y, zz)))(z));
    assert.equal(ref[0], 0, 'softmax − onehot in float32: 1 − 1');
    close(
      ref.slice(1).map((v) => v / e),
      [1, 1],
      1e-3,
    );
    // Away from saturation both are softmax − onehot.
    const z2 = tf.tensor2d([[1, 2, 0.5]]);
    const a = values(tf.grad((zz: tf.Tensor) => tf.sum(exactCrossEntropy(y, zz)))(z2));
    const b = values(tf.grad((zz: tf.Tensor) => tf.sum(referenceCrossEntropy(y, zz)))(z2));
    close(a, b, 1e-6);
    const s = [1, 2, 0.5].map(Math.exp);
    const sum = s[0] + s[1] + s[2];
    close(b, [s[0] / sum - 1, s[1] / sum, s[2] / sum], 1e-6);
    tf.dispose([z, z2, y]);
  });
  assert.equal(crossEntropyFor('reference'), referenceCrossEntropy);
  assert.throws(() => crossEntropyFor('float64' as never), /gradient must be one of reference, exact, found "float64"/);
});

test('both cross-entropies are logsumexp − logit of the label, per example', async () => {
  await noLeak(() => {
    const z = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 0],
    ]);
    const y = tf.tensor1d([2, 0], 'int32');
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    close(values(referenceCrossEntropy(y, z)), [lse - 3, Math.log(3)], 1e-5);
    close(values(exactCrossEntropy(y, z)), [lse - 3, Math.log(3)], 1e-5);
    tf.dispose([z, y]);
  });
});

test('computeGradient matches finite differences, and a targeted attack gets the negated gradient', async () => {
  await noLeak(() => {
    const w = tf.tensor2d([
      [0.5, -1, 2],
      [1.5, 0.3, -0.7],
    ]);
    const fn = (x: tf.Tensor) => tf.matMul(tf.tanh(x as tf.Tensor2D), w);
    const x0 = [0.2, -0.4, 1.1, 0.3];
    const x = tf.tensor2d(x0, [2, 2]);
    const y = tf.tensor1d([1, 2], 'int32');
    const g = values(computeGradient(fn, exactCrossEntropy, x, y, false));
    const gt = values(computeGradient(fn, exactCrossEntropy, x, y, true));
    close(
      gt,
      g.map((v) => -v),
      1e-7,
    );
    const loss = (v: number[]) => tf.tidy(() => tf.sum(exactCrossEntropy(y, fn(tf.tensor2d(v, [2, 2])))).dataSync()[0]);
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
    const z = tf.tensor2d([
      [0, 2, 2],
      [5, 1, 0],
    ]);
    assert.deepEqual(values(modelPredictions((x) => tf.clone(x), z)), [1, 0]);
    z.dispose();
  });
});

test("logitsFn runs a sequential model's convolutions unfused: the same logits (bit for bit without bias), the same input gradient, no filter gradient", async () => {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [7, 7, 2],
      filters: 3,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
      useBias: true,
      biasInitializer: 'ones',
      kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }),
    }),
  );
  m.add(
    tf.layers.conv2d({
      filters: 2,
      kernelSize: 2,
      padding: 'valid',
      useBias: false,
      kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }),
    }),
  );
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 5 }) }));
  const x = tf.randomUniform([4, 7, 7, 2], 0, 1, 'float32', 9);
  const y = tf.tensor1d([0, 1, 2, 1], 'int32');
  const fn = logitsFn(m);
  close(Array.from(fn(x).dataSync()), Array.from((m.apply(x) as tf.Tensor).dataSync()), 1e-6);
  const noBias = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [7, 7, 2],
        filters: 3,
        kernelSize: 3,
        useBias: false,
        kernelInitializer: tf.initializers.glorotNormal({ seed: 6 }),
      }),
      tf.layers.flatten(),
    ],
  });
  assert.deepEqual(
    Array.from(logitsFn(noBias)(x).dataSync()),
    Array.from((noBias.apply(x) as tf.Tensor).dataSync()),
    'without bias: bit for bit',
  );
  noBias.dispose();
  const viaApply = computeGradient((t) => m.apply(t) as tf.Tensor, exactCrossEntropy, x, y, false).dataSync();
  const viaFn = computeGradient(fn, exactCrossEntropy, x, y, false).dataSync();
  close(Array.from(viaFn), Array.from(viaApply), 1e-6);
  const info = await tf.profile(() => computeGradient(fn, exactCrossEntropy, x, y, false));
  assert.ok(!info.kernels.some((k) => k.name === 'Conv2DBackpropFilter'), 'no filter gradient is computed');
  const predicted = computeGradient(fn, exactCrossEntropy, x, 'predictions', false).dataSync();
  const given = computeGradient(fn, exactCrossEntropy, x, modelPredictions(fn, x), false).dataSync();
  assert.deepEqual(
    Array.from(predicted),
    Array.from(given),
    "'predictions' takes the labels from the same forward pass",
  );
  tf.dispose([x, y]);
  m.dispose();
});
