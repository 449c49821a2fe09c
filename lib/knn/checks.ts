/**
 * Argument checks shared by the indexes and the preprocessing, each naming what was expected and
 * what was found.
 */
import { NOT_FITTED_SENTENCES } from '../util/errors';

/** Message thrown by `query` before `build`. */
export const NOT_BUILT_MESSAGE = NOT_FITTED_SENTENCES.query;

/**
 * Checks that `data` is a Float32Array holding exactly `rows × dim` values.
 * @param what names the argument in the message, e.g. "data", "queries".
 * @param allowEmpty accept `rows === 0` (default false).
 */
export function checkMatrix(what: string, data: Float32Array, rows: number, dim: number, allowEmpty = false): void {
  if (!(data instanceof Float32Array)) {
    throw new TypeError(`${what} must be a Float32Array, found ${describeType(data)}`);
  }
  if (!Number.isSafeInteger(rows) || rows < (allowEmpty ? 0 : 1)) {
    throw new RangeError(`${what}: rows must be an integer ≥ ${allowEmpty ? 0 : 1}, found ${rows}`);
  }
  if (!Number.isSafeInteger(dim) || dim < 1) {
    throw new RangeError(`${what}: dim must be an integer ≥ 1, found ${dim}`);
  }
  if (data.length !== rows * dim) {
    throw new RangeError(
      `${what} has ${data.length} values, expected rows × dim = ${rows} × ${dim} = ${rows * dim}`,
    );
  }
}

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

/** Throws a RangeError naming the first non-finite value of row `row` (call only when one exists). */
export function throwNonFinite(what: string, data: Float32Array, row: number, dim: number): never {
  let col = 0;
  while (col < dim && Number.isFinite(data[row * dim + col])) col++;
  throw new RangeError(`${what} row ${row}, column ${col} is ${data[row * dim + col]}: expected finite values`);
}

function describeType(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}
