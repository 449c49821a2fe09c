/**
 * Float32 dot products of one query with gathered rows (`dot-wasm.ts`: the LSH re-ranking's
 * approximate first pass, whose error `dotErrorBound` bounds for the summation order below).
 *
 * Rows in groups of 4 (four memory streams sharing each query load), each row with two f32x4
 * accumulators over 8 values per step; the rows left over one at a time with four accumulators
 * over 16 values per step. Then per row a fixed-order sum: the accumulators pairwise (a0 + a2,
 * a1 + a3, then a0 + a1 for four; a0 + a1 for two), then the lanes as (l0 + l1) + (l2 + l3).
 * Rows are zero-padded to a multiple of 16 values (`strideBytes` a multiple of 64).
 */

/** (l0 + l1) + (l2 + l3) of the lanes of `a`. */
function lanes(a: v128): f32 {
  return f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
}

/** acc + x·y, in this order (f32x4.mul, then f32x4.add). */
function madd(acc: v128, x: v128, y: v128): v128 {
  return f32x4.add(acc, f32x4.mul(x, y));
}

/** The dot products of the query with the 4 rows of ids[0 … 4), stored as 4 float32 at `out`. */
function dots4(q: usize, ids: usize, base: usize, stride: u32, out: usize): void {
  const p0 = base + load<u32>(ids) * stride;
  const p1 = base + load<u32>(ids, 4) * stride;
  const p2 = base + load<u32>(ids, 8) * stride;
  const p3 = base + load<u32>(ids, 12) * stride;
  let a00 = f32x4.splat(0);
  let a01 = f32x4.splat(0);
  let a10 = f32x4.splat(0);
  let a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0);
  let a21 = f32x4.splat(0);
  let a30 = f32x4.splat(0);
  let a31 = f32x4.splat(0);
  for (let j: usize = 0; j < stride; j += 32) {
    const r0 = p0 + j;
    const r1 = p1 + j;
    const r2 = p2 + j;
    const r3 = p3 + j;
    const qj = q + j;
    let v = v128.load(qj);
    a00 = madd(a00, v128.load(r0), v);
    a10 = madd(a10, v128.load(r1), v);
    a20 = madd(a20, v128.load(r2), v);
    a30 = madd(a30, v128.load(r3), v);
    v = v128.load(qj, 16);
    a01 = madd(a01, v128.load(r0, 16), v);
    a11 = madd(a11, v128.load(r1, 16), v);
    a21 = madd(a21, v128.load(r2, 16), v);
    a31 = madd(a31, v128.load(r3, 16), v);
  }
  store<f32>(out, lanes(f32x4.add(a00, a01)));
  store<f32>(out, lanes(f32x4.add(a10, a11)), 4);
  store<f32>(out, lanes(f32x4.add(a20, a21)), 8);
  store<f32>(out, lanes(f32x4.add(a30, a31)), 12);
}

/** The dot product of the query with the row of ids[0], stored as a float32 at `out`. */
function dots1(q: usize, ids: usize, base: usize, stride: u32, out: usize): void {
  const p = base + load<u32>(ids) * stride;
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  for (let j: usize = 0; j < stride; j += 64) {
    const r = p + j;
    const qj = q + j;
    a0 = madd(a0, v128.load(r), v128.load(qj));
    a1 = madd(a1, v128.load(r, 16), v128.load(qj, 16));
    a2 = madd(a2, v128.load(r, 32), v128.load(qj, 32));
    a3 = madd(a3, v128.load(r, 48), v128.load(qj, 48));
  }
  store<f32>(out, lanes(f32x4.add(f32x4.add(a0, a2), f32x4.add(a1, a3))));
}

/**
 * For c < count: out[c] (float32) = Σ_j q[j]·row_{ids[c]}[j] in the order of the module comment,
 * row i at byte `base + i·strideBytes`.
 */
export function dots(q: usize, ids: usize, count: u32, base: usize, strideBytes: u32, out: usize): void {
  const end = ids + (count << 2);
  const groupEnd = ids + ((count & ~3) << 2);
  for (; ids < groupEnd; ids += 16, out += 16) dots4(q, ids, base, strideBytes, out);
  for (; ids < end; ids += 4, out += 4) dots1(q, ids, base, strideBytes, out);
}
