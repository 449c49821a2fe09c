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
 * false (or null) for a plain array: then `preprocess.ts` runs its JavaScript loops. The kernel is
 * the AssemblyScript module `assembly/preprocess.ts` (per row, 4 values at a time, then one at a time).
 */
import { canonicalSquares, rowStoreMemory } from './canonical-wasm';
import { throwNonFinite } from '../util/checks';
import { WasmKernel, type WasmMemory } from './wasm-kernel';

interface PreprocessExports {
  scaleRows(base: number, rows: number, strideBytes: number, dim: number, invs: number): void;
  colSums(base: number, rows: number, strideBytes: number, dim: number, sums: number): void;
  subtract(base: number, rows: number, strideBytes: number, dim: number, center: number): void;
}

/** The kernel: `assembly/preprocess.ts`. */
const kernel = new WasmKernel<PreprocessExports>('preprocessing', 'preprocess.wasm');
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
