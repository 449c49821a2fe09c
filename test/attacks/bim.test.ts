import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { bim } from '../../lib/attacks/bim';
import { fgsm } from '../../lib/attacks/fgsm';
import { perturbationNorms } from '../../lib/attacks/norms';
import { attackFixtures, mnistFixture, noLeak, points, predict, take } from './helpers';

const fx = attackFixtures(4);
const { cnnFn } = fx;

test('eps = 0 returns x unchanged', async () => {
  const x = tf.randomUniform([4, 6, 6, 1], 0, 1, 'float32', 1);
  await noLeak(() => {
    for (const norm of ['linf', 'l2'] as const) {
      assert.deepEqual(
        take(bim(cnnFn, x, { eps: 0, epsIter: 0, nbIter: 3, norm, clipMin: 0, clipMax: 1 })),
        x.dataSync(),
        norm,
      );
    }
  });
  x.dispose();
});

test('on a linear model BIM ends where FGSM does: every coordinate eps towards the boundary, clipped', async () => {
  const x = tf.tensor2d(points(100, 3), [100, 2]);
  await noLeak(() => {
    const a = take(bim(fx.line.fn, x, { eps: 0.15, epsIter: 0.03, nbIter: 8, clipMin: 0, clipMax: 1 }));
    const b = take(fgsm(fx.line.fn, x, { eps: 0.15, clipMin: 0, clipMax: 1 }));
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `[${i}] ${v} vs ${b[i]}`));
  });
  x.dispose();
});

test('outputs stay in [clipMin, clipMax] and within eps of x (L∞ and L2), also from a random start', async () => {
  const n = 12;
  const x = tf.randomUniform([n, 6, 6, 1], 0, 1, 'float32', 2);
  const orig = x.dataSync() as Float32Array;
  await noLeak(() => {
    for (const [norm, eps, epsIter] of [
      ['linf', 0.1, 0.04],
      ['l2', 0.5, 0.2],
    ] as const) {
      for (const randInit of [false, true]) {
        const adv = take(bim(cnnFn, x, { eps, epsIter, nbIter: 6, norm, clipMin: 0, clipMax: 1, randInit, seed: 7 }));
        assert.ok(
          adv.every((v) => v >= 0 && v <= 1),
          `${norm} rand ${randInit}: inside [0, 1]`,
        );
        const d = perturbationNorms({ images: orig, n: n }, { images: adv, n: n });
        const size = norm === 'linf' ? d.linf : d.l2;
        assert.ok(
          size.every((s) => s <= eps + 1e-5),
          `${norm} rand ${randInit}: max distance ${Math.max(...size)} ≤ ${eps}`,
        );
      }
    }
  });
  x.dispose();
});

test('a random start is deterministic for a seed and differs between seeds', async () => {
  const x = tf.randomUniform([3, 6, 6, 1], 0.2, 0.8, 'float32', 3);
  await noLeak(() => {
    for (const norm of ['linf', 'l2'] as const) {
      const run = (seed: number) =>
        take(bim(cnnFn, x, { eps: 0.1, epsIter: 0.02, nbIter: 2, norm, randInit: true, seed }));
      assert.deepEqual(run(5), run(5), `${norm}: same seed, same result`);
      assert.notDeepEqual(run(5), run(6), `${norm}: another seed, another start`);
    }
  });
  x.dispose();
});

test('invalid arguments raise clear errors', () => {
  const x = tf.zeros([2, 2]);
  assert.throws(() => bim(fx.line.fn, x, { eps: -1, epsIter: 0, nbIter: 1 }), { message: 'eps must be ≥ 0, found -1' });
  assert.throws(() => bim(fx.line.fn, x, { eps: 0.25, epsIter: 0.5, nbIter: 1 }), {
    message: 'epsIter 0.5 must be ≤ eps 0.25',
  });
  assert.throws(() => bim(fx.line.fn, x, { eps: 0.25, epsIter: 0.05, nbIter: 0 }), {
    message: 'nbIter must be a positive integer, found 0',
  });
  assert.throws(() => bim(fx.line.fn, x, { eps: 0.25, epsIter: 0.05, nbIter: 2, norm: 'l1' }), {
    message: "norm must be one of linf, l2, found 'l1'",
  });
  assert.throws(() => bim(fx.line.fn, x, { eps: 0.25, epsIter: 0.05, nbIter: 2, clipMin: 1, clipMax: 0 }), {
    message: 'clipMin 1 must be ≤ clipMax 0',
  });
  assert.throws(() => bim(fx.line.fn, x, { eps: 0.25, epsIter: 0.05, nbIter: 2, targeted: true }), {
    message: 'a targeted attack needs y (the target labels)',
  });
  x.dispose();
});

test('the MNIST CNN: BIM succeeds at least as often as FGSM at the same eps; labels default to the clean predictions', async () => {
  const { fn, x } = await mnistFixture();
  const n = x.shape[0];
  const before = predict(fn, x);
  const success = (values: Float32Array) => {
    const t = tf.tensor4d(values, x.shape);
    const after = predict(fn, t);
    t.dispose();
    return after.filter((c, i) => c !== before[i]).length / n;
  };
  for (const eps of [0.1, 0.25]) {
    const f = success(take(fgsm(fn, x, { eps, clipMin: 0, clipMax: 1 })));
    const b = success(
      await noLeak(() => take(bim(fn, x, { eps, epsIter: eps / 5, nbIter: 10, clipMin: 0, clipMax: 1 }))),
    );
    assert.ok(b >= f, `eps ${eps}: BIM ${b} vs FGSM ${f}`);
    if (eps === 0.25) assert.ok(b >= 0.9, `BIM ε = 0.25 success ${b}`);
  }
  const y = tf.tensor1d(before, 'int32');
  const a = take(bim(fn, x, { eps: 0.1, epsIter: 0.05, nbIter: 3, clipMin: 0, clipMax: 1 }));
  const b = take(bim(fn, x, { eps: 0.1, epsIter: 0.05, nbIter: 3, clipMin: 0, clipMax: 1, y }));
  assert.deepEqual(a, b);
  y.dispose();
});

test('the MNIST CNN: targeted BIM reaches the target class far more often than chance (0.1)', async () => {
  const { fn, x } = await mnistFixture();
  const target = tf.tensor1d(
    predict(fn, x).map((c) => (c + 1) % 10),
    'int32',
  );
  const adv = tf.tensor4d(
    await noLeak(() =>
      take(bim(fn, x, { eps: 0.25, epsIter: 0.05, nbIter: 10, clipMin: 0, clipMax: 1, y: target, targeted: true })),
    ),
    x.shape,
  );
  const after = predict(fn, adv);
  const t = target.dataSync();
  const hit = after.filter((c, i) => c === t[i]).length / x.shape[0];
  assert.ok(hit >= 0.6, `targeted BIM success ${hit}`);
  tf.dispose([target, adv]);
});
