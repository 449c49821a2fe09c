import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { ArtifactCache } from '../../lib/artifacts/cache';
import { attackFromSpec, fgsmAttack, hopSkipJumpAttack, squareAttack } from '../../lib/attacks/attack';
import { craftAdversarial } from '../../lib/attacks/craft';
import { square } from '../../lib/attacks/square';
import { dknnQueryFn, tensorQueryFn } from '../../lib/attacks/query';
import { logitsFn } from '../../lib/attacks/utils';
import { DkNN } from '../../lib/dknn/dknn';
import type { ProgressEvent } from '../../lib/util/progress';
import { blobs, tinyModel } from '../helpers/tiny';
import { noLeak, tinyCnn } from './helpers';
import { agreement, counting } from './query-helpers';
import { createRng } from '../../lib/util/random';

const tmp = mkdtempSync(join(tmpdir(), 'dknn-query-attacks-'));
let cnn: tf.LayersModel;
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
  cnn = tinyCnn(6);
});
test.after(() => {
  cnn.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

function images(n: number, seed: number) {
  const t = tf.randomUniform([n, 6, 6, 1], 0, 1, 'float32', seed);
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return { images: values, n, height: 6, width: 6, channels: 1 };
}

test('attack values: name, label, every option and the seed in the cache key, rebuilt from their spec', () => {
  const sq = squareAttack({ eps: 0.25, maxQueries: 500, seed: 3 });
  assert.equal(sq.name, 'square');
  assert.equal(sq.label, 'Square ε 0.25, L∞, 500 queries, p 0.05, seed 3');
  assert.deepEqual(
    Object.keys(sq.options).sort(),
    ['batchSize', 'clipMax', 'clipMin', 'code', 'eps', 'labels', 'maxQueries', 'pInit', 'queryCode', 'seed'].sort(),
  );
  assert.notEqual(
    JSON.stringify(sq.options),
    JSON.stringify(squareAttack({ eps: 0.25, maxQueries: 500, seed: 4 }).options),
  );
  const hsj = hopSkipJumpAttack({ eps: 0.25 });
  assert.equal(hsj.name, 'hop-skip-jump');
  assert.equal(hsj.options.norm, 'linf');
  assert.equal(hsj.options.maxQueries, 5000);
  assert.equal(hsj.options.seed, 0);
  for (const a of [sq, hsj]) assert.deepEqual(attackFromSpec(a.spec).options, a.options);
});

test('craftAdversarial crafts a query attack through the cache, with every image’s queries; a hit gives the same set', async () => {
  const data = images(9, 1);
  const cache = new ArtifactCache({ dir: join(tmp, 'a') });
  const attack = squareAttack({ eps: 0.3, maxQueries: 80, batchSize: 4 });
  const events: ProgressEvent[] = [];
  const first = await noLeak(() =>
    craftAdversarial(cnn, data, { attack, cache, workers: 1, onProgress: (e) => events.push(e) }),
  );
  assert.equal(first.cached, false);
  assert.ok(first.queries && first.queries.length === 9);
  // The same images and queries as the plain function (batches do not change an image's draws).
  const direct = await square(tensorQueryFn(logitsFn(cnn)), data, { eps: 0.3, maxQueries: 80 });
  assert.deepEqual(first.images, direct.images);
  assert.deepEqual(first.queries, direct.queries);
  assert.equal(events.at(-1)?.done, 9);
  const second = await craftAdversarial(cnn, data, { attack, cache, workers: 1 });
  assert.equal(second.cached, true);
  assert.deepEqual(second.images, first.images);
  assert.deepEqual(second.queries, first.queries);
  // Attack.run (tensors in and out, the synchronous driver) gives the same images.
  const x = tf.tensor4d(data.images, [9, 6, 6, 1]);
  const ran = attack.run(logitsFn(cnn), x);
  assert.deepEqual(ran.dataSync(), first.images);
  tf.dispose([x, ran]);
});

test('on worker threads: the same images and queries as on one thread', async () => {
  const data = images(8, 2);
  for (const attack of [
    squareAttack({ eps: 0.2, maxQueries: 60, batchSize: 3 }),
    hopSkipJumpAttack({ eps: 0.05, maxQueries: 120, initNumEvals: 20, batchSize: 3 }),
  ]) {
    const one = await craftAdversarial(cnn, data, { attack, cache: false, workers: 1 });
    const two = await craftAdversarial(cnn, data, { attack, cache: false, workers: 2 });
    assert.equal(two.workers, 2);
    assert.deepEqual(two.images, one.images);
    assert.deepEqual(two.queries, one.queries);
  }
});

test('a model given as a function: query attacks only, cached under the modelKey the caller names', async () => {
  const data = images(5, 3);
  const counter = counting(tensorQueryFn(logitsFn(cnn)));
  const attack = squareAttack({ eps: 0.3, maxQueries: 50 });
  await assert.rejects(
    craftAdversarial(counter.fn, data, { attack: fgsmAttack({ eps: 0.1 }), cache: false }),
    /FGSM ε 0.1, L∞, reference gradient needs the model's gradients, so a tf.LayersModel; a model given as a function can only be attacked by the attacks that need none \(squareAttack, hopSkipJumpAttack\)/,
  );
  const cache = new ArtifactCache({ dir: join(tmp, 'b') });
  await assert.rejects(
    craftAdversarial(counter.fn, data, { attack, cache }),
    /a model given as a function needs options.modelKey \(what identifies it in the cache, e.g. its file's sha256\), or cache: false/,
  );
  const a = await craftAdversarial(counter.fn, data, { attack, cache, modelKey: 'tiny-cnn-6' });
  const asked = counter.images;
  assert.equal(
    asked,
    a.queries!.reduce((s, v) => s + v, 0),
  );
  const b = await craftAdversarial(counter.fn, data, { attack, cache, modelKey: 'tiny-cnn-6' });
  assert.equal(b.cached, true);
  assert.equal(counter.images, asked, 'a cache hit asks the model nothing');
  const c = await craftAdversarial(counter.fn, data, { attack, cache, modelKey: 'another' });
  assert.equal(c.cached, false);
  assert.deepEqual(c.images, a.images);
});

test('the DkNN attacked through its p-values: Square lowers its accuracy far below random ±ε noise, each query one predict', async () => {
  const model = tinyModel(1);
  const dknn = new DkNN(model, { layers: ['flat', 'hidden', 'logits'], k: 5, cacheDir: false, onWarning: () => {} });
  await dknn.fit(blobs(150, 1));
  await dknn.calibrate(blobs(60, 2));
  const data = blobs(30, 3);
  const eps = 0.5;
  const rng = createRng(1);
  const noisy = data.images.map((v) => v + (rng.next() < 0.5 ? -eps : eps));
  const query = counting(dknnQueryFn(dknn));
  // The blobs are not in [0, 1]: a box they are in, so that ε alone bounds the change.
  const set = await craftAdversarial(query.fn, data, {
    attack: squareAttack({ eps, maxQueries: 200, pInit: 0.5, clipMin: -3, clipMax: 4 }),
    cache: false,
  });
  const acc = async (images: Float32Array) =>
    agreement((await dknn.predict({ ...data, images })).predictions, data.labels);
  const [clean, noise, attacked] = [await acc(data.images), await acc(noisy), await acc(set.images)];
  assert.ok(clean >= 0.8 && noise >= 0.8, `clean DkNN accuracy ${clean}, with random ±ε noise ${noise}`);
  assert.ok(attacked < noise - 0.3, `DkNN accuracy ${noise} with noise, ${attacked} under Square`);
  assert.equal(
    query.images,
    set.queries!.reduce((s, v) => s + v, 0),
  );
  model.dispose();
});
