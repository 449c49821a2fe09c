import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../lib/engine/backend';
import { dataDir } from '../../lib/data/datasets';
import { DkNN } from '../../lib/dknn/dknn';
import { loadModel, saveModel } from '../../lib/models/format';
import { dknnMetadata } from '../../lib/models/metadata';
import { createMnistCnn } from '../../lib/models/mnist-cnn';
import { ModelFormatError, modelHash } from '../../lib/models/weights';
import { createModel } from '../../lib/models/zoo';
import { createRng } from '../../lib/util/random';

const tmp = mkdtempSync(join(tmpdir(), 'dknn-format-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});

test('a saved model is a tfjs LayersModel folder that loads back with identical weights, layers and record', async () => {
  const model = createModel({ name: 'mnist-cnn', args: { seed: 21 } });
  const path = await saveModel(join(tmp, 'm'), model, { record: { testAccuracy: 0.5 } });
  assert.equal(path, join(tmp, 'm', 'model.json'));
  const json = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
  assert.match(json.userDefinedMetadata.dknn.sha256, /^[0-9a-f]{64}$/);
  for (const p of [join(tmp, 'm'), path]) {
    const loaded = await loadModel(p);
    assert.equal(modelHash(loaded.model), modelHash(model));
    assert.deepEqual(loaded.record, { testAccuracy: 0.5 });
    assert.deepEqual(loaded.dknnLayers, ['ReLU1', 'ReLU3', 'ReLU5', 'logits']);
    assert.deepEqual(loaded.architecture, { name: 'mnist-cnn', args: { seed: 21 } });
    assert.equal(loaded.format, 'tfjs-layers');
    loaded.model.dispose();
  }
  model.dispose();
});

test('damage to the weights or to model.json, and a missing weights file, are refused with the file named', async () => {
  const model = createMnistCnn({ seed: 3 });
  const dir = join(tmp, 'd');
  const path = await saveModel(dir, model, { record: { note: 'x' } });
  const weights = readFileSync(join(dir, 'weights.bin'));
  const json = readFileSync(path, 'utf8');
  const flipped = Buffer.from(weights);
  flipped[1000] ^= 0x04;
  writeFileSync(join(dir, 'weights.bin'), flipped);
  await assert.rejects(
    loadModel(dir),
    (e: Error) => e instanceof ModelFormatError && e.message.startsWith(path) && /checksum mismatch/.test(e.message),
  );
  writeFileSync(join(dir, 'weights.bin'), weights);
  writeFileSync(path, json.replace('"note":"x"', '"note":"y"'));
  await assert.rejects(loadModel(dir), /checksum mismatch/, 'the metadata is covered too');
  writeFileSync(path, json.replace('"strides":[2,2]', '"strides":[1,1]'));
  await assert.rejects(loadModel(dir), /checksum mismatch/, 'and the topology');
  writeFileSync(path, json);
  writeFileSync(join(dir, 'weights.bin'), weights.subarray(0, 100));
  await assert.rejects(loadModel(dir), /expected \d+ bytes of weights, found 100/);
  rmSync(join(dir, 'weights.bin'));
  await assert.rejects(loadModel(dir), /its weights file .*weights.bin is missing/);
  await assert.rejects(loadModel(join(tmp, 'nothing')), /expected a tfjs model.json, found no file/);
  writeFileSync(join(tmp, 'junk.json'), '{"a":1}');
  await assert.rejects(
    loadModel(join(tmp, 'junk.json')),
    /expected a tfjs LayersModel \(modelTopology and weightsManifest\), found keys a/,
  );
  model.dispose();
});

test('the committed MNIST model loads with plain tf.loadLayersModel and gives its recorded test accuracy', async () => {
  // Only tfjs and Node here: the model folder is the ecosystem's format.
  const dir = join(dataDir(), 'pretrained', 'mnist-cnn');
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs = manifest.flatMap((g) => g.weights);
    const data = Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
    return [specs, data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)];
  });
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const idx = (f: string) => gunzipSync(readFileSync(join(dataDir(), 'mnist', f)));
  const images = idx('t10k-images-idx3-ubyte.gz').subarray(16);
  const labels = idx('t10k-labels-idx1-ubyte.gz').subarray(8);
  const x = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(images), [10000, 28, 28, 1]), 255));
  let correct = 0;
  for (let s = 0; s < 10000; s += 1000) {
    const pred = tf.tidy(() => tf.argMax(model.predict(x.slice(s, 1000)) as tf.Tensor, 1).dataSync());
    for (let i = 0; i < 1000; i++) if (pred[i] === labels[s + i]) correct++;
  }
  x.dispose();
  const recorded = (json.userDefinedMetadata.dknn.record as { testAccuracy: number }).testAccuracy;
  assert.equal(correct / 10000, recorded, `test accuracy ${correct / 10000} vs recorded ${recorded}`);
  model.dispose();
});

test('a legacy .dknnw file gets one line saying how to convert it, naming the file', async () => {
  const path = join(tmp, 'old.dknnw');
  writeFileSync(path, 'DKNNW001');
  await assert.rejects(loadModel(path), (e: unknown) => {
    assert.ok(e instanceof ModelFormatError);
    assert.equal(e.message.split('\n').length, 1);
    assert.match(
      e.message,
      /old\.dknnw: the single-file \.dknnw format of dknn-ts 0\.1 is no longer read; convert it once with dknn-ts at commit 7fa3e12/,
    );
    return true;
  });
});

test('a model built outside the zoo, with its own layer names, takes the same path: saved, loaded, DkNN on its recorded layers', async () => {
  const mlp = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [4, 4, 1], name: 'pixels' }),
      tf.layers.dense({
        units: 8,
        activation: 'relu',
        name: 'features',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.dense({ units: 3, name: 'scores', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  await saveModel(join(tmp, 'mlp'), mlp, { layers: ['pixels', 'features', 'scores'] });
  const { model, dknnLayers, architecture } = await loadModel(join(tmp, 'mlp'));
  assert.deepEqual(dknnLayers, ['pixels', 'features', 'scores']);
  assert.equal(architecture, null);
  const rng = createRng(3);
  const data = (n: number) => {
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 3);
    const images = Float32Array.from(
      { length: n * 16 },
      (_, j) => ((j % 16) % 3 === labels[Math.floor(j / 16)] ? 1 : 0) + 0.1 * rng.normal(),
    );
    return { images, labels, n, height: 4, width: 4, channels: 1, numClasses: 3 };
  };
  const dknn = new DkNN(model, { k: 5, cacheDir: false });
  assert.deepEqual(dknn.layers, ['pixels', 'features', 'scores'], 'the default layers come from the model');
  await dknn.fit(data(60));
  await dknn.calibrate(data(30));
  const test = data(30);
  const out = await dknn.predict(test);
  assert.equal(out.numClasses, 3);
  const correct = out.predictions.filter((p, i) => p === test.labels[i]).length;
  assert.ok(correct >= 27, `separable classes: ${correct} of 30 predicted`);
  assert.deepEqual(dknnMetadata(model).layers, ['pixels', 'features', 'scores']);
  model.dispose();
  mlp.dispose();
});
