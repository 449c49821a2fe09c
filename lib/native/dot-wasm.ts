/**
 * WebAssembly SIMD dot products of one query with gathered database rows: the fast first pass of
 * the LSH re-ranking (`lsh.ts`). The rows live in the kernel's own memory (a {@link WasmRowStore}),
 * zero-padded to a multiple of 16 values; the result is float32 and only approximate: callers
 * bound its error with {@link dotErrorBound} and recompute the canonical float64 distance
 * (`kernel.ts`) where the bound leaves the ranking open, so results stay exact.
 *
 * Exported function: `dots(q, ids, count, base, strideBytes, out)`: for c < count,
 * out[c] (float32) = Σ_j q[j]·row_{ids[c]}[j] where row i starts at byte `base + i·strideBytes`;
 * candidates in groups of 4 rows, each row with two f32x4 accumulators (8 products per step),
 * then a fixed-order horizontal sum (the AssemblyScript module `assembly/dot.ts`).
 */

import { WASM_MAX_BYTES, WasmKernel, type WasmInstance } from './wasm-kernel';

/**
 * Accumulators per row in the kernel's main loop, which takes the rows 4 at a time (the remaining
 * rows: one at a time, 4 accumulators). Four rows at once keep four memory streams in flight: at
 * d = 12,544, 18 GB/s against 11 GB/s one row at a time (measured on the 2-core machine).
 */
const GROUP_ACCS = 2;

interface DotExports {
  dots(q: number, ids: number, count: number, base: number, strideBytes: number, out: number): void;
}

/** The kernel: `assembly/dot.ts` (its main loop: GROUP_ACCS accumulators per row). */
const kernel = new WasmKernel<DotExports>('dot-product', 'dot.wasm');

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
 * squared norms of the two rows: each of the 4·GROUP_ACCS partial sums adds stride/(4·GROUP_ACCS)
 * float32 products (stride/16 for the rows outside a group), then at most 4 levels combine them,
 * so the float32 error is at most γ_{stride/(4·GROUP_ACCS)+5}·Σ|q_j·x_j| with
 * γ_m ≤ m·2⁻²⁴·(1 + small), and Σ|q_j·x_j| ≤ ‖q‖·‖x‖ (Cauchy–Schwarz). The canonical float64 sum
 * adds at most dim·2⁻⁵³·‖q‖·‖x‖. The returned bound doubles the float32 term for safety.
 */
export function dotErrorBound(stride: number, dim: number, qNorm2: number, xNorm2: number): number {
  return ((stride / (4 * GROUP_ACCS) + 5) * 2 ** -23 + dim * 2 ** -52) * Math.sqrt(qNorm2 * xNorm2);
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
    if (bytes > WASM_MAX_BYTES)
      throw new RangeError(
        `WasmRowStore: ${rows} rows × ${dim} values need ${bytes} bytes, more than a WebAssembly memory's 4 GiB`,
      );
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
      for (let i = 0; i < rows; i++)
        this.values.set(data.subarray(i * dim, (i + 1) * dim), this.base + i * this.stride);
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
    if (count > this.rows)
      throw new RangeError(`WasmRowStore.dots: at most ${this.rows} ids per call (the rows stored), found ${count}`);
    const v = this.values;
    v.set(query.subarray(qOff, qOff + this.dim), 0);
    this.ids.set(ids.subarray(0, count));
    this.inst.fn.dots(this.Q, this.IDS, count, 4 * this.base, 4 * this.stride, this.OUT);
    return this.out;
  }
}
