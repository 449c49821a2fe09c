/**
 * The reference preprocessing (`preprocess.ts`) of rows in a row store, in WebAssembly SIMD with
 * the values of the JavaScript loops bit for bit:
 * - `scaleRows`: x ← float32(float64(x) · inv_r) per row (JavaScript's `x *= inv`: the product
 *   rounded to float64, then to float32, both round-to-nearest-even, as f64x2.mul and
 *   f32x4.demote_f64x2_zero do);
 * - `colSums`: sum[j] += x_r[j] in float64, row after row (each column's sum in the same order);
 * - `subtract`: x ← x − c[j] in float32 (JavaScript subtracts in float64 and rounds to float32;
 *   rounding twice is harmless for a subtraction of two float32 values, as float64 has more than
 *   2·24 + 2 bits, so that equals the correctly rounded float32 difference).
 * The squared norms come from the canonical kernel (`canonicalSquares`). Each function returns
 * false (or null) for a plain array: then `preprocess.ts` runs its JavaScript loops.
 */
import { canonicalSquares, rowStoreMemory } from './canonical-wasm';
import { throwNonFinite } from '../util/checks';
import {
  addLocal,
  addTo,
  assembleModule,
  I32,
  op,
  V128,
  whileLt,
  WasmKernel,
  type Fn,
  type WasmMemory,
} from './wasm-asm';

// Locals shared by the three functions: params base 0, rows 1, stride (bytes) 2, dim 3, aux 4;
// i32 rEnd 5, j 6, dimBytes 7, jEnd 8, p 9, a 10; v128 v 11, s 12.
const P = {
  base: 0,
  rows: 1,
  stride: 2,
  dim: 3,
  aux: 4,
  rEnd: 5,
  j: 6,
  dimBytes: 7,
  jEnd: 8,
  p: 9,
  a: 10,
  v: 11,
  s: 12,
};
const LOW = [0, 1, 2, 3, 4, 5, 6, 7];
const HIGH_TO_LOW = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
const JOIN_LOWS = [...LOW, 16, 17, 18, 19, 20, 21, 22, 23];

/** A function looping over rows (base += stride) and, per row, over j: `vector` per 4 values, `scalar` per value, `perRow` after. */
function rowLoops(
  before: number[][],
  vector: number[][],
  scalar: number[][],
  perRow: number[][],
  auxShift: number,
): Fn {
  // p = the row's value j; a = aux + (j << auxShift), not computed for a negative shift
  const at = (shift: number): number[][] => [
    op.get(P.base), op.get(P.j), op.i32Add, op.set(P.p),
    ...(shift < 0 ? [] : [op.get(P.aux), op.get(P.j), ...(shift ? [op.i32(shift), op.i32Shl] : []), op.i32Add, op.set(P.a)]),
  ]; // prettier-ignore
  const body: number[][] = [
    op.get(P.dim), op.i32(2), op.i32Shl, op.set(P.dimBytes),
    op.get(P.dimBytes), op.i32(-16), op.i32And, op.set(P.jEnd),
    op.get(P.base), op.get(P.rows), op.get(P.stride), op.i32Mul, op.i32Add, op.set(P.rEnd),
    ...whileLt(P.base, P.rEnd, [
      ...before,
      op.i32(0), op.set(P.j),
      ...whileLt(P.j, P.jEnd, [...at(auxShift), ...vector, ...addTo(P.j, 16)]),
      ...whileLt(P.j, P.dimBytes, [...at(auxShift), ...scalar, ...addTo(P.j, 4)]),
      ...perRow,
      ...addLocal(P.base, P.stride),
    ]),
  ]; // prettier-ignore
  return {
    params: 5,
    locals: [
      { count: 6, type: I32 },
      { count: 2, type: V128 },
    ],
    body,
  };
}

/** Row r scaled by the float64 at aux + 8r. */
function scaleRows(): Fn {
  const scaled = (half: number[][]) => [
    ...half,
    op.f64x2PromoteLowF32x4,
    op.get(P.s),
    op.f64x2Mul,
    op.f32x4DemoteF64x2Zero,
  ];
  return rowLoops(
    [op.get(P.aux), op.f64LoadAt(0), op.f64x2Splat, op.set(P.s)],
    [
      op.get(P.p), op.v128Load(), op.set(P.v),
      op.get(P.p), ...scaled([op.get(P.v)]), ...scaled([op.get(P.v), op.get(P.v), op.i8x16Shuffle(HIGH_TO_LOW)]), op.i8x16Shuffle(JOIN_LOWS), op.v128Store(),
    ],
    [op.get(P.p), op.get(P.p), op.f32LoadAt(0), op.f64PromoteF32, op.get(P.aux), op.f64LoadAt(0), op.f64Mul, op.f32DemoteF64, op.f32StoreAt(0)],
    addTo(P.aux, 8),
    -1,
  ); // prettier-ignore
}

