import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { cwL2 } from '../../lib/attacks/cw';
import { fgsm } from '../../lib/attacks/fgsm';
import { perturbationNorms } from '../../lib/attacks/norms';
import type { ProgressEvent } from '../../lib/util/progress';
import { attackFixtures, mnistFixture, lineLabel, noLeak, points, predict, take } from './helpers';

const fx = attackFixtures(5);
const { cnnFn } = fx;

test('where no adversarial is found (constant 0: only the distance is minimised), the input comes back unchanged', async () => {
  const x = tf.tensor2d(points(10, 4), [10, 2]);
  await noLeak(() => {
    assert.deepEqual(
      take(cwL2(fx.line.fn, x, { initialConst: 0, binarySearchSteps: 1, maxIterations: 20 })),
      x.dataSync(),
    );
  });
  x.dispose();
});

test('on a linear model CW finds, for every point, an adversarial at about the distance to the decision boundary', async () => {
  // s = x₀ + x₁ in 1 ± [0.05, 0.3]; the smallest L2 perturbation that crosses x₀ + x₁ = 1 is |s − 1|/√2.
  const n = 16;
  const xy = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const d = (0.05 + (0.25 * i) / (n - 1)) * (i % 2 ? 1 : -1);
    xy[2 * i] = 0.5 + d / 2 + 0.05 * ((i % 3) - 1);
    xy[2 * i + 1] = 0.5 + d / 2 - 0.05 * ((i % 3) - 1);
  }
  const x = tf.tensor2d(xy, [n, 2]);
  const adv = await noLeak(() =>
    take(cwL2(fx.line.fn, x, { binarySearchSteps: 9, maxIterations: 1000, learningRate: 0.01 })),
  );
  const norms = perturbationNorms({ images: xy, n: n }, { images: adv, n: n });
  for (let i = 0; i < n; i++) {
    const before = lineLabel(xy[2 * i], xy[2 * i + 1]);
    assert.notEqual(lineLabel(adv[2 * i], adv[2 * i + 1]), before, `point ${i} crosses the boundary`);
    const dist = Math.abs(xy[2 * i] + xy[2 * i + 1] - 1) / Math.SQRT2;
    assert.ok(
      norms.l2[i] >= dist - 1e-4 && norms.l2[i] <= 1.1 * dist + 0.01,
      `point ${i}: L2 ${norms.l2[i]} vs minimum ${dist}`,
    );
  }
  x.dispose();
});

test('targeted CW reaches the target class far more often than chance, inside a [−1, 1] box', async () => {
  const n = 30;
  const xy = points(n, 12, -0.9, 0.9);
  const x = tf.tensor2d(xy, [n, 2]);
  const target = tf.tensor1d(
    predict(fx.sector.fn, x).map((c) => (c + 1) % 3),
    'int32',
  );
  const adv = await noLeak(() =>
    take(
      cwL2(fx.sector.fn, x, {
        y: target,
        targeted: true,
        clipMin: -1,
        clipMax: 1,
        maxIterations: 200,
        learningRate: 0.05,
      }),
    ),
  );
  assert.ok(adv.every((v) => v >= -1 && v <= 1));
  const t = tensorValues(target);
  const advT = tf.tensor2d(adv, [n, 2]);
  const hit = predict(fx.sector.fn, advT).filter((c, i) => c === t[i]).length / n;
  assert.ok(hit >= 0.8, `targeted success ${hit} (chance 1/3)`);
  tf.dispose([x, target, advT]);
});

function tensorValues(t: tf.Tensor): Int32Array {
  return Int32Array.from(t.dataSync());
}

