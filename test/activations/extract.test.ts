import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { extractActivations, layerDims } from '../../lib/activations/extract';
import { initBackend } from '../../lib/engine/backend';
import { createMnistCnn } from '../../lib/models/mnist-cnn';
import { createRng } from '../../lib/util/random';

/** n random 28×28×1 images in [0, 1]. */
function randomImages(n: number, seed: number) {
  const rng = createRng(seed);
  const images = Float32Array.from({ length: n * 784 }, () => rng.next());
  return { images, n, height: 28, width: 28, channels: 1 };
}

/** Direct run: outputs of the named layers for images [start, end), via model.execute on one tensor. */
function direct(
  model: tf.LayersModel,
  data: ReturnType<typeof randomImages>,
  names: string[],
  start: number,
  end: number,
): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(data.images.slice(start * 784, end * 784), [end - start, 28, 28, 1]);
    let h: tf.Tensor = x;
    const out = new Map<string, Float32Array>();
    for (const layer of model.layers) {
      h = layer.apply(h) as tf.Tensor;
      if (names.includes(layer.name)) out.set(layer.name, h.dataSync() as Float32Array);
    }
    return names.map((n) => out.get(n)!);
  });
}

test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});

test('the MNIST CNN layers flatten to 12544, 3200, 128 and 10 values', async () => {
  const model = createMnistCnn({ seed: 1 });
  assert.deepEqual(layerDims(model, ['ReLU1', 'ReLU3', 'ReLU5', 'logits']), [12544, 3200, 128, 10]);
  const acts = await extractActivations(model, randomImages(3, 1), { layers: ['ReLU1', 'ReLU3', 'ReLU5', 'logits'] });
  assert.equal(acts.n, 3);
  assert.deepEqual(
    acts.layers.map((l) => [l.name, l.dim, l.values.length]),
    [
      ['ReLU1', 12544, 3 * 12544],
      ['ReLU3', 3200, 3 * 3200],
      ['ReLU5', 128, 3 * 128],
      ['logits', 10, 3 * 10],
    ],
  );
  model.dispose();
});

test('activations equal a direct layer-by-layer run, across batch boundaries and sub-ranges', async () => {
  const model = createMnistCnn({ seed: 2 });
  const data = randomImages(7, 2);
  const names = ['ReLU3', 'logits', 'ReLU1']; // any order
  const want = direct(model, data, names, 0, 7);
  for (const batchSize of [1, 3, 7, 100]) {
    const acts = await extractActivations(model, data, { layers: names, batchSize });
    acts.layers.forEach((l, i) => {
      assert.equal(l.name, names[i]);
      let maxDiff = 0;
      for (let j = 0; j < want[i].length; j++) maxDiff = Math.max(maxDiff, Math.abs(l.values[j] - want[i][j]));
      assert.ok(maxDiff <= 1e-5, `batch ${batchSize}, ${l.name}: max difference ${maxDiff}`);
    });
  }
  // A sub-range [2, 6) with batches of 3 (one full, one partial) gives rows 2..5 of the full run.
  const part = await extractActivations(model, data, { layers: ['ReLU5'], start: 2, end: 6, batchSize: 3 });
  const full = direct(model, data, ['ReLU5'], 0, 7)[0];
  assert.equal(part.n, 4);
  for (let j = 0; j < 4 * 128; j++) assert.ok(Math.abs(part.layers[0].values[j] - full[2 * 128 + j]) <= 1e-5);
  model.dispose();
});

test('caller-provided arrays are filled and returned as views of the right length', async () => {
  const model = createMnistCnn({ seed: 3 });
  const data = randomImages(5, 3);
  const big = new Float32Array(10 * 128).fill(-7);
  const acts = await extractActivations(model, data, {
    layers: ['ReLU5', 'logits'],
    into: [big, undefined],
    start: 1,
    end: 4,
  });
  assert.equal(acts.layers[0].values.buffer, big.buffer, 'written into the given array');
  assert.equal(acts.layers[0].values.length, 3 * 128);
  assert.equal(big[3 * 128], -7, 'nothing written past n × dim');
  const again = await extractActivations(model, data, { layers: ['ReLU5'], start: 1, end: 4 });
  assert.deepEqual(acts.layers[0].values, again.layers[0].values);
  await assert.rejects(
    extractActivations(model, data, { layers: ['ReLU5'], into: [new Float32Array(10)] }),
    /into\[0\] \(layer ReLU5\) must be a Float32Array of at least 5 × 128 = 640 values, found 10/,
  );
  model.dispose();
});

test('progress is reported after every batch', async () => {
  const model = createMnistCnn({ seed: 4 });
  const events: string[] = [];
  await extractActivations(model, randomImages(5, 4), {
    layers: ['logits'],
    batchSize: 2,
    onProgress: (e) => events.push(`${e.stage} ${e.done}/${e.total} ${e.unit}`),
  });
  assert.deepEqual(events, ['extract logits 2/5 img', 'extract logits 4/5 img', 'extract logits 5/5 img']);
  model.dispose();
});

test('an unknown layer name is refused with the list of the model layers', async () => {
  const model = createMnistCnn({ seed: 5 });
  await assert.rejects(
    extractActivations(model, randomImages(1, 5), { layers: ['ReLU1', 'ReLU2'] }),
    /unknown layer "ReLU2"; the model's layers are Conv2D0, ReLU1, Conv2D2, ReLU3, Conv2D4, ReLU5, Flatten6, logits/,
  );
  await assert.rejects(extractActivations(model, randomImages(1, 5), { layers: [] }), /expected at least 1 layer name/);
  await assert.rejects(
    extractActivations(model, randomImages(1, 5), { layers: ['logits', 'logits'] }),
    /layer "logits" is listed twice/,
  );
  await assert.rejects(
    extractActivations(model, randomImages(2, 5), { layers: ['logits'], end: 3 }),
    /bad range \[0, 3\) for 2 images/,
  );
  await assert.rejects(
    extractActivations(model, { ...randomImages(2, 5), n: 3 }, { layers: ['logits'] }),
    /expected 3×28×28×1 = 2352 pixel values, found 1568/,
  );
  await assert.rejects(
    extractActivations(
      model,
      { images: new Float32Array(2 * 256), n: 2, height: 16, width: 16, channels: 1 },
      { layers: ['logits'] },
    ),
    /the model takes input of shape \[28, 28, 1\], the images are \[16, 16, 1\]/,
  );
  model.dispose();
});

test('no tensor outlives an extraction and the model keeps its weights', async () => {
  const model = createMnistCnn({ seed: 6 });
  const data = randomImages(9, 6);
  const before = tf.memory().numTensors;
  const first = await extractActivations(model, data, { layers: ['ReLU1', 'logits'], batchSize: 4 });
  for (let i = 0; i < 3; i++)
    await extractActivations(model, data, { layers: ['ReLU1', 'ReLU3', 'logits'], batchSize: 4 });
  assert.equal(tf.memory().numTensors, before, 'tensor count back to its baseline');
  const again = await extractActivations(model, data, { layers: ['ReLU1', 'logits'], batchSize: 4 });
  assert.deepEqual(again.layers[1].values, first.layers[1].values, 'weights untouched by the sub-models');
  model.dispose();
});
