/**
 * WebAssembly SIMD dot products of one query with gathered database rows: the fast first pass of
 * the LSH re-ranking (`lsh.ts`). The rows live in the kernel's own memory (a {@link WasmRowStore}),
 * zero-padded to a multiple of 16 values; the result is float32 and only approximate: callers
 * bound its error with {@link dotErrorBound} and recompute the canonical float64 distance
 * (`kernel.ts`) where the bound leaves the ranking open, so results stay exact.
 *
 * Exported function: `dots(q, ids, count, base, strideBytes, out)`: for c < count,
 * out[c] (float32) = Σ_j q[j]·row_{ids[c]}[j] where row i starts at byte `base + i·strideBytes`;
 * 16 products per step in four f32x4 accumulators, then a fixed-order horizontal sum.
 */

import { assembleModule, I32, op, V128, WASM_MAX_BYTES, WasmKernel, whileLt, type Fn, type WasmInstance } from './wasm-asm';

function dotsFunction(): Fn {
  // params: q 0, ids 1, count 2, base 3, stride 4, out 5; i32 locals: end 6, row 7, j 8, rj 9, qj 10
  // v128 locals: a0..a3 11..14
  const [q, ids, count, base, stride, out, end, row, j, rj, qj] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const A = 11;
  const mac = (i: number) => [op.get(A + i), op.get(rj), op.v128Load(16 * i), op.get(qj), op.v128Load(16 * i), op.f32x4Mul, op.f32x4Add, op.set(A + i)];
  const lane = (i: number) => [op.get(A), op.f32x4ExtractLane(i)];
  const body: number[][] = [
    op.get(ids), op.get(count), op.i32(2), op.i32Shl, op.i32Add, op.set(end),
    ...whileLt(ids, end, [
      op.get(base), op.get(ids), op.i32Load, op.get(stride), op.i32Mul, op.i32Add, op.set(row),
      op.v128Zero, op.set(A), op.v128Zero, op.set(A + 1), op.v128Zero, op.set(A + 2), op.v128Zero, op.set(A + 3),
      op.i32(0), op.set(j),
      ...whileLt(j, stride, [
        op.get(row), op.get(j), op.i32Add, op.set(rj),
        op.get(q), op.get(j), op.i32Add, op.set(qj),
        ...mac(0), ...mac(1), ...mac(2), ...mac(3),
        op.get(j), op.i32(64), op.i32Add, op.set(j),
      ]),
      op.get(A), op.get(A + 1), op.f32x4Add, op.get(A + 2), op.get(A + 3), op.f32x4Add, op.f32x4Add, op.set(A),
      op.get(out), ...lane(0), ...lane(1), op.f32Add, ...lane(2), ...lane(3), op.f32Add, op.f32Add, op.f32Store,
      op.get(ids), op.i32(4), op.i32Add, op.set(ids),
      op.get(out), op.i32(4), op.i32Add, op.set(out),
    ]),
  ]; // prettier-ignore
  return { params: 6, locals: [{ count: 5, type: I32 }, { count: 4, type: V128 }], body };
}

interface DotExports {
  dots(q: number, ids: number, count: number, base: number, strideBytes: number, out: number): void;
}

const kernel = new WasmKernel<DotExports>('dot-product', () => assembleModule([dotsFunction()], ['dots']));

/** Why the dot-product kernel cannot run here, or null when it can (checked once per process). */
export function dotWasmUnavailable(): string | null {
  return kernel.unavailable();
}

/** Values per stored row: `dim` rounded up to a multiple of 16. */
export function paddedStride(dim: number): number {
  return Math.ceil(dim / 16) * 16;
}

