import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { adversarialCacheKey, adversarialCachePath, craftAdversarial } from '../../lib/attacks/craft';
import { fgsm } from '../../lib/attacks/fgsm';
import { perturbationNorms } from '../../lib/attacks/norms';
import type { ProgressEvent } from '../../lib/progress';
import { noLeak, tinyCnn } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'dknn-attacks-'));
let cnn: tf.LayersModel;
const cnnFn = (x: tf.Tensor) => cnn.apply(x) as tf.Tensor;

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

test('craftAdversarial runs the attack batch by batch: same result as one call on everything, progress per batch', async () => {
  const data = images(7, 1);
  const events: ProgressEvent[] = [];
  const ranges: number[][] = [];
  const set = await noLeak(() =>
    craftAdversarial(data, (x, { start, end }) => (ranges.push([start, end]), fgsm(cnnFn, x, { eps: 0.1, clipMin: 0, clipMax: 1 })), { batchSize: 3, onProgress: (e) => events.push(e) }),
  );
  assert.deepEqual(ranges, [[0, 3], [3, 6], [6, 7]]);
  assert.deepEqual(events.map((e) => e.done), [3, 6, 7]);
  assert.equal(set.cached, false);
  assert.equal(set.key, null);
  assert.deepEqual([set.n, set.height, set.width, set.channels], [7, 6, 6, 1]);
  const x = tf.tensor4d(data.images, [7, 6, 6, 1]);
  const whole = fgsm(cnnFn, x, { eps: 0.1, clipMin: 0, clipMax: 1 });
  const w = whole.dataSync();
  set.images.forEach((v, i) => assert.ok(Math.abs(v - w[i]) < 1e-6, `[${i}]`));
  tf.dispose([x, whole]);
});

test('adversarial sets are cached under model hash, attack, parameters, data and backend, and re-used only when all match', async () => {
  const data = images(5, 2);
  const spec = { modelHash: 'abc', attack: 'fgsm', params: { eps: 0.1 }, data: 'random[0:5]', dir: tmp };
  let calls = 0;
  const attack = (x: tf.Tensor4D) => (calls++, fgsm(cnnFn, x, { eps: 0.1, clipMin: 0, clipMax: 1 }));
  const first = await craftAdversarial(data, attack, { cache: spec });
  assert.equal(first.cached, false);
  assert.ok(existsSync(adversarialCachePath(data, spec)));
  const again = await noLeak(() => craftAdversarial(data, attack, { cache: spec }));
  assert.equal(again.cached, true);
  assert.equal(calls, 1, 'the second call read the cache');
  assert.deepEqual(again.images, first.images);
  assert.equal(again.seconds, first.seconds, 'the crafting time is remembered');
  assert.equal(again.key, first.key);
  const other = [
    { ...spec, params: { eps: 0.2 } },
    { ...spec, attack: 'bim' },
    { ...spec, modelHash: 'abd' },
    { ...spec, data: 'random[1:6]' },
  ];
  for (const s of other) assert.notEqual(adversarialCacheKey(data, s).key, first.key, JSON.stringify(s));
  assert.notEqual(adversarialCacheKey(images(5, 3), spec).key, first.key, 'other pixels, other key');
  const fresh = await craftAdversarial(data, attack, { cache: { ...spec, params: { eps: 0.2 } } });
  assert.equal(fresh.cached, false);
  assert.equal(calls, 2);
});

test('craftAdversarial rejects an attack that changes the shape, and a bad batch size', async () => {
  const data = images(2, 4);
  await assert.rejects(craftAdversarial(data, (x) => tf.slice(x, 0, 1)), /the attack returned shape \[1, 6, 6, 1\] for a batch of shape \[2, 6, 6, 1\]/);
  await assert.rejects(craftAdversarial(data, (x) => tf.clone(x), { batchSize: 0 }), { message: 'batchSize must be a positive integer, found 0' });
});

test('perturbationNorms gives per-example L2, L∞ and L1 distances', () => {
  const a = Float32Array.from([0, 0, 0, 1, 1, 1]);
  const b = Float32Array.from([3, -4, 0, 1, 1, 0.5]);
  const d = perturbationNorms(a, b, 2);
  assert.deepEqual(Array.from(d.l2), [5, 0.5]);
  assert.deepEqual(Array.from(d.linf), [4, 0.5]);
  assert.deepEqual(Array.from(d.l1), [7, 0.5]);
  assert.throws(() => perturbationNorms(a, b.subarray(1), 2), /equal length, found 6 and 5/);
  assert.throws(() => perturbationNorms(a, b, 4), /6 values do not split into n = 4 examples/);
});
