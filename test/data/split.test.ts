import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { gather, seededPermutation, subset, toTensors } from '../../lib/data/split';
import type { ImageDataset } from '../../lib/data/types';

/** A tiny 2x2x1 data set whose pixels encode (example index, position). */
function tiny(n: number): ImageDataset {
  const images = new Float32Array(n * 4);
  for (let i = 0; i < images.length; i++) images[i] = i / 100;
  return {
    name: 'tiny',
    images,
    labels: Uint8Array.from({ length: n }, (_, i) => i % 3),
    n,
    height: 2,
    width: 2,
    channels: 1,
    numClasses: 3,
    classNames: ['a', 'b', 'c'],
    checksums: { 'x.gz': '0'.repeat(64) },
  };
}

test('subset returns views over [start, end) without copying', () => {
  const ds = tiny(10);
  const s = subset(ds, { start: 2, end: 5 });
  assert.equal(s.n, 3);
  assert.equal(s.name, 'tiny[2:5]');
  assert.deepEqual(Array.from(s.labels), [2, 0, 1]);
  assert.equal(s.images.length, 12);
  assert.equal(s.images[0], ds.images[8]);
  assert.equal(s.images.buffer, ds.images.buffer);
  assert.equal(s.labels.buffer, ds.labels.buffer);
  assert.equal(subset(ds, { start: 7 }).n, 3);
  assert.equal(subset(ds, { start: 4, end: 4 }).n, 0);
  assert.equal(subset(ds, { end: 10 }).n, 10);
});

test('subset rejects bad ranges with a clear RangeError', () => {
  const ds = tiny(10);
  for (const [a, b] of [[-1, 3], [0, 11], [5, 4], [1.5, 3], [0, NaN]] as const) {
    assert.throws(() => subset(ds, { start: a, end: b }), (e: unknown) =>
      e instanceof RangeError && e.message.includes(`bad range [${a}, ${b})`) && e.message.includes('for 10 examples'));
  }
});

test('gather copies the chosen examples in order', () => {
  const ds = tiny(6);
  const g = gather(ds, [5, 0, 5]);
  assert.equal(g.n, 3);
  assert.deepEqual(Array.from(g.labels), [2, 0, 2]);
  assert.deepEqual(Array.from(g.images.subarray(0, 4)), Array.from(ds.images.subarray(20, 24)));
  assert.notEqual(g.images.buffer, ds.images.buffer);
  assert.throws(() => gather(ds, [0, 6]), /index 6 at position 1 is outside \[0, 6\)/);
});

test('seededPermutation is deterministic, seed-dependent and a real permutation', () => {
  for (const n of [0, 1, 2, 17, 1000, 60000]) {
    const p = seededPermutation(n, 7);
    assert.ok(p instanceof Uint32Array);
    assert.equal(p.length, n);
    assert.deepEqual(p, seededPermutation(n, 7));
    const seen = new Uint8Array(n);
    for (const v of p) {
      assert.ok(v < n);
      seen[v]!++;
    }
    assert.ok(seen.every((c) => c === 1), `not a permutation of ${n}`);
  }
  const a = seededPermutation(1000, 1);
  const b = seededPermutation(1000, 2);
  assert.notDeepEqual(a, b);
  let fixed = 0;
  for (let i = 0; i < 1000; i++) if (a[i] === i) fixed++;
  assert.ok(fixed < 10, `${fixed} fixed points: barely shuffled`);
  // every position receives every value roughly uniformly (n = 4, 4000 seeds)
  const counts = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));
  for (let s = 0; s < 4000; s++) seededPermutation(4, s).forEach((v, i) => counts[i]![v]!++);
  for (const row of counts) for (const c of row) assert.ok(c > 850 && c < 1150, `position count ${c}`);
  assert.throws(() => seededPermutation(-1, 0), RangeError);
  assert.throws(() => seededPermutation(3, 0.5), RangeError);
});

test('toTensors builds NHWC float32 images and int32 labels owned by the caller', async () => {
  tf.env().set('IS_TEST', true); // silences tfjs' "install the node backend" banner
  await tf.setBackend('cpu');
  const ds = tiny(5);
  const before = tf.memory().numTensors;
  const { xs, ys } = toTensors(ds, { start: 1, end: 4 });
  assert.deepEqual(xs.shape, [3, 2, 2, 1]);
  assert.equal(xs.dtype, 'float32');
  assert.deepEqual(ys.shape, [3]);
  assert.equal(ys.dtype, 'int32');
  assert.deepEqual(Array.from(xs.dataSync()), Array.from(ds.images.subarray(4, 16)));
  assert.deepEqual(Array.from(ys.dataSync()), [1, 2, 0]);
  // the tensors hold copies: changing the data set does not change them
  ds.images[4] = 42;
  assert.notEqual(xs.dataSync()[0], 42);
  assert.equal(tf.memory().numTensors, before + 2);
  xs.dispose();
  ys.dispose();
  assert.equal(tf.memory().numTensors, before);
  const all = toTensors(ds);
  assert.deepEqual(all.xs.shape, [5, 2, 2, 1]);
  tf.dispose([all.xs, all.ys]);
  assert.throws(() => toTensors(ds, { start: 3, end: 9 }), /toTensors: bad range \[3, 9\)/);
});
