/**
 * The cases of the `wasm-kernels` bench section (bench/wasm-kernels.ts): each makes one arm of a
 * kernel on representative sizes from a set of kernel modules (old or new), with the same data.
 */
import type { BackendWasm } from '../lib/native/tfjs-wasm';
import type * as canonical from '../lib/native/canonical-wasm';
import type * as bounds from '../lib/native/bounds-wasm';
import type * as dot from '../lib/native/dot-wasm';
import type * as lsh from '../lib/native/lsh-wasm';
import type * as preprocess from '../lib/native/preprocess-wasm';
import type * as heap from '../lib/native/heap-simd';

/** The kernel modules of one arm (the old ones have the same exports). */
export interface Modules {
  canonical: typeof canonical;
  bounds: typeof bounds;
  dot: typeof dot;
  lsh: typeof lsh;
  preprocess: typeof preprocess;
  heap: typeof heap;
}

/** One arm of a case: a repetition, and its output after the last repetition. */
export interface Arm {
  run(): void;
  output(): Uint8Array[];
}

export type Row = Record<string, string | number | boolean | null>;

export interface Case {
  kernel: string;
  size: string;
  /** Repetitions timed per arm (after 2 warm-ups). */
  reps: number;
  make(m: Modules): Arm;
}

/** Deterministic uniform values in [lo, hi) (LCG), the same for both arms; into `a` when given. */
function seeded(n: number, seed: number, lo = -1, hi = 1, a = new Float32Array(n)): Float32Array {
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = lo + (s / 2 ** 32) * (hi - lo);
  }
  return a;
}

function ids(count: number, below: number, seed: number): Int32Array {
  return Int32Array.from(seeded(count, seed, 0, below), Math.floor);
}

/** `f` run `passes` times. */
const repeat = (passes: number, f: () => void) => () => {
  for (let p = 0; p < passes; p++) f();
};

const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Canonical dot products of `queries` queries with `cands` random rows each, from a store of rows × dim. */
export function canonicalCase(rows: number, dim: number, queries: number, cands: number): Case {
  return {
    kernel: 'canonical dots (canonicalDots)',
    size: `${queries} queries × ${cands} random rows of ${dim.toLocaleString('en')} (store of ${rows.toLocaleString('en')})`,
    reps: 21,
    make(m) {
      const values = m.canonical.allocateRowStore(rows * dim);
      values.set(seeded(rows * dim, dim));
      const q = seeded(queries * dim, dim + 1);
      const c = ids(queries * cands, rows, dim + 2);
      const out = new Float64Array(queries * cands);
      return {
        run() {
          for (let i = 0; i < queries; i++) {
            const at = i * cands;
            const cs = c.subarray(at, at + cands);
            if (!m.canonical.canonicalDots(values, 0, dim, dim, q, i * dim, cs, cands, (t, d) => (out[at + t] = d)))
              throw new Error('canonicalDots: not a row store');
          }
        },
        output: () => [bytes(out)],
      };
    },
  };
}

export function squaresCase(rows: number, dim: number, passes: number): Case {
  return {
    kernel: 'canonical squared norms (canonicalSquares)',
    size: `${rows.toLocaleString('en')} rows × ${dim.toLocaleString('en')}, ${passes} passes`,
    reps: 21,
    make(m) {
      const values = m.canonical.allocateRowStore(rows * dim);
      values.set(seeded(rows * dim, 5));
      const out = new Float64Array(rows);
      return {
        run: repeat(passes, () => m.canonical.canonicalSquares(values, rows, dim, out)),
        output: () => [bytes(out)],
      };
    },
  };
}

/** A heap that takes every value ≤ its fixed admission bound (a count and a checksum of what it got). */
function countingHeaps(
  n: number,
  worst: number,
): { heaps: { worst: number; push(v: number, i: number): void }[] } & {
  log: Float64Array;
} {
  const log = new Float64Array(2 * n);
  const heaps = Array.from({ length: n }, (_, a) => ({
    worst,
    push(v: number, i: number) {
      log[2 * a] += 1;
      log[2 * a + 1] += v * (i + 1);
    },
  }));
  return { heaps, log };
}

