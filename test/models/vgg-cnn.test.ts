/**
 * The VGG-style zoo network (lib/models/vgg-cnn.ts, zoo entry gtsrb-vgg): layer shapes the DkNN
 * reads, seeded He initialization, and a training step through max-pool and dense gradients.
 *
 *   node --import tsx --test test/models/vgg-cnn.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { dknnMetadata } from '../../lib/models/metadata';
import { createVggCnn, VGG_CNN_DKNN_LAYERS } from '../../lib/models/vgg-cnn';
import { createModel } from '../../lib/models/zoo';

test('gtsrb-vgg: the DkNN layers and their shapes, standardisation first, logits for 43 classes', async () => {
  await initBackend();
  const model = createModel({ name: 'gtsrb-vgg', args: { seed: 2 } });
  try {
    assert.deepEqual(dknnMetadata(model)?.layers, [...VGG_CNN_DKNN_LAYERS]);
    const shapes = VGG_CNN_DKNN_LAYERS.map((name) => JSON.stringify(model.getLayer(name).outputShape));
    assert.deepEqual(shapes, ['[null,16,16,32]', '[null,8,8,64]', '[null,4,4,128]', '[null,256]', '[null,43]']);
    assert.equal(model.layers[0]!.name, 'Standardize');
    assert.deepEqual(model.inputs[0]!.shape, [null, 32, 32, 3]);
  } finally {
    model.dispose();
  }
});

test('createVggCnn: the same seed gives the same weights, another seed others; kernels have the He scale, biases 0', () => {
  const a = createVggCnn({
    seed: 5,
    height: 16,
    width: 16,
    channels: 1,
    numClasses: 4,
    filters: [8, 8, 16],
    hidden: 32,
  });
  const b = createVggCnn({
    seed: 5,
    height: 16,
    width: 16,
    channels: 1,
    numClasses: 4,
    filters: [8, 8, 16],
    hidden: 32,
  });
  const c = createVggCnn({
    seed: 6,
    height: 16,
    width: 16,
    channels: 1,
    numClasses: 4,
    filters: [8, 8, 16],
    hidden: 32,
  });
  try {
    const values = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(values(a), values(b));
    assert.notDeepEqual(values(a), values(c));
    const kernel = a.getLayer('Conv2b').getWeights()[0]!; // 3×3×8 fan-in = 72
    const v = Array.from(kernel.dataSync() as Float32Array);
    const sd = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    assert.ok(Math.abs(sd - Math.sqrt(2 / 72)) < 0.03, `He scale: sd ${sd} vs ${Math.sqrt(2 / 72)}`);
    assert.ok(
      Array.from(a.getLayer('Dense').getWeights()[1]!.dataSync() as Float32Array).every((x) => x === 0),
      'biases start at 0',
    );
  } finally {
    [a, b, c].forEach((m) => m.dispose());
  }
});

test('createVggCnn trains: one Adam step lowers the loss on a fixed batch (max-pool and dense gradients)', async () => {
  await initBackend();
  const model = createVggCnn({
    seed: 1,
    height: 8,
    width: 8,
    channels: 3,
    numClasses: 3,
    filters: [8, 8, 8],
    hidden: 16,
  });
  const x = tf.randomUniform([12, 8, 8, 3], 0, 1, 'float32', 7);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], 'int32'), 3);
  const optimizer = tf.train.adam(0.01);
  const loss = () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar;
  try {
    const before = tf.tidy(() => loss().dataSync()[0]!);
    for (let i = 0; i < 5; i++)
      tf.tidy(() => {
        optimizer.minimize(loss);
      });
    const after = tf.tidy(() => loss().dataSync()[0]!);
    assert.ok(Number.isFinite(after) && after < before, `loss ${before} → ${after}`);
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
});
