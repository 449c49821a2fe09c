/**
 * The projection's lower bounds (`projection.ts`, `fillBounds`) in WebAssembly SIMD, two rows per
 * f64x2 with the JavaScript expression's operations in the same order, so every bound is the same
 * float64 value and the same stored float32:
 *   d1 = lo − ρhi_x, d2 = ρlo_x − hi, gap = max(d1, d2, 0) (only gap² is used, so the sign of a
 *   zero does not matter), v = ((qTerm + rowTerm_x) − 2·scale·g) + gap², lb = float32(v − |v|·1.2e-7).
 * Rows whose v is ≤ the query's admission bound at the call are listed (row index and v, in row
 * order) for its heap, which admits a subset of them in the same order as the JavaScript loop.
 *
 * A {@link BoundsWorkspace} is one WebAssembly memory holding the GEMM output block, the bounds of
 * a query batch, the per-row terms and the candidate list; onnxruntime writes the block in place.
 */
import { WasmKernel } from './wasm-kernel';

/** A query's bounded heap of candidates (the kNN's `TopK`): its admission bound and push. */
export interface CandidateHeap {
  readonly worst: number;
  push(value: number, index: number): void;
}

/** Rows per kernel call (the candidate list's length; the kernel's SUB). */
const SUB = 1024;

interface BoundsExports {
  bounds(
    g: number,
    pairs: number,
    lb: number,
    rowTerm: number,
    resLo: number,
    resHi: number,
    consts: number,
    cand: number,
    x0: number,
  ): void;
  offers(
    g: number,
    pairs: number,
    lb: number,
    rowTerm: number,
    resLo: number,
    resHi: number,
    consts: number,
    cand: number,
    x0: number,
  ): void;
}

/** The kernel: `assembly/bounds.ts` (its SUB is {@link SUB}). */
const kernel = new WasmKernel<BoundsExports>('projection bounds', 'bounds.wasm');

/** Per-query terms of the bound (as `projection.ts` computes them). */
export interface QueryTerms {
  pq2: Float64Array;
  lo: Float64Array;
  hi: Float64Array;
  n2: Float64Array;
}

/** One bound in JavaScript, the expression of `fillBounds` (the odd last row of a call). */
export function boundValue(
  qTerm: number,
  rowTerm: number,
  s2: number,
  g: number,
  lo: number,
  hi: number,
  resLo: number,
  resHi: number,
): number {
  const d1 = lo - resHi;
  const d2 = resLo - hi;
  const gap = d1 > d2 ? (d1 > 0 ? d1 : 0) : d2 > 0 ? d2 : 0;
  return qTerm + rowTerm - s2 * g + gap * gap;
}

/** The stored float32 bound: v lowered by more than its float32 rounding. */
export function lowered(v: number): number {
  return v - (v < 0 ? -v : v) * 1.2e-7;
}

/** Released workspaces kept for reuse, by size (at most {@link MAX_SPARE}, the most recent). */
const spare = new Map<string, BoundsWorkspace>();
const MAX_SPARE = 2;

/** The memory of the SIMD bounds of one search call (see the module comment). */
export class BoundsWorkspace {
  /** GEMM output block (batch × chunk float32), written by onnxruntime. */
  readonly block: Float32Array;
  /** Bounds of a query batch (batch × n float32). */
  readonly lb: Float32Array;
  /** Per-row terms: scale·‖p_x‖² − slack·‖x‖², and the residual interval. */
  readonly rowTerm: Float64Array;
  readonly resLo: Float64Array;
  readonly resHi: Float64Array;
  private readonly fn: BoundsExports;
  private readonly consts: Float64Array;
  private readonly count: Int32Array;
  private readonly candIdx: Int32Array;
  private readonly candV: Float64Array;
  private readonly at: {
    block: number;
    lb: number;
    rowTerm: number;
    resLo: number;
    resHi: number;
    consts: number;
    cand: number;
  };

  private constructor(
    private readonly n: number,
    batch: number,
    chunk: number,
    bounds: boolean,
    private readonly key: string,
  ) {
    const at = { rowTerm: 0, resLo: 8 * n, resHi: 16 * n, consts: 24 * n, cand: 24 * n + 64, block: 0, lb: 0 };
    at.block = at.cand + 12 * SUB;
    at.lb = at.block + 4 * batch * chunk;
    const lbLength = bounds ? batch * n : 0;
    const inst = kernel.instantiate(at.lb + 4 * lbLength);
    const buffer = inst.memory.buffer;
    this.fn = inst.fn;
    this.at = at;
    this.rowTerm = new Float64Array(buffer, at.rowTerm, n);
    this.resLo = new Float64Array(buffer, at.resLo, n);
    this.resHi = new Float64Array(buffer, at.resHi, n);
    this.consts = new Float64Array(buffer, at.consts, 6);
    this.count = new Int32Array(buffer, at.consts + 48, 1);
    this.candIdx = new Int32Array(buffer, at.cand, SUB);
    this.candV = new Float64Array(buffer, at.cand + 4 * SUB, SUB);
    this.block = new Float32Array(buffer, at.block, batch * chunk);
    this.lb = new Float32Array(buffer, at.lb, lbLength);
  }

