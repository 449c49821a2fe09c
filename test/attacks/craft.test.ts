import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { ArtifactCache } from '../../lib/artifacts/cache';
import { availableParallelism } from 'node:os';
import { ATTACKS_CODE_VERSION, attackFromSpec, bimAttack, cwL2Attack, fgsmAttack } from '../../lib/attacks/attack';
import { craftWorkerCount } from '../../lib/attacks/parallel';
import { adversarialCacheParts, craftAdversarial, craftBatches } from '../../lib/attacks/craft';
import { modelHash } from '../../lib/models/weights';
import { fgsm } from '../../lib/attacks/fgsm';
import { perturbationNorms } from '../../lib/attacks/norms';
import type { ProgressEvent } from '../../lib/util/progress';
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

test('craftBatches runs the attack batch by batch: same result as one call on everything, progress per batch', async () => {
  const data = images(7, 1);
  const events: ProgressEvent[] = [];
  const ranges: number[][] = [];
  const out = await noLeak(() =>
    craftBatches(
      data,
      (x, { start, end }) => (ranges.push([start, end]), fgsm(cnnFn, x, { eps: 0.1, clipMin: 0, clipMax: 1 })),
      { batchSize: 3, onProgress: (e) => events.push(e) },
    ),
  );
  assert.deepEqual(ranges, [
    [0, 3],
    [3, 6],
    [6, 7],
  ]);
  assert.deepEqual(
    events.map((e) => e.done),
    [3, 6, 7],
  );
  const x = tf.tensor4d(data.images, [7, 6, 6, 1]);
  const whole = fgsm(cnnFn, x, { eps: 0.1, clipMin: 0, clipMax: 1 });
  const w = whole.dataSync();
  out.forEach((v, i) => assert.ok(Math.abs(v - w[i]) < 1e-6, `[${i}]`));
  tf.dispose([x, whole]);
});

test("craftAdversarial caches under the model, the attack's own options and the pixels, and re-uses only when all match", async () => {
  const data = images(5, 2);
  const cache = new ArtifactCache({ dir: tmp });
  const attack = fgsmAttack({ eps: 0.1, batchSize: 2 });
  assert.deepEqual(attack.options, {
    eps: 0.1,
    norm: 'linf',
    clipMin: 0,
    clipMax: 1,
    gradient: 'reference',
    labels: 'model-predictions',
    code: ATTACKS_CODE_VERSION,
  });
  const first = await craftAdversarial(cnn, data, { attack, cache });
  assert.equal(first.cached, false);
  assert.ok(first.cachePath && existsSync(first.cachePath));
  assert.equal(first.attack.label, 'FGSM ε 0.1, L∞, reference gradient');
  const direct = await craftBatches(data, (x) =>
    fgsm(cnnFn, x, { eps: 0.1, clipMin: 0, clipMax: 1, gradient: 'reference' }),
  );
  assert.deepEqual(first.images, direct, 'the same images as the attack function itself');
  const again = await noLeak(() => craftAdversarial(cnn, data, { attack, cache }));
  assert.equal(again.cached, true);
  assert.deepEqual(again.images, first.images);
  assert.equal(again.seconds, first.seconds, 'the crafting time is remembered');
  const hash = modelHash(cnn);
  const key = (a = attack, d = data, h = hash) => cache.key(adversarialCacheParts(d, a, h));
  assert.equal(
    key(),
    cache.key(adversarialCacheParts(data, fgsmAttack({ eps: 0.1, batchSize: 50 }), hash)),
    'the batch size does not change the result',
  );
  for (const [why, k] of [
    ['another eps', key(fgsmAttack({ eps: 0.2 }))],
    ['another norm', key(fgsmAttack({ eps: 0.1, norm: 'l2' }))],
    ['another gradient', key(fgsmAttack({ eps: 0.1, gradient: 'exact' }))],
    ['another attack', key(bimAttack({ eps: 0.1, epsIter: 0.05, nbIter: 2 }))],
    ['another model', key(attack, data, 'abd')],
    ['other pixels', key(attack, images(5, 3))],
  ] as const)
    assert.notEqual(k, key(), why);
  const other = await craftAdversarial(cnn, data, { attack: fgsmAttack({ eps: 0.2 }), cache });
  assert.equal(other.cached, false);
  const off = await craftAdversarial(cnn, data, { attack, cache: false });
  assert.equal(off.cachePath, null);
  assert.equal(off.cached, false);
});

