import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanLowerBound, recallWithoutSelf, resolveTuneOptions, searchNumProbes } from '../../../lib/knn/lsh/tune';

test('searchNumProbes finds the smallest probe count meeting the target, to within 5 %', async () => {
  for (const need of [10, 11, 37, 640, 1000, 5000]) {
    const asked: number[] = [];
    // A step recall (every query alike, so the bound is the mean): 0.5 below `need` probes, 0.995 from it on.
    const r = await searchNumProbes(async (p) => (asked.push(p), [p >= need ? 0.995 : 0.5]), 10, 0.99, 10240);
    assert.equal(r.reached, true);
    assert.equal(r.recall, 0.995);
    assert.equal(r.lowerBound, 0.995);
    assert.ok(r.numProbes >= need, `need ${need}, chose ${r.numProbes}`);
    assert.ok(r.numProbes <= Math.max(need, Math.ceil(need * 1.05) + 1), `need ${need}, chose ${r.numProbes}`);
    assert.deepEqual(
      r.curve.map((c) => c.numProbes),
      asked,
    );
    assert.equal(asked[0], 10);
    assert.ok(asked.length <= 2 + Math.ceil(Math.log2(10240 / 10)) + 6, `${asked.length} evaluations`);
  }
});

test('searchNumProbes stops at maxProbes when the target is out of reach', async () => {
  const r = await searchNumProbes(async (p) => [Math.min(0.9, p / 1000)], 8, 0.99, 100);
  assert.equal(r.reached, false);
  assert.equal(r.numProbes, 100);
  assert.deepEqual(
    r.curve.map((c) => c.numProbes),
    [8, 16, 32, 64, 100],
  );
});

test('the target is met by the lower confidence bound, not the mean', async () => {
  // Half the queries at r + 0.01, half at r − 0.01: mean r, lower bound below it.
  const spread = (r: number) => Array.from({ length: 100 }, (_, i) => (i % 2 ? r + 0.01 : r - 0.01));
  const b = meanLowerBound(spread(0.99));
  assert.ok(Math.abs(b.mean - 0.99) < 1e-12);
  assert.ok(Math.abs(b.lowerBound - (0.99 - (1.645 * Math.sqrt((100 * 0.01 ** 2) / 99)) / 10)) < 1e-12);
  // Recall 0.99 from 100 probes on, 0.992 from 200 on: the mean reaches 0.99 at 100, the bound only at 200.
  const r = await searchNumProbes(async (p) => spread(p >= 200 ? 0.992 : p >= 100 ? 0.99 : 0.5), 10, 0.99, 1000);
  assert.ok(r.numProbes >= 190 && r.numProbes <= 200, `chose ${r.numProbes}`);
  assert.ok(r.lowerBound >= 0.99 && r.recall > r.lowerBound);
  assert.throws(() => meanLowerBound([]), /expected at least one value, found none/);
});

test('recallWithoutSelf leaves each sample point out of both lists', () => {
  // k = 2: lists of 3. Query 0 is point 5 (found first in both), query 1 is point 9 (absent from the truth list).
  const self = Int32Array.from([5, 9]);
  const truth = Int32Array.from([5, 1, 2, /**/ 3, 4, 6]); // stripped: [1, 2], [3, 4]
  const found = Int32Array.from([5, 2, 7, /**/ 9, 4, -1]); // stripped: [2, 7], [4, -1]
  assert.deepEqual(Array.from(recallWithoutSelf(truth, found, self, 2)), [1 / 2, 1 / 2]);
  assert.deepEqual(Array.from(recallWithoutSelf(truth, truth, self, 2)), [1, 1]);
  assert.deepEqual(Array.from(recallWithoutSelf(truth, Int32Array.from([1, 2, 5, 3, 4, 6]), self, 2)), [1, 1]);
});

test('tune options are checked, naming what was expected', () => {
  assert.deepEqual(resolveTuneOptions(undefined, 10), { recall: 0.99, k: 75, sample: 200, maxProbes: 10240 });
  assert.throws(() => resolveTuneOptions({ recall: 1.5 }, 10), /tune.recall must be in \(0, 1\], found 1.5/);
  assert.throws(() => resolveTuneOptions({ sample: 0 }, 10), /tune.sample must be a positive integer, found 0/);
  assert.throws(() => resolveTuneOptions({ maxProbes: 5 }, 10), /tune.maxProbes must be at least l = 10, found 5/);
});
