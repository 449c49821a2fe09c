import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { headActivation, logitsModel } from '../../lib/models/logits';
import { predictLogits } from '../../lib/models/predict';
import { DkNN } from '../../lib/dknn/dknn';
import { fgsmAttack } from '../../lib/attacks/attack';
import { craftAdversarial } from '../../lib/attacks/craft';
import { blobs, tinyModel } from '../helpers/tiny';

const root = resolve(__dirname, '..', '..');
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});

/** `tinyModel(seed)` with `head` put on its logits: 'dense' (softmax inside the last Dense), or a separate layer. */
function withHead(
  seed: number,
  head: 'dense-softmax' | 'dense-sigmoid' | 'activation' | 'softmax-layer',
): tf.LayersModel {
  const base = tinyModel(seed);
  const m = tf.sequential({ name: `headed_${seed}_${head}` });
  m.add(tf.layers.flatten({ name: 'flat', inputShape: [4, 4, 1] }));
  m.add(tf.layers.dense({ name: 'hidden', units: 8, activation: 'relu' }));
  const activation = head === 'dense-softmax' ? 'softmax' : head === 'dense-sigmoid' ? 'sigmoid' : 'linear';
  m.add(tf.layers.dense({ name: 'logits', units: 3, activation }));
  if (head === 'activation') m.add(tf.layers.activation({ name: 'probs', activation: 'softmax' }));
  if (head === 'softmax-layer') m.add(tf.layers.softmax({ name: 'probs' }));
  for (const name of ['hidden', 'logits']) m.getLayer(name).setWeights(base.getLayer(name).getWeights());
  base.dispose();
  return m;
}

test("a softmax or sigmoid head is detected and skipped: the logits are the plain model's, said once", () => {
  const plain = tinyModel(3);
  const data = blobs(12, 1);
  const expected = predictLogits(plain, data);
  assert.equal(headActivation(plain), null);
  assert.equal(logitsModel(plain, { onWarning: () => assert.fail('no warning for a logits model') }), plain);
  for (const head of ['dense-softmax', 'dense-sigmoid', 'activation', 'softmax-layer'] as const) {
    const m = withHead(3, head);
    assert.equal(headActivation(m), head === 'dense-sigmoid' ? 'sigmoid' : 'softmax', head);
    const probs = m.predict(tf.tensor4d(data.images, [12, 4, 4, 1])) as tf.Tensor;
    assert.ok(
      Math.abs((probs.sum(1).dataSync()[0] ?? 0) - 1) < 1e-5 || head === 'dense-sigmoid',
      'the model gives probabilities',
    );
    probs.dispose();
    const warnings: string[] = [];
    const l = logitsModel(m, { onWarning: (w) => warnings.push(w) });
    assert.notEqual(l, m);
    assert.equal(logitsModel(m, { onWarning: (w) => warnings.push(w) }), l, 'one conversion per model');
    assert.equal(warnings.length, 1, `${head}: one warning`);
    assert.match(warnings[0]!, /applies a (softmax|sigmoid); dknn-ts uses its input as the logits/);
    assert.deepEqual([...predictLogits(m, data)], [...expected], `${head}: predictLogits gives the logits`);
    assert.ok(l.getLayer('logits'), 'the layer names stay valid');
  }
});

test('a softmax inside another kind of last layer is refused with how to fix the model', () => {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 3, kernelSize: 4, activation: 'softmax', name: 'head' }));
  assert.throws(
    () => logitsModel(m),
    /last layer head \(Conv2D\) applies a softmax.*end the model with a linear layer/,
  );
});

test('the DkNN and the attacks on a softmax-head model give what they give on its logits model', async () => {
  const [train, calib, x] = [blobs(60, 1), blobs(30, 2), blobs(10, 3)];
  const run = async (model: tf.LayersModel) => {
    const warnings: string[] = [];
    const dknn = new DkNN(model, {
      layers: ['hidden', 'logits'],
      k: 5,
      cacheDir: false,
      onWarning: (w) => warnings.push(w),
    });
    await dknn.fit(train);
    await dknn.calibrate(calib);
    const p = await dknn.predict(x);
    const adv = await craftAdversarial(model, x, { attack: fgsmAttack({ eps: 0.3 }), cache: false, workers: 1 });
    return { p, adv: adv.images, warnings: warnings.filter((w) => /logits/.test(w)) };
  };
  const plain = await run(tinyModel(5));
  const headed = await run(withHead(5, 'dense-softmax'));
  assert.deepEqual([...headed.p.dnnConfidence], [...plain.p.dnnConfidence], 'one softmax, not two');
  assert.deepEqual([...headed.p.credibility], [...plain.p.credibility]);
  assert.deepEqual([...headed.adv], [...plain.adv], 'the attack differentiates the logits');
  assert.equal(headed.warnings.length, 1, 'the DkNN says what it did');
  assert.equal(plain.warnings.length, 0);
});

test('a model built before initBackend works: the engine starts on first use', () => {
  const script = [
    "import * as dk from 'dknn-ts';",
    'const tf = dk.tf;',
    'const m = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 3 })] });',
    'const before = tf.getBackend();',
    'await dk.initBackend();',
    'const y = m.predict(tf.ones([2, 4, 4, 1])) as any;',
    'console.log(JSON.stringify({ before, after: tf.getBackend(), shape: y.shape, finite: [...y.dataSync()].every(Number.isFinite) }));',
  ].join('\n');
  const out = execFileSync(join(root, 'node_modules', '.bin', 'tsx'), ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, DKNN_BACKEND: '' },
  });
  const r = JSON.parse(out.trim().split('\n').at(-1)!);
  assert.deepEqual(r, { before: 'cpu', after: 'wasm', shape: [2, 3], finite: true });
});
