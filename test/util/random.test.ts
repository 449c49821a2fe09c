import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../lib/util/random';

test('createRng: same seed, same stream; different seeds differ', () => {
  const a = createRng(123);
  const b = createRng(123);
  const c = createRng(124);
  const xa = Array.from({ length: 50 }, () => a.next());
  const xb = Array.from({ length: 50 }, () => b.next());
  const xc = Array.from({ length: 50 }, () => c.next());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
  assert.equal(a.seed, 123);
  // seeds differing only above 32 bits, and negative seeds, give distinct streams
  assert.notEqual(createRng(2 ** 32 + 5).next(), createRng(5).next());
  assert.notEqual(createRng(-1).next(), createRng(2 ** 32 - 1).next());
  assert.throws(() => createRng(1.5), RangeError);
  assert.throws(() => createRng(Number.NaN), RangeError);
});

test('next() is uniform in [0, 1)', () => {
  const r = createRng(1);
  const bins = new Array<number>(10).fill(0);
  let sum = 0;
  const n = 100000;
  for (let i = 0; i < n; i++) {
    const x = r.next();
    assert.ok(x >= 0 && x < 1);
    bins[Math.floor(x * 10)]!++;
    sum += x;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.005);
  for (const b of bins) assert.ok(Math.abs(b - n / 10) < 500, `bin count ${b}`);
});

test('int(n) covers [0, n) evenly and validates n', () => {
  const r = createRng(2);
  const counts = new Array<number>(7).fill(0);
  for (let i = 0; i < 70000; i++) {
    const k = r.int(7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
    counts[k]!++;
  }
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 400, `count ${c}`);
  assert.equal(r.int(1), 0);
  const big = r.int(2 ** 40);
  assert.ok(Number.isInteger(big) && big >= 0 && big < 2 ** 40);
  assert.throws(() => r.int(0), RangeError);
  assert.throws(() => r.int(2.5), RangeError);
  const u = r.uint32();
  assert.ok(Number.isInteger(u) && u >= 0 && u < 2 ** 32);
});

test('normal() has mean 0 and variance 1', () => {
  const r = createRng(3);
  const n = 100000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    assert.ok(Number.isFinite(z));
    s += z;
    s2 += z * z;
  }
  const mean = s / n;
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(s2 / n - mean * mean - 1) < 0.03, `variance ${s2 / n}`);
});
