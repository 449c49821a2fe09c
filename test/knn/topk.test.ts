import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TopK } from '../../lib/knn/topk';
import { uniform } from './helpers';

function drain(h: TopK): { idx: number[]; dist: number[] } {
  const idx = new Int32Array(h.size);
  const dist = new Float64Array(h.size);
  h.drainSorted(idx, dist, 0);
  return { idx: Array.from(idx), dist: Array.from(dist) };
}

describe('TopK', () => {
  test('keeps the 3 smallest of 5, 1, 4, 2, 3 in ascending order', () => {
    const h = new TopK(3);
    [5, 1, 4, 2, 3].forEach((d, i) => h.push(d, i));
    assert.deepEqual(drain(h), { idx: [1, 3, 4], dist: [1, 2, 3] });
    assert.equal(h.size, 0, 'draining empties the heap');
  });

  test('breaks equal distances by the lower index, whatever the arrival order', () => {
    const u = uniform(1);
    for (let trial = 0; trial < 50; trial++) {
      const order = Array.from({ length: 10 }, (_, i) => i).sort(() => u() - 0.5);
      const h = new TopK(4);
      for (const i of order) h.push(i < 6 ? 1 : 0.5, i); // rows 6…9 at 0.5, rows 0…5 at 1
      assert.deepEqual(drain(h).idx, [6, 7, 8, 9]);
      const h2 = new TopK(6);
      for (const i of order) h2.push(i < 6 ? 1 : 0.5, i);
      assert.deepEqual(drain(h2).idx, [6, 7, 8, 9, 0, 1]);
    }
  });

  test('matches a full sort on random input', () => {
    const u = uniform(2);
    const d = Array.from({ length: 500 }, () => Math.floor(u() * 50)); // many ties
    const h = new TopK(37);
    d.forEach((v, i) => h.push(v, i));
    const want = d
      .map((_, i) => i)
      .sort((a, b) => d[a] - d[b] || a - b)
      .slice(0, 37);
    assert.deepEqual(drain(h).idx, want);
  });

  test('worst is Infinity until full, then the largest distance kept', () => {
    const h = new TopK(2);
    h.push(3, 0);
    assert.equal(h.worst, Infinity);
    h.push(1, 1);
    assert.equal(h.worst, 3);
    h.push(2, 2);
    assert.equal(h.worst, 2);
  });

  test('refuses a capacity below 1', () => {
    assert.throws(() => new TopK(0), /capacity must be a positive integer, found 0/);
  });
});
