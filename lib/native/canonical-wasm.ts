/**
 * The canonical float64 dot products of `kernel.ts` in WebAssembly SIMD, bit for bit: the exact
 * re-ranking's cost where the first pass leaves many rows open (the projection's ~250 rows of
 * 12,544 values per MNIST ReLU1 query, ~1 ns per product in JavaScript).
 *
 * Each candidate row's sum runs sequentially over j = 0, 1, …, dim−1 in float64, as in JavaScript;
 * the SIMD lanes hold two different rows, never two parts of one sum. A float32 is widened exactly
 * (f64x2.promote_low_f32x4), the product of two widened float32 values is exact in float64, and
 * WebAssembly's f64x2 arithmetic is IEEE round-to-nearest without fusing or flushing subnormals, so
 * every value equals the JavaScript one.
 *
 * The rows must live in a WebAssembly memory with scratch space after them: arrays made by
 * {@link allocateRowStore} (the DkNN's training activations are). Exported function:
 * `dots(q, ids, count, base, strideBytes, dim, out)`: for c < count, out[c] (float64) = Σ_j
 * q[j]·row_{ids[c]}[j] with row i at byte `base + i·strideBytes`; rows in groups of 4 (2 f64x2
 * accumulators), then pairs, then a last single row (in both lanes); j in steps of 8, then 1.
 * `squares(…)`: the same loops with each row in place of the query (canonical squared norms).
 * The kernel is the AssemblyScript module `assembly/canonical.ts`, which spells out that order.
 * The scratch space also serves `preprocess-wasm.ts` between calls ({@link rowStoreMemory}).
 *
 * Measured (1,000 queries of MNIST ReLU1 against its 60,000 training rows, exact projection search,
 * 246 rows re-ranked per query): 7.35 s with the re-ranking in JavaScript, 4.13 s in SIMD.
 */
import { WASM_MAX_BYTES, WasmKernel, type WasmMemory } from './wasm-kernel';

interface DotsExports {
  dots(q: number, ids: number, count: number, base: number, strideBytes: number, dim: number, out: number): void;
  /** out[c] = Σ_j row_{ids[c]}[j]², sequentially in float64 (`q` unused). */
  squares(q: number, ids: number, count: number, base: number, strideBytes: number, dim: number, out: number): void;
}

/** The kernel: `assembly/canonical.ts`. */
const kernel = new WasmKernel<DotsExports>('canonical dot-product', 'canonical.wasm');

/** Candidates per kernel call (their ids and float64 results live in the scratch space). */
const CHUNK = 1024;
/** Scratch bytes after the rows: the query, then CHUNK ids and CHUNK float64 results. */
const SCRATCH_BYTES = 1 << 20;
/** Longest query (values) the scratch space holds. */
export const MAX_CANONICAL_DIM = (SCRATCH_BYTES - 12 * CHUNK) / 4;

/** A row store: a WebAssembly memory holding the rows from byte 0, then the scratch space. */
class RowStore {
  private fn: DotsExports | null | undefined;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly qAt: number;
  private readonly idsAt: number;
  private readonly outAt: number;

  constructor(
    private readonly memory: WasmMemory,
    dataBytes: number,
  ) {
    const buffer = memory.buffer;
    this.qAt = Math.ceil(dataBytes / 16) * 16;
    this.idsAt = this.qAt + 4 * MAX_CANONICAL_DIM;
    this.outAt = this.idsAt + 4 * CHUNK;
    this.f32 = new Float32Array(buffer, this.qAt, MAX_CANONICAL_DIM);
    this.i32 = new Int32Array(buffer, this.idsAt, CHUNK);
    this.f64 = new Float64Array(buffer, this.outAt, CHUNK);
  }

  /** The kernel instance on this memory, or null where WebAssembly SIMD cannot run. */
  kernel(): DotsExports | null {
    if (this.fn === undefined) {
      try {
        this.fn = kernel.instantiateOn(this.memory);
      } catch {
        this.fn = null;
      }
    }
    return this.fn;
  }

  /**
   * Canonical dot products of `query[qOff … qOff+dim)` with rows `cands[c0 … c0+m)` (m ≤ CHUNK) of
   * the rows at byte `rowsAt` (stride `stride` floats); the returned view is valid until the next call.
   */
  dots(
    fn: DotsExports,
    query: Float32Array,
    qOff: number,
    dim: number,
    cands: Int32Array | number[],
    c0: number,
    m: number,
    rowsAt: number,
    stride: number,
  ): Float64Array {
    this.f32.set(query.subarray(qOff, qOff + dim));
    const ids = this.i32;
    for (let t = 0; t < m; t++) ids[t] = cands[c0 + t];
    fn.dots(this.qAt, this.idsAt, m, rowsAt, 4 * stride, dim, this.outAt);
    return this.f64;
  }