  /**
   * A workspace for `n` rows, query batches of ≤ `batch` and GEMM blocks of ≤ `chunk` rows (without
   * `bounds`: no bound array, for {@link offer} only), or null where WebAssembly SIMD cannot run or
   * the memory would pass 4 GiB.
   */
  static create(n: number, batch: number, chunk: number, bounds = true): BoundsWorkspace | null {
    if (kernel.unavailable() !== null) return null;
    const key = `${n} ${batch} ${chunk} ${bounds}`;
    const kept = spare.get(key);
    if (kept) {
      spare.delete(key);
      return kept;
    }
    try {
      return new BoundsWorkspace(n, batch, chunk, bounds, key);
    } catch {
      return null;
    }
  }

  /**
   * Hands the workspace back at the end of a search call: the next call of the same sizes reuses
   * it (a DkNN queries each layer chunk after chunk) instead of leaving tens of MB per call to the
   * garbage collector, which frees WebAssembly memories late. Do not use it afterwards.
   */
  release(): void {
    spare.delete(this.key);
    spare.set(this.key, this);
    for (const key of spare.keys()) if (spare.size > MAX_SPARE) spare.delete(key); // the oldest go first
  }

  /**
   * `offerBlock` of `exact.ts` on the GEMM block in {@link block}: the approximate distances
   * ‖q‖² + ‖x‖² − 2·g (‖x‖² in {@link rowTerm}) of m queries × w rows from c0 offered to the queries'
   * heaps, the same values in the same order.
   */
  offer(m: number, w: number, c0: number, qNorms: Float64Array, q0: number, heaps: CandidateHeap[]): void {
    const consts = this.consts;
    consts[3] = 2;
    for (let a = 0; a < m; a++) {
      consts[0] = qNorms[q0 + a];
      this.sweep('offers', a, w, c0, heaps[a], (x, g) => consts[0] + this.rowTerm[x] - 2 * g);
    }
  }

  /**
   * The bounds of the GEMM block in {@link block} (m queries × w rows from c0) into {@link lb}, each
   * row within its query's admission bound offered to the query's heap: `fillBounds` of
   * `projection.ts`, with the same values and the same heaps.
   */
  fill(m: number, w: number, c0: number, q: QueryTerms, scale: number, slack: number, heaps: CandidateHeap[]): void {
    const { consts, n } = this;
    const s2 = 2 * scale;
    consts[3] = s2;
    consts[5] = 1.2e-7;
    for (let a = 0; a < m; a++) {
      consts[0] = scale * q.pq2[a] - slack * q.n2[a];
      consts[1] = q.lo[a];
      consts[2] = q.hi[a];
      this.sweep('bounds', a, w, c0, heaps[a], (x, g) => {
        const v = boundValue(consts[0], this.rowTerm[x], s2, g, consts[1], consts[2], this.resLo[x], this.resHi[x]);
        this.lb[a * n + x] = lowered(v);
        return v;
      });
    }
  }

  /**
   * Query a's row of the block (w rows from c0) through kernel `which` (its per-query constants
   * already set), ≤ SUB rows per call, each call's candidates pushed to `h` in row order. An odd
   * last row of a call goes through `last(x, g)`, which returns its value (and stores its bound).
   */
  private sweep(
    which: keyof BoundsExports,
    a: number,
    w: number,
    c0: number,
    h: CandidateHeap,
    last: (x: number, g: number) => number,
  ): void {
    const { at, n } = this;
    for (let i0 = 0; i0 < w; i0 += SUB) {
      const len = Math.min(SUB, w - i0);
      const x0 = c0 + i0;
      this.consts[4] = h.worst;
      this.fn[which](
        at.block + 4 * (a * w + i0),
        len >> 1,
        at.lb + 4 * (a * n + x0),
        at.rowTerm + 8 * x0,
        at.resLo + 8 * x0,
        at.resHi + 8 * x0,
        at.consts,
        at.cand,
        x0,
      );
      const cnt = this.count[0];
      for (let t = 0; t < cnt; t++) h.push(this.candV[t], this.candIdx[t]);
      if (len & 1) {
        const x = x0 + len - 1;
        const v = last(x, this.block[a * w + i0 + len - 1]);
        if (v <= h.worst) h.push(v, x);
      }
    }
  }
}