test('outputs stay in [clipMin, clipMax]; deterministic; independent of the batching without early abort; progress per step', async () => {
  const x = tf.randomUniform([6, 6, 6, 1], 0.2, 0.8, 'float32', 8);
  const events: ProgressEvent[] = [];
  const opts = {
    clipMin: 0.2,
    clipMax: 0.8,
    maxIterations: 30,
    binarySearchSteps: 3,
    learningRate: 0.1,
    initialConst: 10,
    abortEarly: false,
  };
  const a = await noLeak(() => take(cwL2(cnnFn, x, { ...opts, batchSize: 4, onProgress: (e) => events.push(e) })));
  const b = await noLeak(() => take(cwL2(cnnFn, x, { ...opts, batchSize: 4 })));
  const c = await noLeak(() => take(cwL2(cnnFn, x, { ...opts, batchSize: 6 })));
  assert.ok(
    a.every((v) => v >= 0.2 && v <= 0.8),
    'inside the box',
  );
  assert.deepEqual(a, b, 'same input, same output');
  a.forEach((v, i) => assert.ok(Math.abs(v - c[i]) < 1e-4, `[${i}] batch 4 ${v} vs batch 6 ${c[i]}`));
  assert.equal(events.length, 2 * 3, 'one event per binary-search step of each batch');
  assert.deepEqual(
    events.map((e) => e.done),
    [1, 3, 4, 5, 5, 6],
  ); // start + round(batch × step / 3)
  assert.ok(events.every((e) => e.total === 6 && e.unit === 'img'));
  x.dispose();
});

test('invalid arguments raise clear errors', () => {
  const x = tf.tensor2d([[-0.5, 1.2]]);
  const ok = tf.tensor2d([[0.5, 0.5]]);
  assert.throws(() => cwL2(fx.line.fn, x), {
    message: 'cwL2: x must lie within [clipMin, clipMax] = [0, 1], found values in [-0.5, 1.2000000476837158]',
  });
  assert.throws(() => cwL2(fx.line.fn, ok, { targeted: true }), {
    message: 'a targeted attack needs y (the target labels)',
  });
  assert.throws(() => cwL2(fx.line.fn, ok, { maxIterations: 0 }), {
    message: 'maxIterations must be a positive integer, found 0',
  });
  assert.throws(() => cwL2(fx.line.fn, ok, { binarySearchSteps: 1.5 }), {
    message: 'binarySearchSteps must be a positive integer, found 1.5',
  });
  assert.throws(() => cwL2(fx.line.fn, ok, { confidence: -1 }), { message: 'confidence must be ≥ 0, found -1' });
  assert.throws(() => cwL2(fx.line.fn, ok, { clipMin: 1, clipMax: 0 }), { message: 'clipMin 1 must be ≤ clipMax 0' });
  tf.dispose([x, ok]);
});

test('the MNIST CNN: CW-L2 finds adversarials with a smaller L2 than FGSM ε = 0.25 wherever both succeed', async () => {
  const { fn, x: all } = await mnistFixture();
  const x = tf.slice(all, 0, 8);
  const orig = x.dataSync() as Float32Array;
  const before = predict(fn, x);
  const flipped = (v: Float32Array) => {
    const t = tf.tensor4d(v, x.shape);
    const p = predict(fn, t);
    t.dispose();
    return Array.from(p, (c, i) => c !== before[i]);
  };
  const cw = await noLeak(() => take(cwL2(fn, x, { maxIterations: 60, binarySearchSteps: 4, learningRate: 0.1 })));
  const fg = take(fgsm(fn, x, { eps: 0.25, clipMin: 0, clipMax: 1 }));
  const cwOk = flipped(cw);
  const fgOk = flipped(fg);
  assert.ok(cwOk.filter(Boolean).length >= 6, `CW success ${cwOk.filter(Boolean).length}/8`);
  const cwNorm = perturbationNorms({ images: orig, n: 8 }, { images: cw, n: 8 }).l2;
  const fgL2 = perturbationNorms({ images: orig, n: 8 }, { images: fg, n: 8 }).l2;
  let both = 0;
  for (let i = 0; i < 8; i++) {
    if (!cwOk[i]) assert.equal(cwNorm[i], 0, `example ${i}: no adversarial found → the input itself`);
    if (cwOk[i] && fgOk[i]) {
      both++;
      assert.ok(cwNorm[i] < fgL2[i], `example ${i}: CW L2 ${cwNorm[i]} vs FGSM ${fgL2[i]}`);
    }
  }
  assert.ok(both >= 5, `${both} examples where both succeed`);
  x.dispose();
});