/** Projection bounds (BoundsWorkspace.fill) or approximate distances (offer) of m queries × n rows, blocks of `chunk`. */
export function boundsCase(which: 'fill' | 'offer', n: number, m: number, chunk: number): Case {
  return {
    kernel: which === 'fill' ? 'projection bounds (BoundsWorkspace.fill)' : 'GEMM-path offers (BoundsWorkspace.offer)',
    size: `${m} queries × ${n.toLocaleString('en')} rows, blocks of ${chunk.toLocaleString('en')}`,
    reps: 21,
    make(mods) {
      const ws = mods.bounds.BoundsWorkspace.create(n, m, chunk, which === 'fill');
      if (!ws) throw new Error('BoundsWorkspace unavailable');
      const blocks = Array.from({ length: Math.ceil(n / chunk) }, (_, b) => seeded(m * chunk, 10 + b, 0, 1));
      ws.rowTerm.set(seeded(n, 20, 0, 2));
      ws.resLo.set(seeded(n, 21, 0, 0.5));
      ws.resHi.set(seeded(n, 22, 0.5, 1));
      const q = {
        pq2: seeded(m, 23, 0, 1),
        lo: seeded(m, 24, 0, 0.5),
        hi: seeded(m, 25, 0.5, 1),
        n2: seeded(m, 26, 1, 2),
      };
      const terms = {
        pq2: Float64Array.from(q.pq2),
        lo: Float64Array.from(q.lo),
        hi: Float64Array.from(q.hi),
        n2: Float64Array.from(q.n2),
      };
      // Admission bounds that list ~1 % of the rows (the heaps of a search have a few hundred candidates).
      const { heaps, log } = countingHeaps(m, which === 'fill' ? 0.05 : 1.5);
      return {
        run() {
          for (let b = 0, c0 = 0; c0 < n; b++, c0 += chunk) {
            const w = Math.min(chunk, n - c0);
            ws.block.set(blocks[b].subarray(0, m * w));
            if (which === 'fill') ws.fill(m, w, c0, terms, 0.98, 0.01, heaps);
            else ws.offer(m, w, c0, terms.n2, 0, heaps);
          }
        },
        output: () => [bytes(ws.lb), bytes(log)],
      };
    },
  };
}

/** Float32 dot products of the LSH re-ranking (WasmRowStore.dots): `queries` × `cands` random rows. */
export function lshDotsCase(rows: number, dim: number, queries: number, cands: number): Case {
  return {
    kernel: 'LSH float32 dots (WasmRowStore.dots)',
    size: `${queries} queries × ${cands} random rows of ${dim.toLocaleString('en')} (store of ${rows.toLocaleString('en')})`,
    reps: 21,
    make(m) {
      const store = new m.dot.WasmRowStore(seeded(rows * dim, 30), rows, dim);
      const q = seeded(queries * dim, 31);
      const c = ids(queries * cands, rows, 32);
      const out = new Float32Array(queries * cands);
      return {
        run() {
          for (let i = 0; i < queries; i++)
            out.set(store.dots(q, i * dim, c.subarray(i * cands), cands).subarray(0, cands), i * cands);
        },
        output: () => [bytes(out)],
      };
    },
  };
}

/** The cross-polytope hash of `groups` groups of 4 points (as CrossPolytopeWasmKernel.keys runs it). */
export function crossPolytopeCase(d: number, l: number, k: number, R: number, lastCp: number, groups: number): Case {
  return {
    kernel: 'cross-polytope hash (signFht, signFold, decode)',
    size: `${groups} × 4 points, rotations of ${d.toLocaleString('en')}, l = ${l}, k = ${k}, ${R} rotations, last ${lastCp}`,
    reps: 21,
    make(m) {
      const [W, F] = [16 * d, 32 * d];
      const OUT = F + 16 * lastCp;
      const SIGNS = OUT + 64;
      const inst = m.lsh.instantiateCrossPolytopeWasm(SIGNS + 4 * l * k * R * d);
      const f32 = new Float32Array(inst.memory.buffer);
      const i32 = new Int32Array(inst.memory.buffer);
      f32.set(
        Float32Array.from(seeded(l * k * R * d, 40), (v) => (v < 0 ? -1 : 1)),
        SIGNS / 4,
      );
      const points = Array.from({ length: 8 }, (_, i) => seeded(4 * d, 41 + i));
      const keys = new Int32Array(groups * l * k * 4);
      const fn = inst.fn;
      return {
        run() {
          let o = 0;
          for (let g = 0; g < groups; g++) {
            f32.set(points[g % points.length], 0);
            for (let t = 0; t < l; t++)
              for (let c = 0; c < k; c++) {
                const cp = c === k - 1 ? lastCp : d;
                let src = 0;
                for (let r = 0; r < R; r++) {
                  const sOff = SIGNS + 4 * ((t * k + c) * R + r) * d;
                  if (r === R - 1 && cp < d) {
                    fn.signFold(src, F, sOff, cp, d);
                    src = F;
                    break;
                  }
                  fn.signFht(src, W, sOff, d);
                  src = W;
                }
                fn.decode(src, cp, OUT);
                keys.set(i32.subarray(OUT / 4, OUT / 4 + 4), o);
                o += 4;
              }
          }
        },
        output: () => [bytes(keys), bytes(f32.subarray(W / 4, OUT / 4))],
      };
    },
  };
}

