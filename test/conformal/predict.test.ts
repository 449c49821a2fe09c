import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConformalCalibrator } from '../../lib/conformal/calibrator';
import { conformalPredict } from '../../lib/conformal/predict';
import { nonconformity, scoresAtLabels } from '../../lib/conformal/nonconformity';

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-12): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}]: ${actual[i]} ≠ ${expected[i]}`);
  }
}

describe('conformalPredict', () => {
  test('predicts the class of largest p-value, with credibility = max p and confidence = 1 − second-largest p', () => {
    const r = conformalPredict([0.1, 0.9, 0.3, 0.2, 0.05, 0.6], 3);
    assert.deepEqual(Array.from(r.predictions), [1, 2]);
    close(r.credibility, [0.9, 0.6]);
    close(r.confidence, [0.7, 0.8]);
    assert.equal(r.n, 2);
    assert.equal(r.numClasses, 3);
  });

  test('breaks ties toward the lowest class, and then the second-largest p equals the largest', () => {
    const r = conformalPredict([0.2, 0.5, 0.5], 3);
    assert.equal(r.predictions[0], 1);
    close(r.credibility, [0.5]);
    close(r.confidence, [0.5]);
  });

  test('predicts class 0 with credibility 0 and confidence 1 when every p-value is 0', () => {
    const r = conformalPredict([0, 0, 0, 0], 4);
    assert.deepEqual(Array.from(r.predictions), [0]);
    close(r.credibility, [0]);
    close(r.confidence, [1]);
  });

  test('gives confidence 1 with a single class', () => {
    const r = conformalPredict([0.4, 0.7], 1);
    assert.deepEqual(Array.from(r.predictions), [0, 0]);
    close(r.confidence, [1, 1]);
  });

  test('returns typed arrays and a copy of the p-values', () => {
    const p = Float64Array.from([0.3, 0.7]);
    const r = conformalPredict(p, 2);
    assert.ok(r.predictions instanceof Int32Array);
    assert.ok(r.credibility instanceof Float64Array);
    assert.ok(r.confidence instanceof Float64Array);
    p[0] = 1;
    close(r.pValues, [0.3, 0.7]);
  });

  test('rejects p-values outside [0, 1], NaN, and a length that is not a multiple of numClasses', () => {
    assert.throws(() => conformalPredict([0.5, 1.5], 2), /pValues\[1\]: expected a p-value in \[0, 1\], found 1.5/);
    assert.throws(() => conformalPredict([NaN, 0], 2), /pValues\[0\]: .* found NaN/);
    assert.throws(() => conformalPredict([0.5, 0.5, 0.5], 2), /multiple of numClasses = 2 \(n × numClasses\), found 3/);
    assert.throws(() => conformalPredict([0.5], 0), /numClasses: expected a positive integer, found 0/);
  });
});

describe('nonconformity → calibrator → conformalPredict', () => {
  test('reproduces hand-computed DkNN predictions on a one-layer, k = 4 toy example', () => {
    // Calibration: 4 points, true labels [0, 1, 0, 1]; α(xᵢ, yᵢ) = [0, 1, 2, 4] → reference keeps {1, 2, 4}, n = 3.
    const cali = { labels: Int32Array.from([0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0]), rows: 4, k: 4 };
    const caliScores = scoresAtLabels(nonconformity([cali], 2), [0, 1, 0, 1]);
    assert.deepEqual(Array.from(caliScores), [0, 1, 2, 4]);
    const cal = new ConformalCalibrator().fit(caliScores);
    // Test: [0, 0, 0, 1] → α = [1, 3] → p = [3/3, 1/3]; [-1, 1, 1, 0] → α = [3, 2] → p = [1/3, 2/3].
    const test = { labels: Int32Array.from([0, 0, 0, 1, -1, 1, 1, 0]), rows: 2, k: 4 };
    const nc = nonconformity([test], 2);
    assert.deepEqual(Array.from(nc.scores), [1, 3, 3, 2]);
    const r = conformalPredict(cal.pValues(nc.scores, 2), 2);
    assert.deepEqual(Array.from(r.predictions), [0, 1]);
    close(r.credibility, [1, 2 / 3]);
    close(r.confidence, [2 / 3, 2 / 3]);
  });
});
