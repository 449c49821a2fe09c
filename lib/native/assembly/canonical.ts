/**
 * Canonical float64 dot products and squared norms (`canonical-wasm.ts`), bit for bit the sums of
 * `kernel.ts`: each row's sum runs sequentially over j = 0, 1, …, dim−1 in float64; the two f64x2
 * lanes hold two different rows, never two parts of one sum. A float32 is widened exactly
 * (f64x2.promote_low_f32x4), the product of two widened float32 values is exact in float64, and
 * f64x2.mul / f64x2.add round to nearest without fusing, so every partial sum is the JavaScript one.
 *
 * Rows in groups of 4 (two independent f64x2 chains sharing each query load; 8 rows measured no
 * faster, 0.46–0.58 against 0.50–0.57 ns per product on the 2-core machine), then a pair, then a
 * last single row (in both lanes, lane 0 stored); j in steps of 8 values (float32 at immediate offsets from one
 * address per row), then 1. Pointers are byte addresses in the imported memory.
 */

/** A v128 of two float32 in its low half, widened to two float64 (exact). */
function widen(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

/** The two float32 at r0 and r1 (byte addresses), widened: lane 0 from r0, lane 1 from r1. */
function pairAt(r0: usize, r1: usize): v128 {
  return widen(v128.load32_lane(r1, v128.load32_zero(r0), 1));
}

/** acc + x·y, in this order (f64x2.mul, then f64x2.add). */
function madd(acc: v128, x: v128, y: v128): v128 {
  return f64x2.add(acc, f64x2.mul(x, y));
}

/** acc + x·x, in this order. */
function msq(acc: v128, x: v128): v128 {
  return f64x2.add(acc, f64x2.mul(x, x));
}

/** Start of the row whose id is the int32 at `id`. */
function rowAt(id: usize, base: usize, stride: u32): usize {
  return base + load<u32>(id) * stride;
}

/** Dot products of the query with the rows of ids[0 … 4), stored as 4 float64 at `out`. */
function dots4(q: usize, ids: usize, base: usize, stride: u32, dimBytes: usize, jEnd: usize, out: usize): void {
  const p0 = rowAt(ids, base, stride);
  const p1 = rowAt(ids + 4, base, stride);
  const p2 = rowAt(ids + 8, base, stride);
  const p3 = rowAt(ids + 12, base, stride);
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let j: usize = 0;
  for (; j < jEnd; j += 32) {
    const r0 = p0 + j;
    const r1 = p1 + j;
    const r2 = p2 + j;
    const r3 = p3 + j;
    const qj = q + j;
    let s: v128;
    s = widen(v128.load32_splat(qj, 0));
    a0 = madd(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 0), 1, 0)), s);
    a1 = madd(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 0), 1, 0)), s);
    s = widen(v128.load32_splat(qj, 4));
    a0 = madd(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 4), 1, 4)), s);
    a1 = madd(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 4), 1, 4)), s);
    s = widen(v128.load32_splat(qj, 8));
    a0 = madd(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 8), 1, 8)), s);
    a1 = madd(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 8), 1, 8)), s);
    s = widen(v128.load32_splat(qj, 12));
    a0 = madd(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 12), 1, 12)), s);
    a1 = madd(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 12), 1, 12)), s);
    s = widen(v128.load32_splat(qj, 16));
    a0 = madd(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 16), 1, 16)), s);
    a1 = madd(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 16), 1, 16)), s);
    s = widen(v128.load32_splat(qj, 20));
    a0 = madd(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 20), 1, 20)), s);
    a1 = madd(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 20), 1, 20)), s);
    s = widen(v128.load32_splat(qj, 24));
    a0 = madd(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 24), 1, 24)), s);
    a1 = madd(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 24), 1, 24)), s);
    s = widen(v128.load32_splat(qj, 28));
    a0 = madd(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 28), 1, 28)), s);
    a1 = madd(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 28), 1, 28)), s);
  }
  for (; j < dimBytes; j += 4) {
    const s = widen(v128.load32_splat(q + j));
    a0 = madd(a0, pairAt(p0 + j, p1 + j), s);
    a1 = madd(a1, pairAt(p2 + j, p3 + j), s);
  }
  v128.store(out, a0);
  v128.store(out, a1, 16);
}

/** Dot products of the query with rows p0 (lane 0) and p1 (lane 1). */
function dots2(q: usize, p0: usize, p1: usize, dimBytes: usize, jEnd: usize): v128 {
  let a = f64x2.splat(0);
  let j: usize = 0;
  for (; j < jEnd; j += 32) {
    const r0 = p0 + j;
    const r1 = p1 + j;
    const qj = q + j;
    a = madd(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 0), 1, 0)), widen(v128.load32_splat(qj, 0)));
    a = madd(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 4), 1, 4)), widen(v128.load32_splat(qj, 4)));
    a = madd(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 8), 1, 8)), widen(v128.load32_splat(qj, 8)));
    a = madd(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 12), 1, 12)), widen(v128.load32_splat(qj, 12)));
    a = madd(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 16), 1, 16)), widen(v128.load32_splat(qj, 16)));
    a = madd(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 20), 1, 20)), widen(v128.load32_splat(qj, 20)));
    a = madd(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 24), 1, 24)), widen(v128.load32_splat(qj, 24)));
    a = madd(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 28), 1, 28)), widen(v128.load32_splat(qj, 28)));
  }
  for (; j < dimBytes; j += 4) a = madd(a, pairAt(p0 + j, p1 + j), widen(v128.load32_splat(q + j)));
  return a;
}

