/**
 * WebAssembly SIMD kernel of the cross-polytope hash: the pseudo-random rotations (random ±1
 * diagonal, then fast Hadamard transform) and the cross-polytope decoding, for 4 points at once.
 *
 * Layout: 4 points are interleaved, coordinate-major: coordinate j of point `lane` is the float32
 * at byte `ptr + 16·j + 4·lane`, so every butterfly is one f32x4 operation with no shuffles.
 *
 * The arithmetic is the same float32 radix-2 FHT as `fht.ts` (two stages per pass, with the same
 * pairing, so each value is bit-identical), the same fold for a partial last rotation and the same
 * decoding rule as the JavaScript kernel of `lsh.ts`: both kernels give identical hashes.
 *
 * The module (~500 bytes) is assembled here from its instructions, so no .wasm file ships; it
 * imports its memory (`env.memory`). Exported functions (pointers are byte offsets, counts are
 * coordinates of 16 bytes):
 * - `fht(ptr, n)`: in-place FHT of length n (a power of two) of the 4 interleaved vectors;
 * - `signFht(src, dst, signs, n)`: dst[j] = src[j]·signs[j] (signs: n float32 ±1), then `fht(dst, n)`
 *   (the multiplication is fused with the first two FHT stages: one memory pass less);
 * - `signFold(src, dst, signs, m, n)`: the first m outputs of `signFht` computed in O(n):
 *   dst[i] = Σ_{j ≡ i mod m} src[j]·signs[j] in increasing j, then `fht(dst, m)` (m a power of two ≤ n);
 * - `decode(ptr, dim, out)`: per lane, the cross-polytope hash of the first `dim` coordinates (index
 *   of the first largest |coordinate|, plus dim when that coordinate is negative), 4 int32 at `out`.
 */

import {
  addLocal,
  addTo,
  assembleModule,
  I32,
  op,
  V128,
  WasmKernel,
  whileLt,
  type Fn,
  type WasmInstance,
} from './wasm-asm';

/**
 * Radix-4 butterfly on v128 locals x0..x3 (indices x, x+1, x+2, x+3), scratch s0, d0, s1, d1 at
 * (t … t+3); stores the 4 results with `store(k, value)` (k = 0…3).
 */
function radix4(x: number, t: number, store: (k: number, value: number[][]) => number[][]): number[][] {
  const [x0, x1, x2, x3] = [x, x + 1, x + 2, x + 3];
  const [s0, d0, s1, d1] = [t, t + 1, t + 2, t + 3];
  return [
    op.get(x0), op.get(x1), op.f32x4Add, op.set(s0),
    op.get(x0), op.get(x1), op.f32x4Sub, op.set(d0),
    op.get(x2), op.get(x3), op.f32x4Add, op.set(s1),
    op.get(x2), op.get(x3), op.f32x4Sub, op.set(d1),
    ...store(0, [op.get(s0), op.get(s1), op.f32x4Add]),
    ...store(1, [op.get(d0), op.get(d1), op.f32x4Add]),
    ...store(2, [op.get(s0), op.get(s1), op.f32x4Sub]),
    ...store(3, [op.get(d0), op.get(d1), op.f32x4Sub]),
  ]; // prettier-ignore
}

/**
 * The FHT; with `fromStage3`, stages 1 and 2 are assumed done (by signFht's fused first pass) and
 * the passes start at h = 4 (n ≥ 4).
 */
