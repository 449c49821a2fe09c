/**
 * loadOnnxModel (issue 31, part 1): loading, the candidate layers, NCHW and NHWC inputs, a softmax
 * head, activations against the tfjs model, clear errors, the graph edit keeping unknown fields,
 * and the DkNN on the exported MNIST CNN against the committed tfjs model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { loadOnnxModel, type OnnxModel } from '../../lib/models/onnx';
import { readOnnxGraph, withGraphOutputs } from '../../lib/models/onnx-proto';
import { loadModel } from '../../lib/models/format';
import { extractActivations } from '../../lib/activations/extract';
import { DkNN } from '../../lib/dknn/dknn';
import { loadMnist, dataDir } from '../../lib/data/datasets';
import { subset } from '../../lib/data/split';
import { readSha256Sums, sha256File } from '../../lib/data/checksum';
import { pretrainedPath } from '../../lib/models/zoo';
import type { ImageBatch } from '../../lib/data/types';
import { createRng } from '../../lib/util/random';
import { tinyConvNet, unknownField } from './onnx-fixtures';

const root = resolve(__dirname, '..', '..');
const ONNX_DIR = join(root, 'data', 'pretrained', 'onnx');
const MNIST_ONNX = join(ONNX_DIR, 'mnist-cnn.onnx');
const RESNET = join(ONNX_DIR, 'resnet-mnist.onnx');
const RESNET_SOFTMAX = join(ONNX_DIR, 'resnet-mnist-softmax.onnx');
/** The exported MNIST CNN's tensors of the tfjs model's DkNN layers ReLU1, ReLU3, ReLU5, logits. */
const MNIST_ONNX_LAYERS = ['/ReLU1/Relu_output_0', '/ReLU3/Relu_output_0', '/ReLU5/Relu_output_0', 'logits'];
const MNIST_TFJS_LAYERS = ['ReLU1', 'ReLU3', 'ReLU5', 'logits'];

let tmp: string;
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
  tmp = mkdtempSync(join(tmpdir(), 'dknn-onnx-'));
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

function randomImages(n: number, h: number, w: number, c: number, seed: number): ImageBatch {
  const rng = createRng(seed);
  return {
    images: Float32Array.from({ length: n * h * w * c }, () => rng.next()),
    n,
    height: h,
    width: w,
    channels: c,
  };
}

