/** Plain statistics of number arrays: the one definition of each, used across the lib. */

/**
 * The mean of the first `n` values (default all), summed in order; NaN when there are none.
 * @throws RangeError when `n` exceeds the values.
 */
export function mean(values: ArrayLike<number>, n = values.length): number {
  if (n > values.length) throw new RangeError(`mean: asked for the first ${n} values of ${values.length}`);
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  return n > 0 ? s / n : NaN;
}

/** The sum of the values, in order. */
export function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

/** The share of the values below `threshold` (NaN when there are none). */
export function shareBelow(values: ArrayLike<number>, threshold: number): number {
  let below = 0;
  for (let i = 0; i < values.length; i++) if (values[i] < threshold) below++;
  return values.length > 0 ? below / values.length : NaN;
}