function fhtFunction(fromStage3 = false): Fn {
  // params: ptr 0, n 1; i32 locals: end 2, h 3, hb 4, i 5, p 6, stop 7, step 8, p1 9, p2 10, p3 11
  // v128 locals: x0..x3 12..15, s0 d0 s1 d1 16..19
  const [ptr, n, end, h, hb, i, p, stop, step, p1, p2, p3] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const X = 12;
  const T = 16;
  const storeAt = (ptrs: number[]) => (k: number, value: number[][]) => [op.get(ptrs[k]), ...value, op.v128Store()];
  const body: number[][] = [
    op.get(ptr), op.get(n), op.i32(4), op.i32Shl, op.i32Add, op.set(end),
    op.i32(fromStage3 ? 4 : 1), op.set(h),
    // Stages 1 and 2 on groups of 4 consecutive coordinates.
    op.get(n), op.i32(4), op.i32GeU, op.get(h), op.i32(1), op.i32Eq, op.i32And, op.if,
    op.get(ptr), op.set(p),
    ...whileLt(p, end, [
      op.get(p), op.v128Load(0), op.set(X),
      op.get(p), op.v128Load(16), op.set(X + 1),
      op.get(p), op.v128Load(32), op.set(X + 2),
      op.get(p), op.v128Load(48), op.set(X + 3),
      ...radix4(X, T, (k, value) => [op.get(p), ...value, op.v128Store(16 * k)]),
      ...addTo(p, 64),
    ]),
    op.i32(4), op.set(h),
    op.end,
    // Stages h and 2h while 4h ≤ n.
    op.block, op.loop,
    op.get(h), op.i32(2), op.i32Shl, op.get(n), op.i32GtU, op.brIf(1),
    op.get(h), op.i32(4), op.i32Shl, op.set(hb),
    op.get(hb), op.i32(2), op.i32Shl, op.set(step),
    op.get(ptr), op.set(i),
    ...whileLt(i, end, [
      op.get(i), op.set(p),
      op.get(i), op.get(hb), op.i32Add, op.set(stop),
      ...whileLt(p, stop, [
        op.get(p), op.get(hb), op.i32Add, op.set(p1),
        op.get(p1), op.get(hb), op.i32Add, op.set(p2),
        op.get(p2), op.get(hb), op.i32Add, op.set(p3),
        op.get(p), op.v128Load(), op.set(X),
        op.get(p1), op.v128Load(), op.set(X + 1),
        op.get(p2), op.v128Load(), op.set(X + 2),
        op.get(p3), op.v128Load(), op.set(X + 3),
        ...radix4(X, T, storeAt([p, p1, p2, p3])),
        ...addTo(p, 16),
      ]),
      ...addLocal(i, step),
    ]),
    op.get(h), op.i32(2), op.i32Shl, op.set(h),
    op.br(0), op.end, op.end,
    // A last radix-2 stage when the number of stages is odd.
    op.get(h), op.get(n), op.i32LtU, op.if,
    op.get(h), op.i32(4), op.i32Shl, op.set(hb),
    op.get(ptr), op.set(p),
    op.get(ptr), op.get(hb), op.i32Add, op.set(stop),
    ...whileLt(p, stop, [
      op.get(p), op.get(hb), op.i32Add, op.set(p1),
      op.get(p), op.v128Load(), op.set(X),
      op.get(p1), op.v128Load(), op.set(X + 1),
      op.get(p), op.get(X), op.get(X + 1), op.f32x4Add, op.v128Store(),
      op.get(p1), op.get(X), op.get(X + 1), op.f32x4Sub, op.v128Store(),
      ...addTo(p, 16),
    ]),
    op.end,
  ]; // prettier-ignore
  return {
    params: 2,
    locals: [
      { count: 10, type: I32 },
      { count: 8, type: V128 },
    ],
    body,
  };
}

function signFhtFunction(): Fn {
  // params: src 0, dst 1, signs 2, n 3; i32 locals: s 4, d 5, g 6, e 7; v128 x0..x3 8..11, scratch 12..15
  const [src, dst, signs, n, s, d, g, e] = [0, 1, 2, 3, 4, 5, 6, 7];
  const X = 8;
  const T = 12;
  const loadSigned = (i: number) => [
    op.get(s),
    op.v128Load(16 * i),
    op.get(g),
    op.v128Load32Splat4(4 * i),
    op.f32x4Mul,
    op.set(X + i),
  ];
  const body: number[][] = [
    op.get(src), op.set(s), op.get(dst), op.set(d), op.get(signs), op.set(g),
    op.get(src), op.get(n), op.i32(4), op.i32Shl, op.i32Add, op.set(e),
    op.get(n), op.i32(4), op.i32GeU, op.if,
    // Fused: multiply by the signs and run stages 1 and 2 in one pass, then the other stages.
    ...whileLt(s, e, [
      ...[0, 1, 2, 3].flatMap(loadSigned),
      ...radix4(X, T, (k, value) => [op.get(d), ...value, op.v128Store(16 * k)]),
      ...addTo(s, 64), ...addTo(d, 64), ...addTo(g, 16),
    ]),
    op.get(dst), op.get(n), op.call(4),
    op.else,
    ...whileLt(s, e, [
      op.get(d), op.get(s), op.v128Load(), op.get(g), op.v128Load32Splat4(0), op.f32x4Mul, op.v128Store(),
      ...addTo(s, 16), ...addTo(d, 16), ...addTo(g, 4),
    ]),
    op.get(dst), op.get(n), op.call(0),
    op.end,
  ]; // prettier-ignore
  return {
    params: 4,
    locals: [
      { count: 4, type: I32 },
      { count: 8, type: V128 },
    ],
    body,
  };
}