/**
 * A rigorous bound on |approximate − exact| for a {@link WasmRowStore.dots} value, given the
 * squared norms of the two rows: each of the 16 partial sums adds stride/16 float32 products,
 * then 4 levels combine them, so the float32 error is at most γ_{stride/16+5}·Σ|q_j·x_j| with
 * γ_m ≤ m·2⁻²⁴·(1 + small), and Σ|q_j·x_j| ≤ ‖q‖·‖x‖ (Cauchy–Schwarz). The canonical float64 sum
 * adds at most dim·2⁻⁵³·‖q‖·‖x‖. The returned bound doubles the float32 term for safety.
 */
export function dotErrorBound(stride: number, dim: number, qNorm2: number, xNorm2: number): number {
  return ((stride / 16 + 5) * 2 ** -23 + dim * 2 ** -52) * Math.sqrt(qNorm2 * xNorm2);
}

/**
 * `rows` × `dim` float32 rows copied into a WebAssembly memory (rows padded with zeros to
 * {@link paddedStride}), with scratch space for one query, candidate ids and results. The memory
 * is the kernel's own and never grows; at most 4 GiB in all.
 */
export class WasmRowStore {
  readonly rows: number;
  readonly dim: number;
  readonly stride: number;
  /** All of the memory as float32: row i is `values[base + i·stride … + dim)`. */
  readonly values: Float32Array;
  /** Float32 index of row 0 in {@link values}. */
  readonly base: number;
  private readonly inst: WasmInstance<DotExports>;
  private readonly ids: Int32Array;
  private readonly out: Float32Array;
  private readonly Q: number;
  private readonly IDS: number;
  private readonly OUT: number;

  /** Bytes a store of rows × dim needs. */
  static bytesFor(rows: number, dim: number): number {
    const stride = paddedStride(dim);
    return 4 * (stride + 2 * rows + rows * stride);
  }

  /**
   * Copies the rows. `data` holds rows × dim values.
   * @throws Error when WebAssembly SIMD is unavailable; RangeError when the rows need more than 4 GiB.
   */
  constructor(data: Float32Array, rows: number, dim: number) {
    const bytes = WasmRowStore.bytesFor(rows, dim);
    if (bytes > WASM_MAX_BYTES) throw new RangeError(`WasmRowStore: ${rows} rows × ${dim} values need ${bytes} bytes, more than a WebAssembly memory's 4 GiB`);
    this.rows = rows;
    this.dim = dim;
    this.stride = paddedStride(dim);
    this.inst = kernel.instantiate(bytes);
    const buffer = this.inst.memory.buffer;
    this.Q = 0;
    this.OUT = 4 * this.stride;
    this.IDS = this.OUT + 4 * rows;
    this.base = this.IDS / 4 + rows;
    this.values = new Float32Array(buffer);
    this.out = new Float32Array(buffer, this.OUT, rows);
    this.ids = new Int32Array(buffer, this.IDS, rows);
    if (this.stride === dim) {
      this.values.set(data.subarray(0, rows * dim), this.base);
    } else {
      for (let i = 0; i < rows; i++) this.values.set(data.subarray(i * dim, (i + 1) * dim), this.base + i * this.stride);
    }
  }

  /** Float32 index of row i in {@link values}. */
  offset(i: number): number {
    return this.base + i * this.stride;
  }

  /**
   * Float32 dot products of `query[qOff … qOff+dim)` with rows `ids[0 … count)` (each in 0 … rows−1,
   * unchecked; count ≤ rows); the returned view (valid until the next call) holds them in order.
   * @throws RangeError when count exceeds the rows.
   */
  dots(query: Float32Array, qOff: number, ids: Int32Array, count: number): Float32Array {
    if (count > this.rows) throw new RangeError(`WasmRowStore.dots: at most ${this.rows} ids per call (the rows stored), found ${count}`);
    const v = this.values;
    v.set(query.subarray(qOff, qOff + this.dim), 0);
    this.ids.set(ids.subarray(0, count));
    this.inst.fn.dots(this.Q, this.IDS, count, 4 * this.base, 4 * this.stride, this.OUT);
    return this.out;
  }
}
