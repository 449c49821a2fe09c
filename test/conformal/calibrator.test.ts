import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConformalCalibrator, NOT_FITTED_MESSAGE } from '../../lib/conformal/calibrator';

// Calibration scores A = {0, 0, 2, 5, 5, 9} (given unsorted).
// reference: zeros trimmed → {2, 5, 5, 9}, n = 4;  conformal: all 6 kept, p = (#{A ≥ α} + 1) / 7.
const A = [5, 0, 9, 2, 0, 5];

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-12): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}]: ${actual[i]} ≠ ${expected[i]}`);
  }
}

describe('ConformalCalibrator, reference formula', () => {
  const cal = new ConformalCalibrator().fit(A);

  test('is the default formula', () => {
    assert.equal(cal.formula, 'reference');
  });

  test('drops the zero calibration scores and divides by the count left', () => {
    assert.equal(cal.calibrationSize(), 4);
    assert.equal(cal.pValue(6), 1 / 4);
  });

  test('counts calibration scores equal to α for the test point (ties, no +1)', () => {
    assert.equal(cal.pValue(5), 3 / 4);
    assert.equal(cal.pValue(2), 1);
    assert.equal(cal.pValue(9), 1 / 4);
  });

  test('gives p = 1 to α = 0 even though the zero scores were dropped', () => {
    assert.equal(cal.pValue(0), 1);
    assert.equal(cal.pValue(1), 1);
  });

  test('gives p = 0 to α larger than the largest calibration score', () => {
    assert.equal(cal.pValue(10), 0);
  });

  test('maps a score matrix to p-values in the same [n][numClasses] layout', () => {
    const p = cal.pValues(Int32Array.from([5, 0, 10, 2, 6, 1]), 3);
    assert.ok(p instanceof Float64Array);
    close(p, [0.75, 1, 0, 1, 0.25, 1]);
  });

  test('throws a clear error when every calibration score is 0 (n = 0 after trimming)', () => {
    const zeros = new ConformalCalibrator().fit([0, 0, 0]);
    assert.throws(
      () => zeros.pValues([0, 1], 2),
      /every one of the 3 calibration scores is 0.*use formula 'conformal'/,
    );
    assert.throws(() => zeros.pValue(0), /n = 0/);
    assert.equal(zeros.calibrationSize(), 0);
  });
});

describe('ConformalCalibrator, conformal formula', () => {
  const cal = new ConformalCalibrator({ formula: 'conformal' }).fit(A);

  test('keeps every calibration score, zeros included', () => {
    assert.equal(cal.calibrationSize(), 6);
  });

  test('computes (#{A ≥ α} + 1) / (n + 1) with ties counted', () => {
    close(cal.pValues([5, 2, 0, 1, 9], 1), [4 / 7, 5 / 7, 1, 5 / 7, 2 / 7]);
  });

  test('gives 1/(n + 1) to α larger than the largest calibration score', () => {
    assert.equal(cal.pValue(10), 1 / 7);
  });

  test('is defined when every calibration score is 0', () => {
    const zeros = new ConformalCalibrator({ formula: 'conformal' }).fit([0, 0, 0]);
    close(zeros.pValues([0, 1], 2), [1, 1 / 4]);
  });

  test('can be chosen per call on a calibrator whose default is reference', () => {
    const ref = new ConformalCalibrator().fit(A);
    close(ref.pValues([5], 1, { formula: 'conformal' }), [4 / 7]);
    close(ref.pValues([5], 1), [3 / 4]);
    assert.equal(ref.calibrationSize('conformal'), 6);
  });
});

describe('ConformalCalibrator, order and input checks', () => {
  test("says 'call fit before pValues' when used before fit", () => {
    const cal = new ConformalCalibrator();
    assert.equal(cal.fitted, false);
    assert.throws(() => cal.pValues([1], 1), { message: NOT_FITTED_MESSAGE });
    assert.throws(() => cal.pValue(1), { message: 'call fit before pValues' });
    assert.throws(() => cal.calibrationSize(), { message: 'call fit before pValues' });
    assert.throws(() => cal.sortedScores(), { message: 'call fit before pValues' });
    cal.fit([1]);
    assert.equal(cal.fitted, true);
  });

  test('copies the calibration scores and leaves the input unsorted', () => {
    const input = Float32Array.from(A);
    const cal = new ConformalCalibrator().fit(input);
    input[0] = 100;
    assert.deepEqual(Array.from(cal.sortedScores()), [0, 0, 2, 5, 5, 9]);
    assert.equal(cal.pValue(6), 1 / 4);
  });

  test('replaces the previous fit when fitted again', () => {
    const cal = new ConformalCalibrator().fit(A).fit([3]);
    assert.equal(cal.pValue(3), 1);
    assert.equal(cal.pValue(4), 0);
  });

  test('rejects empty, NaN, infinite and negative calibration scores', () => {
    const cal = new ConformalCalibrator();
    assert.throws(() => cal.fit([]), /calibrationScores: expected at least 1 score, found 0/);
    assert.throws(() => cal.fit([1, NaN]), /calibrationScores\[1\]: expected a finite score ≥ 0, found NaN/);
    assert.throws(() => cal.fit([Infinity]), /found Infinity/);
    assert.throws(() => cal.fit([2, -1]), /calibrationScores\[1\]: .* found -1/);
    assert.equal(cal.fitted, false);
  });

  test('rejects scores whose length is not a multiple of numClasses, and bad test scores', () => {
    const cal = new ConformalCalibrator().fit(A);
    assert.throws(() => cal.pValues([1, 2, 3], 2), /multiple of numClasses = 2 \(n × numClasses\), found 3/);
    assert.throws(() => cal.pValues([1], 0), /numClasses: expected a positive integer, found 0/);
    assert.throws(() => cal.pValues([1, -2], 2), /scores\[1\]: expected a finite score ≥ 0, found -2/);
    assert.throws(() => cal.pValues([NaN], 1), /scores\[0\]: .* found NaN/);
  });

  test('rejects an unknown formula', () => {
    assert.throws(
      () => new ConformalCalibrator({ formula: 'textbook' as never }), // checked at run time too
      /formula: expected 'reference' or 'conformal', found textbook/,
    );
  });

  test('matches brute-force counting on 10⁴ calibration scores and 10⁵ queries, for both formulas', () => {
    let seed = 12345;
    const rand = (m: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % m;
    };
    const calib = Int32Array.from({ length: 10_000 }, () => rand(301));
    const queries = Int32Array.from({ length: 100_000 }, () => rand(320));
    const cal = new ConformalCalibrator().fit(calib);
    const start = performance.now();
    const ref = cal.pValues(queries, 10);
    const conf = cal.pValues(queries, 10, { formula: 'conformal' });
    const elapsed = performance.now() - start;
    assert.ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
    // brute force on every 97th query
    const nonZero = Array.from(calib).filter((a) => a !== 0);
    for (let i = 0; i < queries.length; i += 97) {
      const a = queries[i];
      const geRef = nonZero.filter((c) => c >= a).length;
      const geAll = Array.from(calib).filter((c) => c >= a).length;
      assert.equal(ref[i], geRef / nonZero.length, `reference p at ${i}`);
      assert.equal(conf[i], (geAll + 1) / (calib.length + 1), `conformal p at ${i}`);
    }
  });
});
