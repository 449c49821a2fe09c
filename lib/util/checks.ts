/**
 * Argument checks shared across the lib, each naming what was expected and what was found.
 */

/** @throws RangeError `"<name> must be a positive integer, found 0"`. */
export function checkPositiveInt(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, found ${String(value)}`);
}

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
    throw new RangeError(`${what} has ${data.length} values, expected rows × dim = ${rows} × ${dim} = ${rows * dim}`);
  }
}

/** Throws a RangeError naming the first non-finite value of row `row` (call only when one exists). */
export function throwNonFinite(what: string, data: Float32Array, row: number, dim: number): never {
  let col = 0;
  while (col < dim && Number.isFinite(data[row * dim + col])) col++;
  throw new RangeError(`${what} row ${row}, column ${col} is ${data[row * dim + col]}: expected finite values`);
}

/** The constructor name (or typeof) of `x`, for messages. */
export function describeType(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}

/** A decimal number as people type it (`75`, `-0.2`, `1e-3`, `.5`); not `0x10`, `Infinity`, `1_000` or empty. */
export const DECIMAL_NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