function signFoldFunction(): Fn {
  // params: src 0, dst 1, signs 2, m 3, n 4; i32 locals: s 5, g 6, e 7, q 8, j 9, mask 10
  const [src, dst, signs, m, n, s, g, e, q, j, mask] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const body: number[][] = [
    // dst[0 … m) = 0
    op.get(dst), op.set(q),
    op.get(dst), op.get(m), op.i32(4), op.i32Shl, op.i32Add, op.set(e),
    ...whileLt(q, e, [op.get(q), op.v128Zero, op.v128Store(), ...addTo(q, 16)]),
    // dst[j mod m] += src[j]·signs[j], j = 0, 1, …, n − 1
    op.get(m), op.i32(1), op.i32Sub, op.set(mask),
    op.get(src), op.set(s), op.get(signs), op.set(g), op.i32(0), op.set(j),
    ...whileLt(j, n, [
      op.get(dst), op.get(j), op.get(mask), op.i32And, op.i32(4), op.i32Shl, op.i32Add, op.set(q),
      op.get(q), op.get(q), op.v128Load(), op.get(s), op.v128Load(), op.get(g), op.v128Load32Splat, op.f32x4Mul, op.f32x4Add, op.v128Store(),
      ...addTo(s, 16), ...addTo(g, 4), ...addTo(j, 1),
    ]),
    op.get(dst), op.get(m), op.call(0),
  ]; // prettier-ignore
  return { params: 5, locals: [{ count: 6, type: I32 }], body };
}

function decodeFunction(): Fn {
  // params: ptr 0, dim 1, out 2; i32 locals: j 3, p 4; v128 locals: v 5, a 6, best 7, bestv 8, idx 9, mask 10
  const [ptr, dim, out, j, p, v, a, best, bestv, idx, mask] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const body: number[][] = [
    op.get(ptr), op.v128Load(), op.set(v),
    op.get(v), op.f32x4Abs, op.set(best),
    op.get(v), op.set(bestv),
    op.v128Zero, op.set(idx),
    op.i32(1), op.set(j),
    op.get(ptr), op.i32(16), op.i32Add, op.set(p),
    ...whileLt(j, dim, [
      op.get(p), op.v128Load(), op.set(v),
      op.get(v), op.f32x4Abs, op.set(a),
      op.get(a), op.get(best), op.f32x4Gt, op.set(mask),
      op.get(a), op.get(best), op.get(mask), op.v128Bitselect, op.set(best),
      op.get(v), op.get(bestv), op.get(mask), op.v128Bitselect, op.set(bestv),
      op.get(j), op.i32x4Splat, op.get(idx), op.get(mask), op.v128Bitselect, op.set(idx),
      ...addTo(j, 1), ...addTo(p, 16),
    ]),
    op.get(out),
    op.get(idx), op.get(bestv), op.v128Zero, op.f32x4Lt, op.get(dim), op.i32x4Splat, op.v128And, op.i32x4Add,
    op.v128Store(),
  ]; // prettier-ignore
  return {
    params: 3,
    locals: [
      { count: 2, type: I32 },
      { count: 6, type: V128 },
    ],
    body,
  };
}

/** The kernel module (assembled and compiled once). */
const kernel = new WasmKernel<CrossPolytopeWasmExports>('cross-polytope', () => {
  // Function 4 (fht from stage 3) is internal: called by signFht, not exported.
  const fns = [fhtFunction(), signFhtFunction(), signFoldFunction(), decodeFunction(), fhtFunction(true)];
  return assembleModule(fns, ['fht', 'signFht', 'signFold', 'decode']);
});

/** The kernel module's bytes (exported for tests). */
export function crossPolytopeWasmBytes(): Uint8Array {
  return kernel.bytes();
}

/** The kernel's exported functions. */
export interface CrossPolytopeWasmExports {
  fht(ptr: number, n: number): void;
  signFht(src: number, dst: number, signs: number, n: number): void;
  signFold(src: number, dst: number, signs: number, m: number, n: number): void;
  decode(ptr: number, dim: number, out: number): void;
}

/** One instance of the kernel with its own memory. */
export type CrossPolytopeWasm = WasmInstance<CrossPolytopeWasmExports>;

/**
 * Why the SIMD kernel cannot run here (no WebAssembly SIMD support), or null when it can.
 * Checked once per process.
 */
export function crossPolytopeWasmUnavailable(): string | null {
  return kernel.unavailable();
}

/**
 * Instantiates the kernel with a fresh memory of at least `bytes` bytes (the memory never grows
 * afterwards, so typed-array views of it stay valid).
 * @throws Error when WebAssembly SIMD is unavailable.
 */
export function instantiateCrossPolytopeWasm(bytes: number): CrossPolytopeWasm {
  return kernel.instantiate(bytes);
}