/** Squared norms of the rows of ids[0 … 4), stored as 4 float64 at `out`. */
function squares4(ids: usize, base: usize, stride: u32, dimBytes: usize, jEnd: usize, out: usize): void {
  const p0 = rowAt(ids, base, stride);
  const p1 = rowAt(ids + 4, base, stride);
  const p2 = rowAt(ids + 8, base, stride);
  const p3 = rowAt(ids + 12, base, stride);
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let j: usize = 0;
  for (; j < jEnd; j += 32) {
    const r0 = p0 + j;
    const r1 = p1 + j;
    const r2 = p2 + j;
    const r3 = p3 + j;
    a0 = msq(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 0), 1, 0)));
    a1 = msq(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 0), 1, 0)));
    a0 = msq(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 4), 1, 4)));
    a1 = msq(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 4), 1, 4)));
    a0 = msq(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 8), 1, 8)));
    a1 = msq(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 8), 1, 8)));
    a0 = msq(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 12), 1, 12)));
    a1 = msq(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 12), 1, 12)));
    a0 = msq(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 16), 1, 16)));
    a1 = msq(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 16), 1, 16)));
    a0 = msq(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 20), 1, 20)));
    a1 = msq(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 20), 1, 20)));
    a0 = msq(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 24), 1, 24)));
    a1 = msq(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 24), 1, 24)));
    a0 = msq(a0, widen(v128.load32_lane(r1, v128.load32_zero(r0, 28), 1, 28)));
    a1 = msq(a1, widen(v128.load32_lane(r3, v128.load32_zero(r2, 28), 1, 28)));
  }
  for (; j < dimBytes; j += 4) {
    a0 = msq(a0, pairAt(p0 + j, p1 + j));
    a1 = msq(a1, pairAt(p2 + j, p3 + j));
  }
  v128.store(out, a0);
  v128.store(out, a1, 16);
}

/** Squared norms of rows p0 (lane 0) and p1 (lane 1). */
function squares2(p0: usize, p1: usize, dimBytes: usize, jEnd: usize): v128 {
  let a = f64x2.splat(0);
  let j: usize = 0;
  for (; j < jEnd; j += 32) {
    const r0 = p0 + j;
    const r1 = p1 + j;
    a = msq(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 0), 1, 0)));
    a = msq(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 4), 1, 4)));
    a = msq(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 8), 1, 8)));
    a = msq(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 12), 1, 12)));
    a = msq(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 16), 1, 16)));
    a = msq(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 20), 1, 20)));
    a = msq(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 24), 1, 24)));
    a = msq(a, widen(v128.load32_lane(r1, v128.load32_zero(r0, 28), 1, 28)));
  }
  for (; j < dimBytes; j += 4) a = msq(a, pairAt(p0 + j, p1 + j));
  return a;
}

/**
 * For c < count: out[c] (float64) = Σ_j q[j]·row_{ids[c]}[j], row i at byte `base + i·strideBytes`,
 * `dim` float32 values per row.
 */
export function dots(q: usize, ids: usize, count: u32, base: usize, strideBytes: u32, dim: u32, out: usize): void {
  const dimBytes: usize = dim << 2;
  const jEnd = dimBytes & ~31;
  const end = ids + (count << 2);
  for (; ids + 16 <= end; ids += 16, out += 32) dots4(q, ids, base, strideBytes, dimBytes, jEnd, out);
  for (; ids + 8 <= end; ids += 8, out += 16) {
    const p0 = rowAt(ids, base, strideBytes);
    v128.store(out, dots2(q, p0, rowAt(ids + 4, base, strideBytes), dimBytes, jEnd));
  }
  if (ids + 4 <= end) {
    const p0 = rowAt(ids, base, strideBytes);
    v128.store64_lane(out, dots2(q, p0, p0, dimBytes, jEnd), 0);
  }
}

/** The loops of {@link dots} with each row in place of the query: out[c] = Σ_j row_{ids[c]}[j]² (`q` unused). */
export function squares(q: usize, ids: usize, count: u32, base: usize, strideBytes: u32, dim: u32, out: usize): void {
  const dimBytes: usize = dim << 2;
  const jEnd = dimBytes & ~31;
  const end = ids + (count << 2);
  for (; ids + 16 <= end; ids += 16, out += 32) squares4(ids, base, strideBytes, dimBytes, jEnd, out);
  for (; ids + 8 <= end; ids += 8, out += 16) {
    const p0 = rowAt(ids, base, strideBytes);
    v128.store(out, squares2(p0, rowAt(ids + 4, base, strideBytes), dimBytes, jEnd));
  }
  if (ids + 4 <= end) {
    const p0 = rowAt(ids, base, strideBytes);
    v128.store64_lane(out, squares2(p0, p0, dimBytes, jEnd), 0);
  }
}
