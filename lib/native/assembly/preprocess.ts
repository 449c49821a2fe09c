/**
 * The reference preprocessing of rows in a row store (`preprocess-wasm.ts`), with the values of the
 * JavaScript loops of `preprocess.ts` bit for bit. Each function runs over `rows` rows of `dim`
 * float32 (row r at byte `base + r·strideBytes`), per row 4 values at a time, then one at a time:
 * - `scaleRows`: x ← float32(float64(x) · inv_r), inv_r the float64 at aux + 8r (JavaScript's
 *   `x *= inv`: the product rounded to float64, then to float32, both round-to-nearest-even, as
 *   f64x2.mul and f32x4.demote_f64x2_zero do);
 * - `colSums`: sum[j] += x_r[j] in float64 (sum[j] at aux + 8j), row after row: each column's sum in
 *   the same order;
 * - `subtract`: x ← x − c[j] in float32 (c[j] at aux + 4j; JavaScript subtracts in float64 and
 *   rounds to float32, which equals the correctly rounded float32 difference: float64 has more than
 *   2·24 + 2 bits).
 */

/** The high two float32 of `v` moved to its low half. */
function high(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 3, 2, 3);
}

/** float32(float64(x)·s) for the two float32 in the low half of `x` (s: f64x2), in the low half. */
function scaled(x: v128, s: v128): v128 {
  return f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(x), s));
}

/** Row r scaled by the float64 at aux + 8r. */
export function scaleRows(base: usize, rows: u32, strideBytes: u32, dim: u32, aux: usize): void {
  const dimBytes: usize = dim << 2;
  const jEnd = dimBytes & ~15;
  const rEnd = base + rows * strideBytes;
  for (; base < rEnd; base += strideBytes, aux += 8) {
    const s = f64x2.splat(load<f64>(aux));
    let j: usize = 0;
    for (; j < jEnd; j += 16) {
      const p = base + j;
      const v = v128.load(p);
      v128.store(p, v128.shuffle<f64>(scaled(v, s), scaled(high(v), s), 0, 2));
    }
    for (; j < dimBytes; j += 4) {
      const p = base + j;
      store<f32>(p, <f32>(<f64>load<f32>(p) * load<f64>(aux)));
    }
  }
}

/** sums[j] (float64 at aux + 8j) += x_r[j] for every row, in row order. */
export function colSums(base: usize, rows: u32, strideBytes: u32, dim: u32, aux: usize): void {
  const dimBytes: usize = dim << 2;
  const jEnd = dimBytes & ~15;
  const rEnd = base + rows * strideBytes;
  for (; base < rEnd; base += strideBytes) {
    let j: usize = 0;
    for (; j < jEnd; j += 16) {
      const v = v128.load(base + j);
      const a = aux + (j << 1);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(high(v))), 16);
    }
    for (; j < dimBytes; j += 4) {
      const a = aux + (j << 1);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(base + j));
    }
  }
}

/** x_r[j] −= c[j] (float32 at aux + 4j) for every row. */
export function subtract(base: usize, rows: u32, strideBytes: u32, dim: u32, aux: usize): void {
  const dimBytes: usize = dim << 2;
  const jEnd = dimBytes & ~15;
  const rEnd = base + rows * strideBytes;
  for (; base < rEnd; base += strideBytes) {
    let j: usize = 0;
    for (; j < jEnd; j += 16) {
      const p = base + j;
      v128.store(p, f32x4.sub(v128.load(p), v128.load(aux + j)));
    }
    for (; j < dimBytes; j += 4) {
      const p = base + j;
      store<f32>(p, load<f32>(p) - load<f32>(aux + j));
    }
  }
}
