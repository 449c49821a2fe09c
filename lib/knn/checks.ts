/**
 * Argument checks shared by the indexes and the preprocessing, each naming what was expected and
 * what was found.
 */
import { describeType } from '../util/checks';
import { NOT_FITTED_SENTENCES } from '../util/errors';

/** Message thrown by `query` before `build`. */
export const NOT_BUILT_MESSAGE = NOT_FITTED_SENTENCES.query;

/** Checks that `queries` has `rows` rows of the index's `dim` values (dimension mismatch otherwise). */
export function checkQueries(queries: Float32Array, rows: number, dim: number): void {
  if (!(queries instanceof Float32Array)) {
    throw new TypeError(`queries must be a Float32Array, found ${describeType(queries)}`);
  }
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new RangeError(`queries: rows must be an integer ≥ 0, found ${rows}`);
  }
  if (queries.length !== rows * dim) {
    const found = rows > 0 && queries.length % rows === 0 ? ` (${queries.length / rows} per row)` : '';
    throw new RangeError(
      `dimension mismatch: queries have ${queries.length} values${found}, expected rows × dim = ${rows} × ${dim} = ${rows * dim}`,
    );
  }
}

/** Checks that `k` is an integer in 1…size. */
export function checkK(k: number, size: number): void {
  if (!Number.isSafeInteger(k) || k <= 0) {
    throw new RangeError(`k must be a positive integer, found ${k}`);
  }
  if (k > size) {
    throw new RangeError(`k = ${k} exceeds the ${size} rows in the index: expected k ≤ ${size}`);
  }
}
