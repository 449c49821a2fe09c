import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../lib/engine/backend';
import { randomAffineAugment, randomShiftAugment } from '../../lib/training/augment';
import { loadModel, saveModel } from '../../lib/models/format';
import { standardizeImages } from '../../lib/models/standardize';
import { createModel, modelSummary } from '../../lib/models/zoo';
import { createRng } from '../../lib/util/random';

const tmp = mkdtempSync(join(tmpdir(), 'dknn-std-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});

function randomImages(n: number, per: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * per }, () => rng.next());
}

test('standardizeImages gives every image mean 0 and standard deviation 1; a constant image becomes 0', () => {
  const [H, W, C] = [4, 5, 3];
  const x = randomImages(3, H * W * C, 1);
  x.fill(0.7, 2 * H * W * C); // third image constant
  const y = tf.tidy(() => standardizeImages(tf.tensor4d(x, [3, H, W, C])).dataSync());
  const per = H * W * C;
  for (let i = 0; i < 2; i++) {
    const v = Array.from(y.subarray(i * per, (i + 1) * per));
    const mean = v.reduce((a, b) => a + b, 0) / per;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / per);
    assert.ok(Math.abs(mean) < 1e-5, `image ${i}: mean ${mean}`);
    assert.ok(Math.abs(sd - 1) < 1e-4, `image ${i}: sd ${sd}`);
  }
  assert.ok(
    y.subarray(2 * per).every((v) => Math.abs(v) < 1e-4),
    'a constant image maps to ~0 (the scale floor 1/√N keeps the float32 rounding of its mean small)',
  );
  assert.throws(() => standardizeImages(tf.tensor1d([1, 2])), /rank ≥ 2\), found rank 1/);
});

test('gtsrb-cnn-std: standardisation first, invariant to brightness, gradients reach the input, and it survives save and load', async () => {
  const model = createModel({ name: 'gtsrb-cnn-std', args: { seed: 3 } });
  const layers = modelSummary(model);
  assert.equal(layers[0].type, 'PerImageStandardization');
  assert.deepEqual(
    layers.filter((l) => /^ReLU|logits/.test(l.layer)).map((l) => l.layer),
    ['ReLU1', 'ReLU3', 'ReLU5', 'logits'],
  );
  const x = randomImages(2, 32 * 32 * 3, 4);
  const logits = (m: tf.LayersModel, v: Float32Array) =>
    tf.tidy(() => (m.predict(tf.tensor4d(v, [2, 32, 32, 3])) as tf.Tensor).dataSync());
  const a = logits(model, x);
  const b = logits(
    model,
    x.map((v) => 0.5 * v + 0.1),
  );
  for (let i = 0; i < a.length; i++)
    assert.ok(
      Math.abs(a[i] - b[i]) < 1e-3 * (1 + Math.abs(a[i])),
      `logit ${i}: ${a[i]} vs ${b[i]} after an affine change of brightness`,
    );
  const grad = tf.tidy(
    () =>
      tf
        .grad((inp: tf.Tensor) => (model.apply(inp) as tf.Tensor).sum())(tf.tensor4d(x, [2, 32, 32, 3]))
        .abs()
        .sum()
        .dataSync()[0],
  );
  assert.ok(grad > 0, 'the input gradient is non-zero');
  await saveModel(join(tmp, 'std'), model, {});
  const loaded = await loadModel(join(tmp, 'std'));
  assert.deepEqual(Array.from(logits(loaded.model, x)), Array.from(a));
  model.dispose();
  loaded.model.dispose();
});

test('randomAffineAugment: identity with all ranges 0; a rotation keeps the distance of a point to the center; same seed, same images', () => {
  const [H, W, C] = [9, 9, 2];
  const img = new Float32Array(H * W * C);
  img[(2 * W + 6) * C + 1] = 1; // one bright pixel, channel 1
  const same = img.slice();
  randomAffineAugment({ maxShift: 0, brightness: 0 })(same, 1, [H, W, C], createRng(1));
  assert.deepEqual(Array.from(same), Array.from(img));
  const rotated = img.slice();
  randomAffineAugment({ maxShift: 0, maxRotation: 40, brightness: 0 })(rotated, 1, [H, W, C], createRng(2));
  let mass = 0,
    my = 0,
    mx = 0;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const v = rotated[(y * W + x) * C + 1];
      mass += v;
      my += y * v;
      mx += x * v;
      assert.equal(rotated[(y * W + x) * C], 0, 'channel 0 stays dark');
    }
  assert.ok(
    Math.abs(mass - 1) < 0.05,
    `a rotation keeps the mass of an interior point (up to bilinear resampling): ${mass}`,
  );
  assert.notDeepEqual(Array.from(rotated), Array.from(img), 'the image was rotated');
  assert.ok(
    Math.abs(Math.hypot(my / mass - 4, mx / mass - 4) - Math.hypot(2 - 4, 6 - 4)) < 0.05,
    'distance to the center kept',
  );
  const batch = randomImages(4, H * W * C, 5);
  const one = batch.slice();
  const two = batch.slice();
  const aug = randomAffineAugment({ maxShift: 2, maxRotation: 15, maxScale: 0.1, brightness: 0.3 });
  aug(one, 4, [H, W, C], createRng(7));
  aug(two, 4, [H, W, C], createRng(7));
  assert.deepEqual(Array.from(one), Array.from(two));
  assert.ok(
    one.every((v) => v >= 0 && v <= 1),
    'clipped to [0, 1]',
  );
});

test('augmentations refuse bad ranges with the value found', () => {
  assert.throws(() => randomAffineAugment({ maxScale: 1 }), /maxScale must be < 1.*found 1/);
  assert.throws(() => randomAffineAugment({ maxRotation: -5 }), /maxRotation must be a finite number ≥ 0, found -5/);
  assert.throws(() => randomShiftAugment({ maxShift: NaN }), /maxShift must be a finite number ≥ 0, found NaN/);
});

test('randomShiftAugment moves the image by whole pixels', () => {
  const [H, W, C] = [6, 6, 1];
  const img = new Float32Array(H * W);
  img[3 * W + 3] = 0.5;
  randomShiftAugment({ maxShift: 2, brightness: 0 })(img, 1, [H, W, C], createRng(11));
  const at = img.findIndex((v) => v === 0.5);
  assert.ok(at >= 0 && img.filter((v) => v !== 0).length === 1, 'one pixel, value kept');
  assert.ok(Math.abs(Math.floor(at / W) - 3) <= 2 && Math.abs((at % W) - 3) <= 2, 'within the shift range');
});