/** Largest |a − b| over the largest |a|: the disagreement relative to the layer's scale. */
function relativeGap(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let gap = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    gap = Math.max(gap, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return gap / Math.max(scale, 1e-30);
}

/** Float32 sums in another order differ by a few ulps of the layer's largest values: 1e-5 of it is far above that. */
const TOLERANCE = 1e-5;

test('the committed ONNX fixtures are listed in data/SHA256SUMS with their sha256', async () => {
  const sums = await readSha256Sums(join(root, 'data', 'SHA256SUMS'));
  for (const name of ['mnist-cnn.onnx', 'resnet-mnist.onnx', 'resnet-mnist-softmax.onnx']) {
    const listed = sums.get(`pretrained/onnx/${name}`);
    assert.ok(listed, `data/SHA256SUMS lists no pretrained/onnx/${name}`);
    assert.equal(await sha256File(join(ONNX_DIR, name)), listed, name);
  }
});

test('the exported MNIST CNN loads: NCHW input, its node outputs as layers with channels-last shapes, the logits found', async () => {
  const sums = await readSha256Sums(join(root, 'data', 'SHA256SUMS'));
  const m = await loadOnnxModel(MNIST_ONNX, { sha256: sums.get('pretrained/onnx/mnist-cnn.onnx') });
  assert.equal(m.info.layout, 'NCHW');
  assert.deepEqual(m.imageShape, [28, 28, 1]);
  assert.equal(m.logits, 'logits');
  assert.equal(m.numClasses, 10);
  for (const l of MNIST_ONNX_LAYERS) assert.ok(m.layers().includes(l), `${l} in ${m.layers().join(', ')}`);
  const byName = new Map(m.layerInfo().map((l) => [l.name, l]));
  assert.deepEqual(byName.get('/ReLU1/Relu_output_0'), {
    name: '/ReLU1/Relu_output_0',
    op: 'Relu',
    shape: [14, 14, 64],
    dim: 12544,
  });
  assert.deepEqual(byName.get('/ReLU3/Relu_output_0')?.shape, [5, 5, 128]);
  assert.deepEqual(byName.get('logits')?.shape, [10]);
  await m.close();
});

test('activations of the exported MNIST CNN equal the tfjs model’s on 20 test images (within 1e-5 of each layer’s scale)', async () => {
  const mnist = await loadMnist();
  const x = subset(mnist.test, { start: 100, end: 120 });
  const onnx = await loadOnnxModel(MNIST_ONNX, { threads: 1 });
  const tfjs = (await loadModel(pretrainedPath('mnist-cnn', dataDir()))).model;
  const a = await extractActivations(tfjs, x, { layers: MNIST_TFJS_LAYERS, batchSize: 7 });
  const b = await extractActivations(onnx, x, { layers: MNIST_ONNX_LAYERS, batchSize: 7 });
  for (let l = 0; l < 4; l++) {
    const gap = relativeGap(a.layers[l].values, b.layers[l].values);
    assert.ok(gap <= TOLERANCE, `${MNIST_TFJS_LAYERS[l]}: relative gap ${gap}`);
  }
  // Any thread count and batch size give the same values.
  const two = await loadOnnxModel(MNIST_ONNX, { threads: 2 });
  const c = await extractActivations(two, x, { layers: MNIST_ONNX_LAYERS, batchSize: 20 });
  for (let l = 0; l < 4; l++) assert.deepEqual(c.layers[l].values, b.layers[l].values, MNIST_ONNX_LAYERS[l]);
  tfjs.dispose();
  await onnx.close();
  await two.close();
});

for (const layout of ['NCHW', 'NHWC'] as const) {
  test(`an ${layout} model: layout told from its input, rows channels-last, equal to its tfjs twin on 3-channel 6×5 images`, async () => {
    const { onnx, tfjs } = tinyConvNet({ layout });
    const m = await loadOnnxModel(file(`tiny-${layout}.onnx`, onnx), { threads: 1 });
    assert.equal(m.info.layout, layout);
    assert.deepEqual(m.imageShape, [6, 5, 3]);
    assert.deepEqual(m.layerInfo().find((l) => l.name === 'relu_out')?.shape, [6, 5, 4]);
    const x = randomImages(9, 6, 5, 3, 1);
    const a = await extractActivations(tfjs, x, { layers: ['relu', 'logits'], batchSize: 4 });
    const b = await extractActivations(m, x, { layers: ['relu_out', 'logits'], batchSize: 4 });
    for (let l = 0; l < 2; l++) {
      const gap = relativeGap(a.layers[l].values, b.layers[l].values);
      assert.ok(gap <= TOLERANCE, `layer ${l}: relative gap ${gap}`);
    }
    tfjs.dispose();
    await m.close();
  });
}

test('a model with a fixed batch size runs any number of images (the last batch padded)', async () => {
  const { onnx, tfjs } = tinyConvNet({ layout: 'NCHW', batch: 4 });
  const m = await loadOnnxModel(file('tiny-batch4.onnx', onnx), { threads: 1 });
  const x = randomImages(7, 6, 5, 3, 2);
  const a = await extractActivations(tfjs, x, { layers: ['logits'] });
  const b = await extractActivations(m, x, { layers: ['logits'], batchSize: 5 });
  assert.ok(relativeGap(a.layers[0].values, b.layers[0].values) <= TOLERANCE);
  tfjs.dispose();
  await m.close();
});

test('an input whose layout its shape does not tell is refused until layout is given', async () => {
  const { onnx, tfjs } = tinyConvNet({ layout: 'NCHW', height: 4, width: 4, channels: 3 });
  const path = file('tiny-square.onnx', onnx);
  await assert.rejects(
    loadOnnxModel(path),
    /cannot tell whether the input \[N, 3, 4, 4\] is NCHW or NHWC; pass layout: 'NCHW' or 'NHWC'/,
  );
  const m = await loadOnnxModel(path, { layout: 'NCHW', threads: 1 });
  assert.deepEqual(m.imageShape, [4, 4, 3]);
  tfjs.dispose();
  await m.close();
});

test('a softmax head: the logits are its input, with a warning, and equal the plain model’s', async () => {
  const warnings: string[] = [];
  const { onnx, tfjs } = tinyConvNet({ layout: 'NCHW', softmax: true });
  const m = await loadOnnxModel(file('tiny-softmax.onnx', onnx), { threads: 1, onWarning: (w) => warnings.push(w) });
  assert.equal(m.logits, 'logits');
  assert.deepEqual(warnings, [
    'tiny-softmax.onnx: the tensor probs is a Softmax of logits; dknn-ts uses logits as the logits (the DkNN and the attacks apply the softmax themselves)',
  ]);
  tfjs.dispose();
  await m.close();

  const seen: string[] = [];
  const headed = await loadOnnxModel(RESNET_SOFTMAX, { onWarning: (w) => seen.push(w) });
  const plain = await loadOnnxModel(RESNET);
  assert.equal(seen.length, 1);
  assert.match(seen[0], /the tensor probabilities is a Softmax of (\S+); dknn-ts uses \1 as the logits/);
  assert.notEqual(headed.logits, 'probabilities');
  const mnist = await loadMnist();
  const x = subset(mnist.test, { end: 10 });
  const a = await extractActivations(plain, x, { layers: [plain.logits] });
  const b = await extractActivations(headed, x, { layers: [headed.logits] });
  assert.ok(relativeGap(a.layers[0].values, b.layers[0].values) <= TOLERANCE);
  let sums = 0;
  for (let i = 0; i < 10; i++)
    sums += Math.abs(b.layers[0].values.subarray(10 * i, 10 * i + 10).reduce((s, v) => s + v, 0) - 1);
  assert.ok(sums > 0.1, 'the logits are not probabilities');
  await headed.close();
  await plain.close();
});

test('bad files and names get errors naming what was expected and what was found', async () => {
  await assert.rejects(loadOnnxModel(join(tmp, 'absent.onnx')), (e: Error) => e.message.includes('absent.onnx'));
  const text = file('notes.onnx', new TextEncoder().encode('this is not a model\n'));
  await assert.rejects(loadOnnxModel(text), /notes\.onnx: expected an ONNX model/);
  const old = file('opset11.onnx', tinyConvNet({ layout: 'NCHW', opset: 11 }).onnx);
  await assert.rejects(
    loadOnnxModel(old),
    /opset11\.onnx: expected an ONNX model of opset 13 or later, found opset 11/,
  );
  await assert.rejects(
    loadOnnxModel(MNIST_ONNX, { sha256: '0'.repeat(64) }),
    /SHA-256 mismatch: expected 0{64}, found [0-9a-f]{64}/,
  );
  await assert.rejects(
    loadOnnxModel(MNIST_ONNX, { logits: 'scores' }),
    /logits: no tensor "scores"; its layers are .*\/ReLU1\/Relu_output_0.*logits/,
  );
  await assert.rejects(
    loadOnnxModel(MNIST_ONNX, { layers: ['ReLU1'] }),
    /layers: no tensor "ReLU1"; its layers are \/Conv2D0\/Conv_output_0, /,
  );
  const m = await loadOnnxModel(MNIST_ONNX);
  assert.throws(
    () => new DkNN(m, { layers: ['/ReLU1/Relu_output_0', 'ReLU3'], cacheDir: false }),
    /DkNN: mnist-cnn\.onnx has no layer "ReLU3"; its layers are \/Conv2D0\/Conv_output_0, /,
  );
  assert.throws(
    () => new DkNN(m, { cacheDir: false }),
    /DkNN: pass layers \(the model records no DkNN layers\); its layers are \/Conv2D0/,
  );
  const dknn = new DkNN(m, { layers: ['logits'], cacheDir: false });
  assert.throws(() => dknn.model, /DkNN\.model: expected a tfjs model, found the ONNX model mnist-cnn\.onnx/);
  assert.equal(dknn.classifier, m);
  const wrong = randomImages(2, 28, 28, 3, 3);
  await assert.rejects(
    extractActivations(m, wrong, { layers: ['logits'] }),
    /the model takes input of shape \[28, 28, 1\], the images are \[28, 28, 3\]/,
  );
  await m.close();
});

test('exposing tensors appends to the graph and keeps every byte it does not know (unknown fields survive)', async () => {
  const { onnx, tfjs } = tinyConvNet({ layout: 'NCHW' });
  tfjs.dispose();
  // An unknown field at the model's top level, before and after the graph.
  const model = Uint8Array.from([...unknownField(7), ...onnx, ...unknownField(8)]);
  const before = readOnnxGraph(model, 'model');
  const edited = withGraphOutputs(model, ['relu_out', 'logits'], new Set(['logits']), new Set(['relu_out']));
  const find = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).indexOf(Buffer.from(needle));
  assert.equal(find(edited, unknownField(7)), 0);
  assert.equal(find(edited, unknownField(8)), edited.length - unknownField(8).length);
  const after = readOnnxGraph(edited, 'edited');
  assert.deepEqual(
    after.outputs.map((o) => o.name),
    ['logits', 'relu_out::dknn-nhwc'],
  );
  assert.deepEqual(after.nodes.slice(0, before.nodes.length), before.nodes);
  assert.deepEqual(after.nodes.at(-1), {
    name: 'relu_out::dknn-nhwc',
    opType: 'Transpose',
    domain: '',
    inputs: ['relu_out'],
    outputs: ['relu_out::dknn-nhwc'],
    perm: [0, 2, 3, 1],
  });
  // The runtime takes the edited model, unknown fields and all.
  const m = await loadOnnxModel(file('unknown-fields.onnx', model), { threads: 1 });
  const x = randomImages(2, 6, 5, 3, 4);
  const acts = await extractActivations(m, x, { layers: ['relu_out'] });
  assert.equal(acts.layers[0].values.length, 2 * 6 * 5 * 4);
  await m.close();
  assert.ok(readFileSync(join(tmp, 'unknown-fields.onnx')).equals(Buffer.from(model)), 'the file is only read');
});

