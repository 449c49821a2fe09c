import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCenter, fitCenter, normalizeRows, Preprocessor, PREPROCESSOR_NOT_FITTED } from '../../lib/knn/preprocess';
import { ExactIndex } from '../../lib/knn/exact/exact';
import { randomMatrix } from './helpers';

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}]: ${actual[i]} ≠ ${expected[i]}`);
  }
}

function rowNorm(data: Float32Array, r: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += data[r * dim + j] ** 2;
  return Math.sqrt(s);
}

describe('normalizeRows', () => {
  test('scales (3, 4) to (0.6, 0.8) and (0, -2) to (0, -1), in place', () => {
    const data = Float32Array.from([3, 4, 0, -2]);
    const out = normalizeRows(data, 2, 2);
    assert.equal(out, data);
    close(data, [0.6, 0.8, 0, -1]);
  });

  test('gives every non-zero row unit L2 norm', () => {
    const data = randomMatrix(50, 13, 1);
    normalizeRows(data, 50, 13);
    for (let r = 0; r < 50; r++) assert.ok(Math.abs(rowNorm(data, r, 13) - 1) < 1e-6, `row ${r}`);
  });

  test('leaves an all-zero row at zero (the reference would produce NaN)', () => {
    const data = Float32Array.from([0, 0, 0, 1, 1, 0]);
    normalizeRows(data, 2, 3);
    close(data, [0, 0, 0, Math.SQRT1_2, Math.SQRT1_2, 0]);
    assert.ok(data.every(Number.isFinite));
  });

  test('refuses non-finite values, naming row and column', () => {
    assert.throws(() => normalizeRows(Float32Array.from([1, 2, NaN, 4]), 2, 2), {
      message: 'data row 1, column 0 is NaN: expected finite values',
    });
  });

  test('checks the length against rows × dim', () => {
    assert.throws(() => normalizeRows(new Float32Array(5), 2, 3), {
      message: 'data has 5 values, expected rows × dim = 2 × 3 = 6',
    });
  });
});

describe('fitCenter and applyCenter', () => {
  test('the center of (1, 2), (3, 6) is (2, 4); subtracting it gives (-1, -2), (1, 2)', () => {
    const data = Float32Array.from([1, 2, 3, 6]);
    const center = fitCenter(data, 2, 2);
    close(center, [2, 4]);
    close(applyCenter(data, 2, 2, center), [-1, -2, 1, 2]);
  });

  test('applyCenter refuses a center of the wrong length', () => {
    assert.throws(() => applyCenter(new Float32Array(6), 2, 3, new Float32Array(2)), {
      message: 'dimension mismatch: center has 2 values, expected dim = 3',
    });
  });
});

describe('Preprocessor', () => {
  test('fitTransform normalizes the training rows, then subtracts their mean', () => {
    // Rows (3, 4), (0, 5), (0, 0): normalized (0.6, 0.8), (0, 1), (0, 0); mean (0.2, 0.6).
    const train = Float32Array.from([3, 4, 0, 5, 0, 0]);
    const pre = new Preprocessor();
    pre.fitTransform(train, { rows: 3, dim: 2 });
    close(pre.center, [0.2, 0.6]);
    // The zero row stays zero through normalization, then is centered: it becomes −center.
    close(train, [0.4, 0.2, -0.2, 0.4, -0.2, -0.6]);
    assert.equal(pre.dim, 2);
  });

  test('the centered training rows have mean zero and the center is the mean of the unit rows', () => {
    const rows = 200;
    const dim = 9;
    const raw = randomMatrix(rows, dim, 4).map((v) => v + 0.5); // off-center data
    const unit = normalizeRows(raw.slice(), rows, dim);
    const expectedCentre = new Float64Array(dim);
    for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) expectedCentre[j] += unit[r * dim + j] / rows;
    const train = raw.slice();
    const pre = new Preprocessor();
    pre.fitTransform(train, { rows, dim });
    close(pre.center, expectedCentre);
    close(fitCenter(train, rows, dim), new Float64Array(dim), 1e-6);
  });

  test('fit learns the same center without touching the training rows', () => {
    const raw = randomMatrix(30, 5, 5);
    const copy = raw.slice();
    const a = new Preprocessor().fit(raw, { rows: 30, dim: 5 });
    assert.deepEqual(raw, copy);
    const b = new Preprocessor();
    b.fitTransform(copy, { rows: 30, dim: 5 });
    assert.deepEqual(a.center, b.center);
  });

  test('transform applies the training center to queries, not their own mean', () => {
    const pre = new Preprocessor();
    pre.fitTransform(Float32Array.from([3, 4, 0, 5, 0, 0]), { rows: 3, dim: 2 }); // center (0.2, 0.6)
    const q = Float32Array.from([0, 2, 6, 8]); // normalized (0, 1), (0.6, 0.8)
    pre.transform(q, 2);
    close(q, [-0.2, 0.4, 0.4, 0.2]);
  });

  test('transform before fit says to call fit first', () => {
    assert.throws(() => new Preprocessor().transform(new Float32Array(2), 1), { message: PREPROCESSOR_NOT_FITTED });
  });

  test('transform checks query length against the fitted dim', () => {
    const pre = Preprocessor.fromCenter(new Float32Array(3));
    assert.throws(() => pre.transform(new Float32Array(4), 2), {
      message: 'data has 4 values, expected rows × dim = 2 × 3 = 6',
    });
  });

  test('fromCenter restores a saved center', () => {
    const pre = Preprocessor.fromCenter(Float32Array.from([1, 1]));
    assert.ok(pre.fitted);
    close(pre.transform(Float32Array.from([0, 3]), 1), [-1, 0]);
  });

  test('ranking by squared distance after preprocessing equals ranking by cosine similarity', async () => {
    const n = 80;
    const dim = 7;
    const raw = randomMatrix(n, dim, 9);
    const rawQ = randomMatrix(3, dim, 10);
    const cosine = (r: number, i: number): number => {
      let s = 0;
      let a = 0;
      let b = 0;
      for (let j = 0; j < dim; j++) {
        s += rawQ[r * dim + j] * raw[i * dim + j];
        a += rawQ[r * dim + j] ** 2;
        b += raw[i * dim + j] ** 2;
      }
      return s / Math.sqrt(a * b);
    };
    const train = raw.slice();
    const queries = rawQ.slice();
    const pre = new Preprocessor();
    pre.fitTransform(train, { rows: n, dim });
    pre.transform(queries, 3);
    const index = new ExactIndex({ backend: 'js' });
    await index.build(train, { rows: n, dim });
    const res = await index.query(queries, { rows: 3, k: 10 });
    for (let r = 0; r < 3; r++) {
      const byCosine = Array.from({ length: n }, (_, i) => i).sort((x, y) => cosine(r, y) - cosine(r, x));
      assert.deepEqual(Array.from(res.indices.subarray(r * 10, r * 10 + 10)), byCosine.slice(0, 10), `query ${r}`);
    }
  });
});