/** One row store of rows × dim per arm, shared by the three preprocessing cases (768 MB each at full size). */
export function preprocessCases(rows: number, dim: number): Case[] {
  const stores = new Map<Modules, Float32Array>();
  const store = (m: Modules): Float32Array => {
    let data = stores.get(m);
    if (!data) {
      data = m.canonical.allocateRowStore(rows * dim);
      seeded(rows * dim, 50, -1, 1, data);
      stores.set(m, data);
    }
    return data;
  };
  const size = `${rows.toLocaleString('en')} rows × ${dim.toLocaleString('en')}`;
  const last = new Map<Modules, Float32Array>();
  return [
    {
      kernel: 'preprocess: normalize (normalizeRowsSimd: squares, then scaleRows)',
      size,
      reps: 13,
      make(m) {
        const data = store(m);
        return {
          run: () => void m.preprocess.normalizeRowsSimd(data, rows, dim),
          output: () => [bytes(data)],
        };
      },
    },
    {
      kernel: 'preprocess: centre fit (fitCenterSimd: colSums)',
      size,
      reps: 13,
      make(m) {
        const data = store(m);
        return {
          run: () => void last.set(m, m.preprocess.fitCenterSimd(data, rows, dim)!),
          output: () => [bytes(last.get(m)!)],
        };
      },
    },
    {
      kernel: 'preprocess: centre apply (applyCenterSimd: subtract)',
      size,
      reps: 13,
      make(m) {
        const data = store(m);
        const center = seeded(dim, 51, -0.01, 0.01);
        return {
          run: () => void m.preprocess.applyCenterSimd(data, rows, dim, center),
          output: () => [bytes(data)],
        };
      },
    },
  ];
}

/** A stand-in for the tfjs wasm backend: only its heap (`wasm.asm.memory`), here a fresh memory. */
function fakeBackend(pages: number): { backend: BackendWasm; f32: Float32Array } {
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  return { backend: { wasm: { asm: { memory } } } as unknown as BackendWasm, f32: new Float32Array(memory.buffer) };
}

/** col2im's scatter-adds: `calls` runs of n floats from a patch matrix into an image gradient, `passes` times. */
export function heapAddCase(calls: number, n: number, dxFloats: number, passes: number): Case {
  return {
    kernel: 'heap add (col2im scatter-add)',
    size: `${calls.toLocaleString('en')} runs of ${n} floats into ${dxFloats.toLocaleString('en')}, ${passes} passes`,
    reps: 21,
    make(m) {
      const colsAt = 0;
      const dxAt = 4 * calls * n;
      const { backend, f32 } = fakeBackend(Math.ceil((dxAt + 4 * dxFloats) / 65536));
      seeded(calls * n, 60, -1, 1, f32.subarray(0, calls * n));
      const simd = m.heap.heapSimd(backend)!;
      const slots = Math.floor((dxFloats - 3) / n);
      return {
        run: repeat(passes, () => {
          for (let i = 0; i < calls; i++)
            simd.add(dxAt + 4 * (((i * 1543) % slots) * n + (i % 3)), colsAt + 4 * i * n, n);
        }),
        output: () => [bytes(f32.subarray(dxAt / 4, dxAt / 4 + dxFloats))],
      };
    },
  };
}

/** Bias and ReLU of a convolution's output: rows × n, `passes` times. */
export function biasActCase(rows: number, n: number, passes: number): Case {
  return {
    kernel: 'heap biasAct (bias + ReLU)',
    size: `${rows.toLocaleString('en')} rows × ${n}, ${passes} passes`,
    reps: 21,
    make(m) {
      const { backend, f32 } = fakeBackend(Math.ceil((4 * rows * n + 4 * n) / 65536));
      seeded(rows * n, 61, -1, 1, f32.subarray(0, rows * n));
      f32.set(seeded(n, 62, -0.5, 0.1), rows * n);
      const simd = m.heap.heapSimd(backend)!;
      return {
        run: repeat(passes, () => simd.biasAct(0, 4 * rows * n, rows, n, 1)),
        output: () => [bytes(f32.subarray(0, rows * n))],
      };
    },
  };
}