test('the DkNN on the exported MNIST CNN gives the tfjs model’s predictions and credibilities (1,000 training images)', async () => {
  const mnist = await loadMnist();
  const train = subset(mnist.train, { end: 1000 });
  const calib = subset(mnist.test, { end: 200 });
  const x = subset(mnist.test, { start: 750, end: 1050 });
  const tfjs = (await loadModel(pretrainedPath('mnist-cnn', dataDir()))).model;
  const onnx: OnnxModel = await loadOnnxModel(MNIST_ONNX, { layers: MNIST_ONNX_LAYERS });
  const run = async (dknn: DkNN) => {
    await dknn.fit(train);
    await dknn.calibrate(calib);
    return dknn.predict(x);
  };
  const cacheDir = join(tmp, 'cache');
  const a = await run(new DkNN(tfjs, { k: 75, cacheDir: false }));
  const onnxDknn = new DkNN(onnx, { k: 75, cacheDir });
  const b = await run(onnxDknn);
  assert.deepEqual(onnxDknn.info().dims, [12544, 3200, 128, 10]);
  assert.deepEqual(b.dnnPredictions, a.dnnPredictions);
  assert.deepEqual(b.predictions, a.predictions);
  assert.deepEqual(b.credibility, a.credibility);
  assert.deepEqual(b.confidence, a.confidence);
  // The activation cache keys the ONNX model by its file: a second fit reads every layer from it.
  assert.deepEqual(onnxDknn.info().cache.written, MNIST_ONNX_LAYERS);
  await onnxDknn.fit(train);
  assert.deepEqual(onnxDknn.info().cache.hits, MNIST_ONNX_LAYERS);
  tfjs.dispose();
  await onnx.close();
});

test('tf stays clean: an ONNX extraction makes no tfjs tensor', async () => {
  const before = tf.memory().numTensors;
  const m = await loadOnnxModel(RESNET, { threads: 1 });
  await extractActivations(m, randomImages(3, 28, 28, 1, 5), { layers: m.layers().slice(0, 3) });
  assert.equal(tf.memory().numTensors, before);
  await m.close();
});