  /** Canonical squared norms of the m ≤ CHUNK consecutive rows from byte `rowsAt`; the view is valid until the next call. */
  squares(fn: DotsExports, m: number, rowsAt: number, stride: number, dim: number): Float64Array {
    const ids = this.i32;
    for (let t = 0; t < m; t++) ids[t] = t;
    fn.squares(0, this.idsAt, m, rowsAt, 4 * stride, dim, this.outAt);
    return this.f64;
  }

  /** The scratch space free between calls: byte address and length (the query area). */
  get scratch(): { at: number; bytes: number } {
    return { at: this.qAt, bytes: 4 * MAX_CANONICAL_DIM };
  }

  get wasmMemory(): WasmMemory {
    return this.memory;
  }
}

const stores = new WeakMap<object, RowStore>();

/** Why {@link allocateRowStore} falls back to a plain array here (null when it does not). */
export function rowStoreUnavailable(): string | null {
  return kernel.unavailable();
}

/**
 * A zero-filled Float32Array of `length` values in its own WebAssembly memory (with the scratch
 * space the SIMD canonical dot products need), so that the exact re-ranking of rows stored in it
 * runs in SIMD. A plain Float32Array where that cannot be had (no WebAssembly SIMD, more than
 * ~4 GiB, or the engine refuses the memory). Either way it is an ordinary Float32Array to every
 * other reader (its `buffer` is longer than the array: use `byteOffset`/`byteLength`).
 */
export function allocateRowStore(length: number): Float32Array {
  if (!Number.isSafeInteger(length) || length < 0)
    throw new RangeError(`allocateRowStore: length must be a non-negative integer, found ${length}`);
  const dataBytes = 4 * length;
  const bytes = Math.ceil(dataBytes / 16) * 16 + SCRATCH_BYTES;
  if (bytes > WASM_MAX_BYTES - 65536 || rowStoreUnavailable() !== null) return new Float32Array(length);
  let memory: WasmMemory;
  try {
    memory = newMemory(Math.ceil(bytes / 65536));
  } catch {
    return new Float32Array(length);
  }
  stores.set(memory.buffer, new RowStore(memory, dataBytes));
  return new Float32Array(memory.buffer, 0, length);
}

function newMemory(pages: number): WasmMemory {
  const api = (
    globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => WasmMemory } }
  ).WebAssembly;
  return new api.Memory({ initial: pages, maximum: pages });
}

/** Whether `values` lives in a row store (so {@link canonicalDots} runs in SIMD for it). */
export function isRowStore(values: Float32Array): boolean {
  return stores.has(values.buffer);
}

/**
 * Offers SIMD canonical dot products of a query with candidate rows to `each(t, dot)` (t < count, in
 * order), or returns false without calling it when `values` is not in a row store (or the query is
 * too long for its scratch space): then the caller computes them in JavaScript. Row i of the
 * database starts at `values[base + i·stride]`.
 */
export function canonicalDots(
  values: Float32Array,
  base: number,
  stride: number,
  dim: number,
  query: Float32Array,
  qOff: number,
  cands: Int32Array | number[],
  count: number,
  each: (t: number, dot: number) => void,
): boolean {
  const store = stores.get(values.buffer);
  if (store === undefined || dim > MAX_CANONICAL_DIM) return false;
  const fn = store.kernel();
  if (fn === null) return false;
  const rowsAt = values.byteOffset + 4 * base;
  for (let c0 = 0; c0 < count; c0 += CHUNK) {
    const m = Math.min(CHUNK, count - c0);
    const d = store.dots(fn, query, qOff, dim, cands, c0, m, rowsAt, stride);
    for (let t = 0; t < m; t++) each(c0 + t, d[t]);
  }
  return true;
}

/**
 * Canonical squared norms (sequential float64 sums of squares) of the `rows` rows of `values`
 * (row i at `values[i·dim]`) into `out`, or false without writing when `values` is not in a row
 * store: then the caller computes them in JavaScript.
 */
export function canonicalSquares(values: Float32Array, rows: number, dim: number, out: Float64Array): boolean {
  const store = stores.get(values.buffer);
  const fn = store?.kernel() ?? null;
  if (store === undefined || fn === null) return false;
  for (let r0 = 0; r0 < rows; r0 += CHUNK) {
    const m = Math.min(CHUNK, rows - r0);
    out.set(store.squares(fn, m, values.byteOffset + 4 * r0 * dim, dim, dim).subarray(0, m), r0);
  }
  return true;
}

/** The WebAssembly memory of the row store holding `values` and its free scratch space, or null for a plain array. */
export function rowStoreMemory(
  values: Float32Array,
): { memory: WasmMemory; scratch: { at: number; bytes: number } } | null {
  const store = stores.get(values.buffer);
  return store === undefined || store.kernel() === null ? null : { memory: store.wasmMemory, scratch: store.scratch };
}
