import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy,
  expectedCalibrationError,
  histogram,
  reliabilityBins,
  rocAuc,
  rocCurve,
} from '../../lib/metrics/classification';

function near(actual: number | null, expected: number, tol = 1e-12): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol, `${actual} ≠ ${expected}`);
}

describe('accuracy', () => {
  test('is the fraction of predictions equal to their labels', () => {
    assert.equal(accuracy(Int32Array.from([1, 2, 3]), [1, 0, 3]), 2 / 3);
  });

  test('rejects mismatched lengths and empty input', () => {
    assert.throws(() => accuracy([1, 2], [1]), /labels: expected 2 values \(as many as predictions\), found 1/);
    assert.throws(() => accuracy([], []), /expected at least 1 prediction, found 0/);
  });
});

describe('reliabilityBins', () => {
  // bin 0: 0, 0.09 (both correct); bin 1: 0.1, 0.15 (1 of 2); bin 7: 0.7; bin 9: 0.95, 1.0 (1 of 2).
  const scores = [0, 0.1, 0.15, 0.7, 1.0, 0.95, 0.09];
  const correct = [true, false, true, true, true, false, true];
  const d = reliabilityBins(scores, correct);

  test('makes 10 bins of width 0.1 by default, with edges i/10', () => {
    assert.equal(d.bins.length, 10);
    assert.equal(d.bins[1].lo, 0.1);
    assert.equal(d.bins[1].hi, 0.2);
    assert.equal(d.bins[9].hi, 1);
    assert.equal(d.n, 7);
  });

  test('puts a score of exactly 0.1 in bin 1, i.e. [0.1, 0.2)', () => {
    assert.equal(d.bins[0].count, 2);
    assert.equal(d.bins[1].count, 2);
    near(d.bins[1].meanScore, 0.125);
    near(d.bins[1].accuracy, 0.5);
  });

  test('puts a score of exactly 1.0 in the last bin, which is closed', () => {
    assert.equal(d.bins[9].count, 2);
    near(d.bins[9].accuracy, 0.5);
    near(d.bins[9].meanScore, 0.975);
  });

  test('reports accuracy and mean score null for empty bins', () => {
    for (const b of [2, 3, 4, 5, 6, 8]) {
      assert.equal(d.bins[b].count, 0);
      assert.equal(d.bins[b].accuracy, null);
      assert.equal(d.bins[b].meanScore, null);
    }
    assert.equal(d.bins[7].count, 1);
    assert.equal(
      d.bins.reduce((s, b) => s + b.count, 0),
      7,
    );
  });

  test('keeps the p-value 525/750 = 0.7 in bin 7, while its float32 rounding falls to bin 6', () => {
    assert.equal(reliabilityBins([525 / 750], [1]).bins[7].count, 1);
    assert.equal(reliabilityBins([Math.fround(0.7)], [1]).bins[6].count, 1);
  });

  test('computes the expected and maximum calibration error over non-empty bins', () => {
    // bin 2: acc 0.5, mean 0.25; bin 7: acc 1, mean 0.75 → both gaps 0.25, weights ½.
    const r = reliabilityBins([0.25, 0.25, 0.75, 0.75], [1, 0, 1, 1]);
    near(r.expectedCalibrationError, 0.25);
    near(r.maxCalibrationError, 0.25);
    near(expectedCalibrationError([0.25, 0.75, 0.75, 0.75], [0, 1, 1, 0]), 0.25 * 0.25 + 0.75 * (0.75 - 2 / 3));
    assert.equal(expectedCalibrationError([0.5, 0.5], [true, false]), 0);
  });

  test('accepts another number of bins', () => {
    const r = reliabilityBins([0.2, 0.39, 0.4, 1], [1, 1, 0, 1], { bins: 5 });
    assert.deepEqual(
      r.bins.map((b) => b.count),
      [0, 2, 1, 0, 1],
    );
    assert.equal(r.bins[2].lo, 0.4);
  });

  test('rejects scores outside [0, 1], NaN, mismatched lengths, bad flags and no points', () => {
    assert.throws(() => reliabilityBins([1.01], [1]), /scores\[0\]: expected a score in \[0, 1\], found 1.01/);
    assert.throws(() => reliabilityBins([NaN], [1]), /found NaN/);
    assert.throws(() => reliabilityBins([0.5], [1, 0]), /correct: expected 1 values \(as many as scores\), found 2/);
    assert.throws(() => reliabilityBins([0.5], [2]), /correct\[0\]: expected a boolean or 0\/1, found 2/);
    assert.throws(() => reliabilityBins([], []), /expected at least 1 score, found 0/);
    assert.throws(() => reliabilityBins([0.5], [1], { bins: 0 }), /bins: expected a positive integer, found 0/);
  });
});

