/**
 * Fast Walsh–Hadamard transform (FHT), in place on a Float32Array, as FALCONN's FFHT computes it:
 * unnormalised (H·H = n·I, so applying it twice multiplies by n; H/√n is orthogonal), n a power of two.
 *
 * Arithmetic is float32 radix-2: every butterfly output (a + b, a − b) is rounded to float32, exactly
 * as a C `float` FHT does. The loops run two radix-2 stages per pass (radix-4, intermediates rounded
 * with Math.fround, so the values are bit-identical to plain radix-2), which halves the memory
 * passes. The SIMD kernel of `lsh-wasm.ts` computes the same bits.
 */

/** Whether n is a power of two (1, 2, 4, …). */
export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/**
 * In-place unnormalised Walsh–Hadamard transform of `data[offset … offset + n)`: out[i] =
 * Σ_j (−1)^popcount(i & j) · in[j]. Returns `data`.
 * @param n length of the transform, a power of two. Default `data.length - offset`.
 * @throws RangeError when n is not a power of two or the range does not fit in `data`.
 */
export function fht(data: Float32Array, offset = 0, n = data.length - offset): Float32Array {
  if (!isPowerOfTwo(n)) throw new RangeError(`fht: length must be a power of two, found ${n}`);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + n > data.length) {
    throw new RangeError(`fht: range ${offset} … ${offset + n} does not fit in an array of ${data.length} values`);
  }
  fhtUnchecked(data, offset, n);
  return data;
}

/** {@link fht} without argument checks (n must be a power of two, the range inside `data`). */
export function fhtUnchecked(a: Float32Array, offset: number, n: number): void {
  const fr = Math.fround;
  const end = offset + n;
  let h = 1;
  if (n >= 4) {
    // Stages h = 1 and h = 2 together, on groups of 4 consecutive values.
    for (let i = offset; i < end; i += 4) {
      const x0 = a[i];
      const x1 = a[i + 1];
      const x2 = a[i + 2];
      const x3 = a[i + 3];
      const s0 = fr(x0 + x1);
      const d0 = fr(x0 - x1);
      const s1 = fr(x2 + x3);
      const d1 = fr(x2 - x3);
      a[i] = s0 + s1;
      a[i + 1] = d0 + d1;
      a[i + 2] = s0 - s1;
      a[i + 3] = d0 - d1;
    }
    h = 4;
  }
  // Stages h and 2h together.
  for (; h * 4 <= n; h *= 4) {
    const h2 = 2 * h;
    const h3 = 3 * h;
    const step = 4 * h;
    for (let i = offset; i < end; i += step) {
      const stop = i + h;
      for (let j = i; j < stop; j++) {
        const x0 = a[j];
        const x1 = a[j + h];
        const x2 = a[j + h2];
        const x3 = a[j + h3];
        const s0 = fr(x0 + x1);
        const d0 = fr(x0 - x1);
        const s1 = fr(x2 + x3);
        const d1 = fr(x2 - x3);
        a[j] = s0 + s1;
        a[j + h] = d0 + d1;
        a[j + h2] = s0 - s1;
        a[j + h3] = d0 - d1;
      }
    }
  }
  // An odd number of stages leaves one radix-2 stage (h = n / 2).
  if (h < n) {
    const stop = offset + h;
    for (let j = offset; j < stop; j++) {
      const x = a[j];
      const y = a[j + h];
      a[j] = x + y;
      a[j + h] = x - y;
    }
  }
}
