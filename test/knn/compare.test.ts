import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { agreement, recallAtK } from '../../lib/knn/compare';

describe('agreement', () => {
  test('counts identical predictions and the credibility changes', () => {
    const a = { predictions: new Int32Array([1, 2, 3, 4]), credibility: new Float64Array([0.5, 0.9, 0.1, 1]) };
    const b = { predictions: new Int32Array([1, 2, 0, 4]), credibility: new Float64Array([0.5, 0.7, 0.4, 1]) };
    const r = agreement(a, b);
    assert.equal(r.n, 4);
    assert.equal(r.identical, 3);
    assert.equal(r.identicalFraction, 0.75);
    assert.ok(Math.abs(r.maxCredibilityChange - 0.3) < 1e-12);
    assert.ok(Math.abs(r.meanCredibilityChange - 0.125) < 1e-12);
  });

  test('a prediction agrees fully with itself; empty inputs give 1 and 0', () => {
    const a = { predictions: [3, 1], credibility: [0.2, 0.8] };
    assert.deepEqual(agreement(a, a), {
      n: 2,
      identical: 2,
      identicalFraction: 1,
      maxCredibilityChange: 0,
      meanCredibilityChange: 0,
    });
    assert.deepEqual(agreement({ predictions: [], credibility: [] }, { predictions: [], credibility: [] }), {
      n: 0,
      identical: 0,
      identicalFraction: 1,
      maxCredibilityChange: 0,
      meanCredibilityChange: 0,
    });
  });

  test('refuses predictions of different inputs', () => {
    assert.throws(
      () => agreement({ predictions: [1], credibility: [1] }, { predictions: [1, 2], credibility: [1, 1] }),
      RangeError,
    );
  });
});

describe('recallAtK', () => {
  const truth = { indices: new Int32Array([0, 1, 2, 5, 6, 7]), rows: 2, k: 3 };

  test('fraction of the true neighbors found, order ignored, missing (-1) not found', () => {
    assert.equal(recallAtK(truth, truth), 1);
    assert.equal(recallAtK({ indices: new Int32Array([2, 1, 0, 7, 6, 5]), rows: 2, k: 3 }, truth), 1);
    assert.equal(recallAtK({ indices: new Int32Array([0, 1, 9, 5, -1, -1]), rows: 2, k: 3 }, truth), 3 / 6);
    // A neighbor of row 1 returned for row 0 does not count.
    assert.equal(recallAtK({ indices: new Int32Array([5, 6, 7, 0, 1, 2]), rows: 2, k: 3 }, truth), 0);
  });

  test('true neighbors that are missing are not counted; none at all gives 1', () => {
    assert.equal(
      recallAtK(
        { indices: new Int32Array([0, 9, 9]), rows: 1, k: 3 },
        { indices: new Int32Array([0, 1, -1]), rows: 1, k: 3 },
      ),
      0.5,
    );
    assert.equal(
      recallAtK({ indices: new Int32Array([-1]), rows: 1, k: 1 }, { indices: new Int32Array([-1]), rows: 1, k: 1 }),
      1,
    );
  });

  test('refuses results of other shapes', () => {
    assert.throws(() => recallAtK({ indices: new Int32Array(4), rows: 2, k: 2 }, truth), RangeError);
    assert.throws(() => recallAtK({ indices: new Int32Array(5), rows: 2, k: 3 }, truth), RangeError);
  });
});