describe('rocAuc', () => {
  test('is 1 for scores that rank every positive above every negative', () => {
    assert.equal(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  });

  test('is 0 for inverted scores', () => {
    assert.equal(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  });

  test('is 0.5 when every score is tied', () => {
    assert.equal(rocAuc([0.3, 0.3, 0.3, 0.3, 0.3], [1, 0, 0, 1, 0]), 0.5);
  });

  test('counts a tied positive/negative pair as one half (average ranks)', () => {
    // pairs (pos, neg): (0.5, 0.1) 1, (0.5, 0.5) ½, (0.9, 0.1) 1, (0.9, 0.5) 1 → 3.5 / 4
    assert.equal(rocAuc([0.1, 0.5, 0.5, 0.9], [false, true, false, true]), 0.875);
  });

  test('handles infinite scores', () => {
    assert.equal(rocAuc([-Infinity, Infinity, 0], [0, 1, 0]), 1);
  });

  test('rejects input without both classes, NaN scores and mismatched lengths', () => {
    assert.throws(
      () => rocAuc([0.1, 0.2], [1, 1]),
      /at least 1 positive and 1 negative, found 2 positive and 0 negative/,
    );
    assert.throws(() => rocAuc([NaN, 0.2], [1, 0]), /scores\[0\]: expected a number, found NaN/);
    assert.throws(() => rocAuc([0.1], [1, 0]), /positives: expected 1 values/);
  });
});

describe('rocCurve', () => {
  test('steps through distinct thresholds from (0, 0) to (1, 1) with ties as one diagonal step', () => {
    const c = rocCurve([0.1, 0.5, 0.5, 0.9], [0, 1, 0, 1]);
    assert.deepEqual(Array.from(c.thresholds), [Infinity, 0.9, 0.5, 0.1]);
    assert.deepEqual(Array.from(c.tpr), [0, 0.5, 1, 1]);
    assert.deepEqual(Array.from(c.fpr), [0, 0, 0.5, 1]);
  });

  test('has a trapezoidal area equal to rocAuc', () => {
    const scores = [0.3, 0.1, 0.7, 0.7, 0.2, 0.9, 0.3, 0.5];
    const pos = [1, 0, 1, 0, 0, 1, 0, 1];
    const c = rocCurve(scores, pos);
    let area = 0;
    for (let i = 1; i < c.fpr.length; i++) area += ((c.fpr[i] - c.fpr[i - 1]) * (c.tpr[i] + c.tpr[i - 1])) / 2;
    near(area, rocAuc(scores, pos));
    near(area, 13 / 16); // pos 0.3: 2.5, pos 0.7: 3.5, pos 0.9: 4, pos 0.5: 3 wins over 4 negatives
  });
});

describe('histogram', () => {
  test('counts values in equal-width bins, the last one closed', () => {
    const h = histogram([0, 0.5, 1, 2, 2, 4], { bins: 4, min: 0, max: 4 });
    assert.deepEqual(Array.from(h.edges), [0, 1, 2, 3, 4]);
    assert.deepEqual(Array.from(h.counts), [2, 1, 2, 1]);
    assert.equal(h.below + h.above, 0);
  });

  test('defaults to the range of the data and 10 bins', () => {
    const h = histogram([10, 20, 15]);
    assert.equal(h.edges[0], 10);
    assert.equal(h.edges[10], 20);
    assert.equal(h.counts.length, 10);
    assert.deepEqual([h.counts[0], h.counts[5], h.counts[9]], [1, 1, 1]);
  });

  test('counts values outside [min, max] as below or above instead of binning them', () => {
    const h = histogram([-1, 0, 3, 5, 7], { bins: 3, min: 0, max: 3 });
    assert.deepEqual(Array.from(h.counts), [1, 0, 1]);
    assert.equal(h.below, 1);
    assert.equal(h.above, 2);
  });

  test('widens a zero-width range by 0.5 on each side, as numpy does', () => {
    const h = histogram([3, 3], { bins: 2 });
    assert.deepEqual(Array.from(h.edges), [2.5, 3, 3.5]);
    assert.deepEqual(Array.from(h.counts), [0, 2]);
  });

  test('rejects NaN values and inverted bounds', () => {
    assert.throws(() => histogram([1, NaN]), /values\[1\]: expected a number, found NaN/);
    assert.throws(() => histogram([1], { min: 2, max: 1 }), /expected finite min ≤ max, found min = 2, max = 1/);
  });
});
