/**
 * The cross-polytope hash kernel (`lsh-wasm.ts`): pseudo-random rotations (random ±1 diagonal, then
 * fast Hadamard transform) and the cross-polytope decoding, for 4 points at once.
 *
 * Layout: the 4 points are interleaved, coordinate-major: coordinate j of point `lane` is the
 * float32 at byte `ptr + 16·j + 4·lane`, so every butterfly is one f32x4 operation with no shuffle.
 * The arithmetic is the float32 radix-2 FHT of `fht.ts` with the same pairing (two stages per pass
 * as one radix-4 butterfly: s0 = x0 + x1, d0 = x0 − x1, s1 = x2 + x3, d1 = x2 − x3, then s0 + s1,
 * d0 + d1, s0 − s1, d0 − d1, exactly the values of the two radix-2 stages), the same fold for a
 * partial last rotation and the same decoding rule as the JavaScript kernel of `lsh.ts`: both
 * kernels give identical hashes. Counts are coordinates (16 bytes each), pointers byte addresses.
 */

/** Radix-4 butterfly of x0 … x3 (see the module comment), results stored at p0 … p3. */
function radix4(x0: v128, x1: v128, x2: v128, x3: v128, p0: usize, p1: usize, p2: usize, p3: usize): void {
  const s0 = f32x4.add(x0, x1);
  const d0 = f32x4.sub(x0, x1);
  const s1 = f32x4.add(x2, x3);
  const d1 = f32x4.sub(x2, x3);
  v128.store(p0, f32x4.add(s0, s1));
  v128.store(p1, f32x4.add(d0, d1));
  v128.store(p2, f32x4.sub(s0, s1));
  v128.store(p3, f32x4.sub(d0, d1));
}

/** The FHT passes of length n from stage h (1, or 4 when stages 1 and 2 are done). */
function fhtFrom(ptr: usize, n: u32, h: u32): void {
  const end = ptr + ((<usize>n) << 4);
  // Stages 1 and 2 on groups of 4 consecutive coordinates.
  if (n >= 4 && h == 1) {
    for (let p = ptr; p < end; p += 64)
      radix4(v128.load(p), v128.load(p, 16), v128.load(p, 32), v128.load(p, 48), p, p + 16, p + 32, p + 48);
    h = 4;
  }
  // Stages h and 2h while 4h ≤ n.
  for (; h << 2 <= n; h <<= 2) {
    const hb: usize = h << 4;
    const step = hb << 2;
    for (let i = ptr; i < end; i += step) {
      const stop = i + hb;
      for (let p = i; p < stop; p += 16) {
        const p1 = p + hb;
        const p2 = p1 + hb;
        const p3 = p2 + hb;
        radix4(v128.load(p), v128.load(p1), v128.load(p2), v128.load(p3), p, p1, p2, p3);
      }
    }
  }
  // A last radix-2 stage when the number of stages is odd.
  if (h < n) {
    const hb: usize = h << 4;
    const stop = ptr + hb;
    for (let p = ptr; p < stop; p += 16) {
      const p1 = p + hb;
      const x = v128.load(p);
      const y = v128.load(p1);
      v128.store(p, f32x4.add(x, y));
      v128.store(p1, f32x4.sub(x, y));
    }
  }
}

/** In-place FHT of length n (a power of two) of the 4 interleaved vectors at ptr. */
export function fht(ptr: usize, n: u32): void {
  fhtFrom(ptr, n, 1);
}

/**
 * dst[j] = src[j]·signs[j] (signs: n float32 ±1), then `fht(dst, n)`; for n ≥ 4 the multiplication
 * is fused with the first two FHT stages (one memory pass less).
 */
export function signFht(src: usize, dst: usize, signs: usize, n: u32): void {
  const e = src + ((<usize>n) << 4);
  let s = src;
  let d = dst;
  let g = signs;
  if (n >= 4) {
    for (; s < e; s += 64, d += 64, g += 16) {
      const x0 = f32x4.mul(v128.load(s), v128.load32_splat(g, 0));
      const x1 = f32x4.mul(v128.load(s, 16), v128.load32_splat(g, 4));
      const x2 = f32x4.mul(v128.load(s, 32), v128.load32_splat(g, 8));
      const x3 = f32x4.mul(v128.load(s, 48), v128.load32_splat(g, 12));
      radix4(x0, x1, x2, x3, d, d + 16, d + 32, d + 48);
    }
    fhtFrom(dst, n, 4);
  } else {
    for (; s < e; s += 16, d += 16, g += 4) v128.store(d, f32x4.mul(v128.load(s), v128.load32_splat(g)));
    fhtFrom(dst, n, 1);
  }
}

/**
 * The first m outputs of `signFht` in O(n): dst[i] = Σ_{j ≡ i mod m} src[j]·signs[j] in increasing
 * j, then `fht(dst, m)` (m a power of two ≤ n).
 */
export function signFold(src: usize, dst: usize, signs: usize, m: u32, n: u32): void {
  const e = dst + ((<usize>m) << 4);
  for (let q = dst; q < e; q += 16) v128.store(q, f32x4.splat(0));
  const mask = m - 1;
  let s = src;
  let g = signs;
  for (let j: u32 = 0; j < n; j++, s += 16, g += 4) {
    const q = dst + ((<usize>(j & mask)) << 4);
    v128.store(q, f32x4.add(v128.load(q), f32x4.mul(v128.load(s), v128.load32_splat(g))));
  }
  fhtFrom(dst, m, 1);
}

/**
 * Per lane, the cross-polytope hash of the first `dim` coordinates at ptr: the index of the first
 * largest |coordinate|, plus dim when that coordinate is negative; 4 int32 stored at `out`.
 */
export function decode(ptr: usize, dim: u32, out: usize): void {
  let v = v128.load(ptr);
  let best = f32x4.abs(v);
  let bestv = v;
  let idx = i32x4.splat(0);
  let p = ptr + 16;
  for (let j: u32 = 1; j < dim; j++, p += 16) {
    v = v128.load(p);
    const a = f32x4.abs(v);
    const mask = f32x4.gt(a, best);
    best = v128.bitselect(a, best, mask);
    bestv = v128.bitselect(v, bestv, mask);
    idx = v128.bitselect(i32x4.splat(j), idx, mask);
  }
  v128.store(out, i32x4.add(idx, v128.and(f32x4.lt(bestv, f32x4.splat(0)), i32x4.splat(dim))));
}