test('attack values check their options; craftBatches rejects an attack that changes the shape and a bad batch size', async () => {
  assert.throws(() => fgsmAttack({ eps: -1 }), /eps must be/);
  assert.throws(() => bimAttack({ eps: 0.1, epsIter: 0.01, nbIter: 0 }), /nbIter must be a positive integer, found 0/);
  assert.throws(() => bimAttack({ eps: 0.1, epsIter: 0.01, nbIter: 2, randInit: true }), /randInit needs a seed/);
  assert.throws(() => cwL2Attack({ batchSize: 0 }), /batchSize must be a positive integer, found 0/);
  const data = images(2, 4);
  await assert.rejects(
    craftBatches(data, (x) => tf.slice(x, 0, 1)),
    /the attack returned shape \[1, 6, 6, 1\] for a batch of shape \[2, 6, 6, 1\]/,
  );
  await assert.rejects(
    craftBatches(data, (x) => tf.clone(x), { batchSize: 0 }),
    { message: 'batchSize must be a positive integer, found 0' },
  );
});

test('perturbationNorms gives per-example L2, L∞ and L1 distances', () => {
  const a = Float32Array.from([0, 0, 0, 1, 1, 1]);
  const b = Float32Array.from([3, -4, 0, 1, 1, 0.5]);
  const d = perturbationNorms({ images: a, n: 2 }, { images: b, n: 2 });
  assert.deepEqual(Array.from(d.l2), [5, 0.5]);
  assert.deepEqual(Array.from(d.linf), [4, 0.5]);
  assert.deepEqual(Array.from(d.l1), [7, 0.5]);
  assert.throws(
    () => perturbationNorms({ images: a, n: 2 }, { images: b.subarray(1), n: 2 }),
    /equal length, found 6 and 5/,
  );
  assert.throws(
    () => perturbationNorms({ images: a, n: 4 }, { images: b, n: 4 }),
    /6 values do not split into n = 4 examples/,
  );
});

test('crafting on worker threads gives the same images as one thread, for FGSM and BIM; the worker count is chosen from the work', async () => {
  const data = images(9, 5);
  for (const attack of [
    fgsmAttack({ eps: 0.1, batchSize: 2 }),
    bimAttack({ eps: 0.1, epsIter: 0.03, nbIter: 3, batchSize: 4, gradient: 'exact' }),
  ]) {
    const one = await craftAdversarial(cnn, data, { attack, cache: false, workers: 1 });
    const two = await craftAdversarial(cnn, data, { attack, cache: false, workers: 2 });
    assert.equal(one.workers, 1);
    assert.equal(two.workers, 2);
    assert.deepEqual(two.images, one.images, attack.label);
  }
  const fgsm1 = fgsmAttack({ eps: 0.1 });
  assert.equal(craftWorkerCount('auto', fgsm1, 500), 1, '500 FGSM images: not worth starting workers');
  assert.equal(
    craftWorkerCount('auto', bimAttack({ eps: 0.1, epsIter: 0.01, nbIter: 100 }), 9250),
    Math.min(availableParallelism(), 37),
  );
  assert.equal(craftWorkerCount(8, fgsm1, 300), 2, 'never more workers than batches');
  assert.throws(() => craftWorkerCount(0, fgsm1, 10), /workers must be a positive integer or 'auto', found 0/);
  assert.deepEqual(
    attackFromSpec(structuredClone(bimAttack({ eps: 0.2, epsIter: 0.1, nbIter: 2 }).spec)).options,
    bimAttack({ eps: 0.2, epsIter: 0.1, nbIter: 2 }).options,
  );
  assert.throws(() => attackFromSpec({ name: 'pgd', options: {} } as never), /unknown attack "pgd"/);
});

test('CW-L2 reports progress within a batch (after each binary-search step), on one thread and on workers, and the same images', async () => {
  const data = images(6, 8);
  const attack = cwL2Attack({ maxIterations: 3, binarySearchSteps: 3, batchSize: 3 });
  const runs: { images: Float32Array; events: ProgressEvent[] }[] = [];
  for (const workers of [1, 2]) {
    const events: ProgressEvent[] = [];
    const set = await craftAdversarial(cnn, data, { attack, cache: false, workers, onProgress: (e) => events.push(e) });
    assert.equal(set.workers, workers);
    const done = events.map((e) => e.done);
    // Within a batch of 3 after step 1 of 3: round(3 · 1/3) = 1 image — a count no batch boundary gives.
    assert.ok(
      done.some((d) => d % 3 !== 0),
      `${workers} worker(s): progress inside a batch, got ${done.join(', ')}`,
    );
    assert.ok(
      done.every((d, i) => i === 0 || d >= done[i - 1]),
      `never backwards: ${done.join(', ')}`,
    );
    assert.equal(done[done.length - 1], 6);
    runs.push({ images: set.images, events });
  }
  assert.deepEqual(runs[1].images, runs[0].images);
});
