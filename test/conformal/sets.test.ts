import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConformalCalibrator } from '../../lib/conformal/calibrator';
import { mondrianPValues, setsFromPValues, setCoverage, setSizeStats } from '../../lib/conformal/sets';
import { createRng } from '../../lib/util/random';

/**
 * A seeded exchangeable problem over 3 classes: α(x, y) (true class) ~ the class's own spread
 * (class 2 is hard: larger scores), α(x, j ≠ y) larger. Calibration and test come from the same
 * distribution.
 */
function problem(n: number, seed: number): { scores: Float64Array; labels: Int32Array; trueScores: Float64Array } {
  const rng = createRng(seed);
  const scores = new Float64Array(n * 3);
  const labels = new Int32Array(n);
  const trueScores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = rng.int(3);
    labels[i] = y;
    for (let j = 0; j < 3; j++) {
      const base = j === y ? (y === 2 ? 40 : 10) : 60;
      scores[i * 3 + j] = Math.max(0, Math.round(base + 15 * rng.normal()));
    }
    trueScores[i] = scores[i * 3 + y];
  }
  return { scores, labels, trueScores };
}

test('textbook (conformal) sets cover the true label at least 1 − ε of the time, within sampling error', () => {
  const cal = problem(2000, 1);
  const t = problem(6000, 2);
  const calibrator = new ConformalCalibrator({ formula: 'conformal' }).fit(cal.trueScores);
  const p = calibrator.pValues(t.scores, 3);
  for (const eps of [0.01, 0.05, 0.1, 0.2]) {
    const c = setCoverage(setsFromPValues(p, { numClasses: 3, epsilon: eps }), t.labels);
    const tol = 3 * Math.sqrt((eps * (1 - eps)) / t.labels.length);
    assert.ok(c.coverage >= 1 - eps - tol, `ε ${eps}: coverage ${c.coverage} ≥ ${1 - eps} − ${tol.toFixed(4)}`);
    assert.ok(c.coverage <= 1 - eps + 0.05, `ε ${eps}: not trivially over-covering (${c.coverage})`);
  }
});

test('Mondrian (class-conditional) sets cover every class, where marginal ones under-cover the hard class', () => {
  const cal = problem(3000, 3);
  const t = problem(6000, 4);
  const eps = 0.1;
  const marginal = setCoverage(
    setsFromPValues(new ConformalCalibrator({ formula: 'conformal' }).fit(cal.trueScores).pValues(t.scores, 3), {
      numClasses: 3,
      epsilon: eps,
    }),
    t.labels,
  );
  const mondrian = setCoverage(
    setsFromPValues(
      mondrianPValues(t.scores, {
        numClasses: 3,
        calibScores: cal.trueScores,
        calibLabels: cal.labels,
        formula: 'conformal',
      }),
      { numClasses: 3, epsilon: eps },
    ),
    t.labels,
  );
  assert.ok(
    marginal.classCoverage[2] < 1 - eps - 0.05,
    `marginal coverage of the hard class ${marginal.classCoverage[2]}`,
  );
  const tol = 3 * Math.sqrt((eps * (1 - eps)) / 2000);
  mondrian.classCoverage.forEach((c, y) => assert.ok(c >= 1 - eps - tol, `Mondrian coverage of class ${y}: ${c}`));
  assert.throws(
    () => mondrianPValues(t.scores, { numClasses: 3, calibScores: [1, 2], calibLabels: [0, 1], formula: 'conformal' }),
    /class 2 has no calibration example/,
  );
  assert.throws(
    () =>
      mondrianPValues(t.scores, {
        numClasses: 3,
        calibScores: [0, 0, 0],
        calibLabels: [0, 1, 2],
        formula: 'reference',
      }),
    /every calibration score of class 0 is 0/,
  );
});

test('sets, sizes, empty and singleton shares by hand', () => {
  const p = [0.5, 0.02, 0.3, /**/ 0.01, 0.04, 0.0, /**/ 0.9, 0.2, 0.06];
  const s = setsFromPValues(p, { numClasses: 3, epsilon: 0.05 });
  assert.deepEqual(Array.from(s.members), [1, 0, 1, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(Array.from(s.sizes), [2, 0, 3]);
  const c = setCoverage(s, [2, 1, 1]);
  assert.equal(c.coverage, 2 / 3);
  assert.equal(c.emptyShare, 1 / 3);
  assert.equal(c.singletonShare, 0);
  assert.equal(c.meanSize, 5 / 3);
  assert.deepEqual(c.classCoverage, [NaN, 0.5, 1]);
  assert.deepEqual(setSizeStats(s), { meanSize: 5 / 3, emptyShare: 1 / 3, singletonShare: 0 });
  assert.throws(() => setsFromPValues(p, { numClasses: 3, epsilon: 1.5 }), /epsilon must be in \[0, 1\], found 1.5/);
  assert.throws(
    () => setsFromPValues([0.1, 0.2], { numClasses: 3, epsilon: 0.1 }),
    /2 p-values do not split into rows of 3 classes/,
  );
});