/** sums[j] (float64 at aux + 8j) += x_r[j] for every row. */
function colSums(): Fn {
  return rowLoops(
    [],
    [
      op.get(P.p), op.v128Load(), op.set(P.v),
      op.get(P.a), op.get(P.a), op.v128Load(), op.get(P.v), op.f64x2PromoteLowF32x4, op.f64x2Add, op.v128Store(),
      op.get(P.a), op.get(P.a), op.v128Load(16), op.get(P.v), op.get(P.v), op.i8x16Shuffle(HIGH_TO_LOW), op.f64x2PromoteLowF32x4, op.f64x2Add, op.v128Store(16),
    ],
    [op.get(P.a), op.get(P.a), op.f64LoadAt(0), op.get(P.p), op.f32LoadAt(0), op.f64PromoteF32, op.f64Add, op.f64StoreAt(0)],
    [],
    1,
  ); // prettier-ignore
}

/** x_r[j] −= c[j] (float32 at aux + 4j) for every row. */
function subtract(): Fn {
  return rowLoops(
    [],
    [op.get(P.p), op.get(P.p), op.v128Load(), op.get(P.a), op.v128Load(), op.f32x4Sub, op.v128Store()],
    [op.get(P.p), op.get(P.p), op.f32LoadAt(0), op.get(P.a), op.f32LoadAt(0), op.f32Sub, op.f32StoreAt(0)],
    [],
    0,
  ); // prettier-ignore
}

interface PreprocessExports {
  scaleRows(base: number, rows: number, strideBytes: number, dim: number, invs: number): void;
  colSums(base: number, rows: number, strideBytes: number, dim: number, sums: number): void;
  subtract(base: number, rows: number, strideBytes: number, dim: number, center: number): void;
}

const kernel = new WasmKernel<PreprocessExports>('preprocessing', () =>
  assembleModule([scaleRows(), colSums(), subtract()], ['scaleRows', 'colSums', 'subtract']),
);
const instances = new WeakMap<WasmMemory, PreprocessExports | null>();

/** The kernels on the row store holding `data`, its scratch space, and `data`'s byte address; null for a plain array. */
function onStore(data: Float32Array): { fn: PreprocessExports; memory: WasmMemory; at: number; bytes: number } | null {
  const store = rowStoreMemory(data);
  if (store === null) return null;
  let fn = instances.get(store.memory);
  if (fn === undefined) {
    try {
      fn = kernel.instantiateOn(store.memory);
    } catch {
      fn = null;
    }
    instances.set(store.memory, fn);
  }
  return fn === null ? null : { fn, memory: store.memory, ...store.scratch };
}

/**
 * {@link normalizeRows} of `preprocess.ts` for a row store (checked arguments): every row's norm is
 * checked before any row changes. Returns false for a plain array.
 */
export function normalizeRowsSimd(data: Float32Array, rows: number, dim: number): boolean {
  const s = onStore(data);
  if (s === null) return false;
  const norms = new Float64Array(rows);
  canonicalSquares(data, rows, dim, norms);
  for (let r = 0; r < rows; r++) if (!Number.isFinite(norms[r])) throwNonFinite('data', data, r, dim);
  const per = Math.floor(s.bytes / 8);
  const invs = new Float64Array(s.memory.buffer, s.at, per);
  for (let r0 = 0; r0 < rows; r0 += per) {
    const m = Math.min(per, rows - r0);
    // A zero row is left as is: times 1 gives every float32 back.
    for (let t = 0; t < m; t++) invs[t] = norms[r0 + t] === 0 ? 1 : 1 / Math.sqrt(norms[r0 + t]);
    s.fn.scaleRows(data.byteOffset + 4 * r0 * dim, m, 4 * dim, dim, s.at);
  }
  return true;
}

/** {@link fitCenter} of `preprocess.ts` for a row store (checked arguments); null for a plain array or a row too long for the scratch space. */
export function fitCenterSimd(data: Float32Array, rows: number, dim: number): Float32Array | null {
  const s = onStore(data);
  if (s === null || 8 * dim > s.bytes) return null;
  const sums = new Float64Array(s.memory.buffer, s.at, dim).fill(0);
  s.fn.colSums(data.byteOffset, rows, 4 * dim, dim, s.at);
  const center = new Float32Array(dim);
  for (let j = 0; j < dim; j++) center[j] = sums[j] / rows;
  return center;
}

/** {@link applyCenter} of `preprocess.ts` for a row store (checked arguments); false for a plain array or a row too long for the scratch space. */
export function applyCenterSimd(data: Float32Array, rows: number, dim: number, center: Float32Array): boolean {
  const s = onStore(data);
  if (s === null || 4 * dim > s.bytes) return false;
  new Float32Array(s.memory.buffer, s.at, dim).set(center);
  s.fn.subtract(data.byteOffset, rows, 4 * dim, dim, s.at);
  return true;
}
