import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../lib/engine/backend';
import { dknnGuidedAttack, meanOfClassAttack, targetClasses } from '../../lib/attacks/dknn-attack';
import { craftAdversarial } from '../../lib/attacks/craft';
import { fgsmAttack } from '../../lib/attacks/attack';
import { DkNN } from '../../lib/dknn/dknn';
import { trainModel } from '../../lib/training/train';
import { blobs, fakePrediction, tinyModel } from '../helpers/tiny';

test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});

/** Blobs scaled into [0, 1] (the attacks clip to the box). */
function boxed(n: number, seed: number) {
  const d = blobs(n, seed, 0.3);
  return { ...d, images: d.images.map((v) => Math.min(1, Math.max(0, (v + 0.5) / 2))), pixelRange: [0, 1] as const };
}

test(
  'the guided attack on the DkNN brings its accuracy down with more credible adversarials than FGSM at the same ε, inside the ε-ball and the box',
  { timeout: 120_000 },
  async () => {
    const model = tinyModel(21);
    const train = boxed(150, 1);
    await trainModel(model, { ...train, numClasses: 3 }, { epochs: 15, batchSize: 30, learningRate: 0.03, seed: 1 });
    const dknn = new DkNN(model, {
      layers: ['flat', 'hidden', 'logits'],
      k: 10,
      cacheDir: false,
      formula: 'conformal',
      onWarning: () => undefined,
    });
    await dknn.fit(train);
    await dknn.calibrate(boxed(60, 2));
    const x = boxed(30, 3);
    const clean = await dknn.predict(x);
    const acc = (p: Int32Array) => p.filter((v, i) => v === x.labels[i]).length / x.n;
    assert.ok(acc(clean.predictions) >= 0.9, `clean DkNN accuracy ${acc(clean.predictions)}`);
    const eps = 0.3;
    const before = tf.memory().numTensors;
    const opts = { eps, steps: 60, guides: 10, batchSize: 16, clean, cache: false as const };
    const guided = await dknnGuidedAttack(dknn, x, { train, ...opts, workers: 1 });
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
    const onTwo = await dknnGuidedAttack(dknn, x, { train, ...opts, workers: 2 });
    assert.deepEqual(onTwo.images, guided.images, 'identical images on 2 worker threads');
    const dir = mkdtempSync(join(tmpdir(), 'guided-'));
    const first = await dknnGuidedAttack(dknn, x, { train, ...opts, cache: dir });
    const again = await dknnGuidedAttack(dknn, x, { train, ...opts, cache: dir });
    assert.deepEqual([first.cached, again.cached], [false, true], 'the second run is read from the cache');
    assert.deepEqual(again.images, guided.images);
    const other = await dknnGuidedAttack(dknn, x, { train, ...opts, steps: 61, cache: dir });
    assert.equal(other.cached, false, 'other options are another entry');
    rmSync(dir, { recursive: true, force: true });
    for (let i = 0; i < guided.images.length; i++) {
      assert.ok(guided.images[i] >= 0 && guided.images[i] <= 1, 'inside the box');
      assert.ok(Math.abs(guided.images[i] - x.images[i]) <= eps + 1e-6, 'inside the ε-ball');
    }
    const fgsm = await craftAdversarial(model, x, { attack: fgsmAttack({ eps }), cache: false });
    const onGuided = await dknn.predict(guided);
    const onFgsm = await dknn.predict(fgsm);
    const meanCred = (p: Float64Array) => p.reduce((a, v) => a + v, 0) / p.length;
    assert.ok(
      acc(onGuided.predictions) < 0.5,
      `DkNN accuracy under the guided attack ${acc(onGuided.predictions)} (clean ${acc(clean.predictions)})`,
    );
    assert.ok(
      meanCred(onGuided.credibility) > meanCred(onFgsm.credibility),
      `mean credibility: guided ${meanCred(onGuided.credibility)} vs FGSM ${meanCred(onFgsm.credibility)} (FGSM accuracy ${acc(onFgsm.predictions)})`,
    );
    await assert.rejects(
      dknnGuidedAttack(dknn, x, { train, eps, guideLayer: 'nope', clean, cache: false }),
      /guideLayer must be one of the DkNN's layers \["flat","hidden","logits"\], got "nope"/,
    );
    await assert.rejects(
      dknnGuidedAttack(dknn, x, { train, eps, steepness: 0, clean, cache: false }),
      /steepness must be a positive number, got 0/,
    );
    await assert.rejects(
      dknnGuidedAttack(dknn, x, { train, eps, checkpoints: [1.5], clean, cache: false }),
      /checkpoints must be shares of the steps in \(0, 1\], got \[1.5\]/,
    );
    const zero = await dknnGuidedAttack(dknn, x, { train, eps: 0, steps: 3, guides: 5, clean, cache: false });
    assert.deepEqual(zero.images, x.images, 'ε = 0 returns the inputs unchanged');
    const base = await meanOfClassAttack(dknn, x, { train, eps, clean: clean });
    assert.ok(base.images.every((v, i) => Math.abs(v - x.images[i]) <= eps + 1e-6 && v >= 0 && v <= 1));
    assert.deepEqual(base.targets, guided.targets, 'both aim at the same classes');
    model.dispose();
  },
);

test('targetClasses picks the wrong class with the most neighbor votes, lowest on ties', () => {
  const p = fakePrediction([
    { pred: 0, cred: 1, dnn: 0, dnnConf: 1 },
    { pred: 2, cred: 1, dnn: 2, dnnConf: 1 },
  ]);
  p.knnCounts.set([5, 3, 3, /**/ 1, 0, 9]);
  assert.deepEqual(Array.from(targetClasses(p)), [1, 0]);
});
