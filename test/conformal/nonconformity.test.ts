import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { knnCounts, nonconformity, scoresAtLabels, type LayerNeighborLabels } from '../../lib/conformal/nonconformity';

// 2 layers, 2 query points, k = 3, 3 classes; row 0 of layer 1 has one missing neighbor (-1).
//   layer 0: row 0 → [0, 0, 1]   row 1 → [2, 2, 2]
//   layer 1: row 0 → [0, -1, 2]  row 1 → [1, 2, 2]
// Votes row 0: class 0 = 3, class 1 = 1, class 2 = 1, 1 missing; row 1: 0, 1, 5. Slots Σk = 6.
const layer0: LayerNeighborLabels = { labels: Int32Array.from([0, 0, 1, 2, 2, 2]), rows: 2, k: 3 };
const layer1: LayerNeighborLabels = { labels: Int32Array.from([0, -1, 2, 1, 2, 2]), rows: 2, k: 3 };

describe('knnCounts', () => {
  test('sums the votes per class over layers and never counts a missing neighbor as a vote', () => {
    const c = knnCounts([layer0, layer1], 3);
    assert.deepEqual(Array.from(c.counts), [3, 1, 1, 0, 1, 5]);
    assert.equal(c.slots, 6);
    assert.equal(c.missing, 1);
    assert.deepEqual(Array.from(c.missingPerRow), [1, 0]);
    assert.equal(c.n, 2);
  });
});

describe('nonconformity', () => {
  test('counts, over layers, the neighbors whose label differs from each class', () => {
    const nc = nonconformity([layer0, layer1], 3);
    assert.deepEqual(Array.from(nc.scores.subarray(3)), [6, 5, 1]);
    assert.equal(nc.n, 2);
    assert.equal(nc.numClasses, 3);
    assert.ok(nc.scores instanceof Int32Array);
  });

  test("by default ('disagree') makes a missing neighbor add 1 to α of every class", () => {
    const nc = nonconformity([layer0, layer1], 3);
    assert.equal(nc.missingRule, 'disagree');
    assert.deepEqual(Array.from(nc.scores.subarray(0, 3)), [3, 5, 5]);
    assert.equal(nc.missing, 1);
  });

  test("with missing: 'ignore' skips a missing neighbor without rescaling", () => {
    const nc = nonconformity([layer0, layer1], 3, { missing: 'ignore' });
    assert.deepEqual(Array.from(nc.scores), [2, 4, 4, 6, 5, 1]);
    assert.equal(nc.missing, 1);
  });

  test('gives the same scores for the stacked [layers][rows][k] layout as for the list of layers', () => {
    const stacked = { labels: Int32Array.from([...layer0.labels, ...layer1.labels]), layers: 2, rows: 2, k: 3 };
    assert.deepEqual(Array.from(nonconformity(stacked, 3).scores), [3, 5, 5, 6, 5, 1]);
  });

  test('scores a point whose neighbors are all missing as Σk for every class, or 0 when ignoring them', () => {
    const empty = { labels: Int32Array.from([-1, -1, -1, -1]), rows: 1, k: 4 };
    assert.deepEqual(Array.from(nonconformity([empty], 2).scores), [4, 4]);
    assert.deepEqual(Array.from(nonconformity([empty], 2, { missing: 'ignore' }).scores), [0, 0]);
  });

  test('accepts layers with different k and adds their slots', () => {
    const a = { labels: Int32Array.from([1]), rows: 1, k: 1 };
    const b = { labels: Int32Array.from([1, 0]), rows: 1, k: 2 };
    assert.deepEqual(Array.from(nonconformity([a, b], 2).scores), [2, 1]);
  });

  test('rejects a label outside -1…numClasses-1, naming where it was found', () => {
    const bad = { labels: Int32Array.from([0, 3]), rows: 1, k: 2 };
    assert.throws(
      () => nonconformity([bad], 3),
      /layer 0, row 0, neighbor 1: expected a label in -1…2 \(-1 = missing\), found 3/,
    );
    const neg = { labels: Int32Array.from([-2]), rows: 1, k: 1 };
    assert.throws(() => nonconformity([neg], 3), /found -2/);
  });

  test('rejects layers with different row counts or a length that is not rows × k', () => {
    const one = { labels: Int32Array.from([0, 0, 0]), rows: 1, k: 3 };
    assert.throws(() => nonconformity([layer0, one], 3), /layer 1: expected 2 rows \(as layer 0\), found 1/);
    const short = { labels: Int32Array.from([0, 0]), rows: 1, k: 3 };
    assert.throws(() => nonconformity([short], 3), /expected rows × k = 1 × 3 = 3 labels, found 2/);
    const stacked = { labels: new Int32Array(5), layers: 2, rows: 1, k: 3 };
    assert.throws(() => nonconformity(stacked, 3), /= 6 labels, found 5/);
    assert.throws(() => nonconformity([], 3), /expected at least 1 layer, found 0/);
  });

  test('rejects an unknown missing rule and a bad class count', () => {
    assert.throws(
      () => nonconformity([layer0], 3, { missing: 'zero' as never }), // checked at run time too
      /missing: expected 'disagree' or 'ignore', found zero/,
    );
    assert.throws(() => nonconformity([layer0], 0), /numClasses: expected a positive integer, found 0/);
  });
});

describe('scoresAtLabels', () => {
  test('picks α(xᵢ, yᵢ) of each point for its label', () => {
    const nc = nonconformity([layer0, layer1], 3);
    assert.deepEqual(Array.from(scoresAtLabels(nc, [0, 2])), [3, 1]);
  });

  test('rejects a label count or label value that does not fit the scores', () => {
    const nc = nonconformity([layer0, layer1], 3);
    assert.throws(() => scoresAtLabels(nc, [0]), /labels: expected 2 labels \(one per point\), found 1/);
    assert.throws(() => scoresAtLabels(nc, [0, 3]), /labels\[1\]: expected an integer in 0…2, found 3/);
  });
});
