/**
 * Locality-sensitive-hashing k-nearest-neighbour index, faithful to FALCONN (the library the
 * reference DkNN uses): the same hash families, bucket keys, probing sequence and re-ranking.
 *
 * ```ts
 * const index = new LshIndex(PAPER_PRESET);            // cross-polytope, l = 200, 17 bits, 2 rotations
 * await index.build(train, 60000, 3200);               // hashes every point into l tables
 * const r = await index.query(queries, 1000, 75);      // one bucket per table (numProbes = l)
 * const q = index.createQuery({ numProbes: 2000 });    // FALCONN's query object: multiprobe
 * const r2 = await q.query(queries, 1000, 75); q.lastQueryStats;
 * ```
 *
 * Hash families (parameters in `lsh-params.ts`):
 * - cross-polytope (Andoni et al. 2015, FALCONN's default): the point, zero-padded to d' (next
 *   power of two), is rotated `numRotations` times by a pseudo-random rotation (multiply by a
 *   random ±1 diagonal, then an unnormalised fast Hadamard transform); the hash is the index and
 *   sign of the largest |coordinate| (ties: the first such index), i.e. the closest vertex of the
 *   cross-polytope: value i for +e_i, i + d' for −e_i. A table concatenates k such hashes into its
 *   bucket key, each with its own rotations; the last looks only at the first `lastCpDim`
 *   coordinates of its final rotation. Those coordinates are computed by folding (the first m
 *   outputs of a Hadamard transform of length n are the length-m transform of the input summed
 *   modulo m), so the last rotation costs O(d') instead of O(d' log d').
 * - hyperplane (Charikar 2002): k random Gaussian hyperplanes (unit norm) per table, bit = (x·h ≥ 0),
 *   the first hyperplane in the highest bit.
 *
 * Tables: per table, the point ids sorted by bucket key (stable: ascending ids within a bucket) in
 * one Int32Array, plus either the distinct keys (sorted, binary search) or a dense offsets array
 * (`storageHashTable`). 200 tables × 60,000 points take 48 MB of ids plus the bucket directory.
 *
 * Query (FALCONN's query object, {@link LshQuery}): `numProbes` buckets in all (at least one per
 * table; default l, i.e. exactly one per table). With more, the extra buckets come in FALCONN's
 * multiprobe order: cross-polytope ranks each alternative vertex of a cross-polytope by
 * (max|x| − (±x_i))², a probe's score is the sum over its k cross-polytopes, and a heap yields
 * probes of all tables by increasing score; hyperplane flips the bits with the smallest
 * |margin|² first. Candidates are gathered table by table (at most `maxCandidates`, duplicates
 * counted, as FALCONN does), de-duplicated, and re-ranked exactly: squared Euclidean with the
 * canonical distance of `kernel.ts` (so distances equal ExactIndex's bit for bit; ties by the lower
 * index), or −q·x for `'negative-inner-product'`. Fewer than k unique candidates: the missing slots
 * are index −1, distance Infinity, and are counted in {@link LshQueryStats}.
 *
 * Kernels: the cross-polytope rotations run in a WebAssembly SIMD kernel (`lsh-wasm.ts`, 4 points
 * at a time) when it compiles, else in JavaScript (`fht.ts`); both compute the same float32 values,
 * so the hashes, buckets and results are identical (`kernel` option, `index.kernel`). With the
 * WebAssembly kernel, the re-ranking also runs in two passes: float32 SIMD dot products of the
 * query with every candidate (`dot-wasm.ts`, rows copied into the kernel's memory at build), then
 * the canonical float64 distance for the candidates whose proven error bound leaves them in
 * reach of the k-th (`dotErrorBound`): the same neighbours and distances as the one-pass
 * JavaScript re-ranking, about 7× faster at d = 3,200 (then limited by memory bandwidth).
 *
 * Not bit-compatible with FALCONN itself: the random ±1 diagonals and hyperplanes come from this
 * project's generator (`createRng`, xoshiro128**), not from C++'s mt19937_64, so the same seed
 * gives other hash functions with the same distribution.
 *
 * Determinism: the same parameters, seed and data give the same tables and results on every run.
 * Ownership: with the WebAssembly kernel, `build` copies `data` into the kernel's memory (rows
 * padded to a multiple of 16; the caller's array is not kept); otherwise it keeps a reference to
 * `data` (no copy). Data over 4 GiB cannot be copied and are re-ranked in JavaScript.
 */

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkK, checkMatrix, checkQueries, NOT_BUILT_MESSAGE } from './checks';
import { fhtUnchecked } from './fht';
import { dotErrorBound, dotWasmUnavailable, WasmRowStore } from './dot-wasm';
import { combine, dot, dotFour, pushCandidates, rowSquaredNorms } from './kernel';
import { WASM_MAX_BYTES } from './wasm-asm';
import { crossPolytopeWasmUnavailable, instantiateCrossPolytopeWasm, type CrossPolytopeWasm } from './lsh-wasm';
import { checkLshParameters, log2Ceil, resolveLshParameters, type LshParameters, type ResolvedLshParameters } from './lsh-params';
import { TopK } from './topk';
import type { KnnResult, NeighborIndex, NeighborIndexFactory, QueryOptions } from './types';
import { createRng } from '../random';
import { ExactIndex } from './exact';
import { recallWithoutSelf, resolveTuneOptions, searchNumProbes, type LshTuneOptions, type LshTuning } from './lsh-tune';
import { workerEntry } from '../util/worker-entry';

/** Query-side settings (FALCONN's query object). */
export interface LshQueryOptions {
  /**
   * Buckets probed per query, over all tables: at least l (one per table). Default l (no
   * multiprobe). More probes find more candidates: higher recall, slower queries.
   */
  numProbes?: number;
  /**
   * Most candidates taken from the buckets (duplicates included, in probing order), to bound the
   * re-ranking work. Default: no limit (FALCONN's kNoMaxNumCandidates).
   */
  maxCandidates?: number;
}

/** Options of {@link LshIndex}. */
export interface LshIndexOptions extends Omit<LshQueryOptions, 'numProbes'> {
  /**
   * Default buckets probed per query (see {@link LshQueryOptions.numProbes}), or `'auto'`: chosen
   * at build as the smallest number meeting a recall target on a sample of the index's own points
   * (`tune`; `lsh-tune.ts`; the result is {@link LshIndex.tuning}). Default l.
   */
  numProbes?: number | 'auto';
  /** Settings of `numProbes: 'auto'` (target recall 0.99 at k = 75 on 200 points by default). */
  tune?: LshTuneOptions;
  /**
   * Cross-polytope rotation kernel: `'auto'` (default: WebAssembly SIMD when it compiles, else
   * JavaScript), `'wasm'` (fails in `build` without WebAssembly SIMD) or `'js'`. Same results.
   * The hyperplane family always runs in JavaScript.
   */
  kernel?: 'auto' | 'js' | 'wasm';
  /**
   * Worker threads hashing the points at `build` (each hashes whole chunks of rows, so the tables
   * are identical for any number): a number ≥ 1 (1 = this thread only), or `'auto'` (default): all
   * cores (`os.availableParallelism()`) when the hashing is long enough to repay starting them
   * (about 2 s of single-thread work), else this thread.
   */
  buildThreads?: number | 'auto';
  /** Called while `build` hashes the points (points done, total), at most every 50 ms and at the end. */
  onBuildProgress?: (done: number, total: number) => void;
}

/** Statistics of the last `query` call of a query object (FALCONN's QueryStatistics, as totals). */
export interface LshQueryStats {
  /** Queries answered. */
  queries: number;
  /** Buckets probed, all queries. */
  probes: number;
  /** Candidates taken from the buckets, duplicates included, all queries. */
  candidates: number;
  /** Distinct candidates re-ranked, all queries. */
  uniqueCandidates: number;
  /** `candidates / queries`. */
  averageCandidates: number;
  /** `uniqueCandidates / queries`. */
  averageUniqueCandidates: number;
  /** Queries with fewer than k distinct candidates (their last slots are −1). */
  queriesShortOfK: number;
  /** Missing neighbour slots (index −1), all queries. */
  missingNeighbors: number;
  /**
   * Two-pass re-ranking only: candidates whose canonical distance was computed because the float32
   * first pass could not rule them out, all queries (≥ k per query with k or more candidates).
   */
  refined: number;
  /** Seconds spent hashing the queries (rotations, probing sequence), looking up buckets, re-ranking. */
  seconds: { hash: number; lookup: number; rerank: number; total: number };
}

function emptyStats(): LshQueryStats {
  return {
    queries: 0, probes: 0, candidates: 0, uniqueCandidates: 0, averageCandidates: 0, averageUniqueCandidates: 0,
    queriesShortOfK: 0, missingNeighbors: 0, refined: 0, seconds: { hash: 0, lookup: 0, rerank: 0, total: 0 },
  }; // prettier-ignore
}

// ---------------------------------------------------------------------------------------------
// Hash functions
// ---------------------------------------------------------------------------------------------

/**
 * The l·k hash functions of an index for one dimension, evaluated on `lanes` points at a time.
 * `transform` exposes the values the probing sequence is built from (rotated coordinates or
 * hyperplane margins), laid out per (table, function) at {@link HashFunctions.segmentOffset}.
 */
export interface HashFunctions {
  readonly lanes: number;
  /** Values per point of `transform`. */
  readonly transformedSize: number;
  /** 'js' or 'wasm'. */
  readonly kernel: 'js' | 'wasm';
  /** Loads `count ≤ lanes` rows: row `rows[i]` of `data` (row-major, `dim` values). */
  load(data: Float32Array, rows: Int32Array, count: number): void;
  /** Bucket keys of the loaded points in every table: `out[t · lanes + lane]`. */
  keys(out: Float64Array): void;
  /** Transformed vectors of the loaded points: `out[lane]` gets `transformedSize` values. */
  transform(out: Float64Array[]): void;
  /** Bucket keys of every table from one transformed vector: `out[t]`. */
  keysFromTransformed(tv: Float64Array, out: Float64Array): void;
}

/** FALCONN's cross-polytope decoding of `v[off … off + dim)`: i (+e_i) or i + dim (−e_i), first largest |v_i|. */
function decodeCp(v: Float32Array | Float64Array, off: number, dim: number): number {
  let best = v[off];
  let res = 0;
  if (-best > best) {
    best = -best;
    res = dim;
  }
  for (let i = 1; i < dim; i++) {
    const x = v[off + i];
    if (x > best) {
      best = x;
      res = i;
    } else if (-x > best) {
      best = -x;
      res = i + dim;
    }
  }
  return res;
}

/** dst[i] = Σ_{j ≡ i mod m} src[j]·signs[sOff + j] (in increasing j, float32), then FHT of length m. */
function signFold(src: Float32Array, signs: Float32Array, sOff: number, dst: Float32Array, m: number, n: number): void {
  dst.fill(0, 0, m);
  const mask = m - 1;
  for (let j = 0; j < n; j++) dst[j & mask] += src[j] * signs[sOff + j];
  fhtUnchecked(dst, 0, m);
}

/** ±1 signs of every (table, cross-polytope, rotation), rotationDim each, from the seed. */
function crossPolytopeSigns(p: ResolvedLshParameters): Float32Array {
  const rng = createRng(p.seed);
  const d = p.rotationDim;
  const signs = new Float32Array(p.l * p.k * p.numRotations * d);
  for (let i = 0; i < signs.length; i += 32) {
    const bits = rng.uint32();
    const stop = Math.min(32, signs.length - i);
    for (let b = 0; b < stop; b++) signs[i + b] = (bits >>> b) & 1 ? 1 : -1;
  }
  return signs;
}

/** Shared geometry of the cross-polytope kernels. */
abstract class CrossPolytopeBase implements HashFunctions {
  abstract readonly lanes: number;
  abstract readonly kernel: 'js' | 'wasm';
  readonly transformedSize: number;
  protected readonly p: ResolvedLshParameters;
  /** Multiplier applied to the key before adding the hash of cross-polytope c (2^(bits of c)). */
  readonly mult: number[];
  /** Offset of segment (t, c) in a transformed vector. */
  readonly segOffset: Int32Array;

  constructor(p: ResolvedLshParameters) {
    this.p = p;
    const { k, l, rotationDim: d, lastCpDim } = p;
    this.mult = Array.from({ length: k }, (_, c) => 2 ** ((c === k - 1 ? log2Ceil(lastCpDim) : log2Ceil(d)) + 1));
    const perTable = (k - 1) * d + lastCpDim;
    this.transformedSize = l * perTable;
    this.segOffset = new Int32Array(l * k);
    for (let t = 0; t < l; t++) for (let c = 0; c < k; c++) this.segOffset[t * k + c] = t * perTable + c * d;
  }

  abstract load(data: Float32Array, rows: Int32Array, count: number): void;
  abstract keys(out: Float64Array): void;
  abstract transform(out: Float64Array[]): void;

  keysFromTransformed(tv: Float64Array, out: Float64Array): void {
    const { k, l, rotationDim: d, lastCpDim } = this.p;
    for (let t = 0; t < l; t++) {
      let key = 0;
      for (let c = 0; c < k; c++) {
        const cpDim = c === k - 1 ? lastCpDim : d;
        key = key * this.mult[c] + decodeCp(tv, this.segOffset[t * k + c], cpDim);
      }
      out[t] = key;
    }
  }
}

/** Cross-polytope hash in plain JavaScript, one point at a time. */
class CrossPolytopeJs extends CrossPolytopeBase {
  readonly lanes = 1;
  readonly kernel = 'js' as const;
  private readonly signs: Float32Array;
  private readonly x: Float32Array;
  private readonly w: Float32Array;
  private readonly f: Float32Array;

  constructor(p: ResolvedLshParameters, signs: Float32Array) {
    super(p);
    this.signs = signs;
    this.x = new Float32Array(p.rotationDim);
    this.w = new Float32Array(p.rotationDim);
    this.f = new Float32Array(p.lastCpDim);
  }

  load(data: Float32Array, rows: Int32Array, count: number): void {
    if (count < 1) return;
    const dim = this.p.dim;
    this.x.set(data.subarray(rows[0] * dim, rows[0] * dim + dim));
  }

  /** Rotations of cross-polytope (t, c); returns the array holding its first cpDim coordinates. */
  private rotate(t: number, c: number): Float32Array {
    const { k, numRotations: R, rotationDim: d, lastCpDim } = this.p;
    const cpDim = c === k - 1 ? lastCpDim : d;
    const signs = this.signs;
    let src = this.x;
    for (let r = 0; r < R; r++) {
      const sOff = ((t * k + c) * R + r) * d;
      if (r === R - 1 && cpDim < d) {
        signFold(src, signs, sOff, this.f, cpDim, d);
        return this.f;
      }
      const w = this.w;
      for (let j = 0; j < d; j++) w[j] = src[j] * signs[sOff + j];
      fhtUnchecked(w, 0, d);
      src = w;
    }
    return src;
  }

  keys(out: Float64Array): void {
    const { k, l, rotationDim: d, lastCpDim } = this.p;
    for (let t = 0; t < l; t++) {
      let key = 0;
      for (let c = 0; c < k; c++) key = key * this.mult[c] + decodeCp(this.rotate(t, c), 0, c === k - 1 ? lastCpDim : d);
      out[t] = key;
    }
  }

  transform(out: Float64Array[]): void {
    const { k, l, rotationDim: d, lastCpDim } = this.p;
    const tv = out[0];
    for (let t = 0; t < l; t++) {
      for (let c = 0; c < k; c++) {
        const v = this.rotate(t, c);
        const cpDim = c === k - 1 ? lastCpDim : d;
        const off = this.segOffset[t * k + c];
        for (let j = 0; j < cpDim; j++) tv[off + j] = v[j];
      }
    }
  }
}

/** Cross-polytope hash in the WebAssembly SIMD kernel, 4 points at a time (see lsh-wasm.ts). */
class CrossPolytopeWasmKernel extends CrossPolytopeBase {
  readonly lanes = 4;
  readonly kernel = 'wasm' as const;
  private readonly wasm: CrossPolytopeWasm;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly X: number;
  private readonly W: number;
  private readonly F: number;
  private readonly OUT: number;
  private readonly SIGNS: number;

  constructor(p: ResolvedLshParameters, signs: Float32Array) {
    super(p);
    const d = p.rotationDim;
    this.X = 0;
    this.W = 16 * d;
    this.F = 32 * d;
    this.OUT = this.F + 16 * p.lastCpDim;
    this.SIGNS = this.OUT + 64;
    this.wasm = instantiateCrossPolytopeWasm(this.SIGNS + 4 * signs.length);
    this.f32 = new Float32Array(this.wasm.memory.buffer);
    this.i32 = new Int32Array(this.wasm.memory.buffer);
    this.f32.set(signs, this.SIGNS / 4);
  }

  load(data: Float32Array, rows: Int32Array, count: number): void {
    const dim = this.p.dim;
    const f32 = this.f32;
    for (let lane = 0; lane < count; lane++) {
      const off = rows[lane] * dim;
      for (let j = 0; j < dim; j++) f32[4 * j + lane] = data[off + j];
    }
    // Padding coordinates dim … d' stay 0 (never written); lanes ≥ count keep stale values, unused.
  }

  /** Rotations of cross-polytope (t, c) for the 4 lanes; returns the byte offset of the result. */
  private rotate(t: number, c: number): number {
    const { k, numRotations: R, rotationDim: d, lastCpDim } = this.p;
    const cpDim = c === k - 1 ? lastCpDim : d;
    const fn = this.wasm.fn;
    let src = this.X;
    for (let r = 0; r < R; r++) {
      const sOff = this.SIGNS + 4 * ((t * k + c) * R + r) * d;
      if (r === R - 1 && cpDim < d) {
        fn.signFold(src, this.F, sOff, cpDim, d);
        return this.F;
      }
      fn.signFht(src, this.W, sOff, d);
      src = this.W;
    }
    return src;
  }

  keys(out: Float64Array): void {
    const { k, l, rotationDim: d, lastCpDim } = this.p;
    const fn = this.wasm.fn;
    const i32 = this.i32;
    const o = this.OUT / 4;
    for (let t = 0; t < l; t++) {
      let k0 = 0, k1 = 0, k2 = 0, k3 = 0; // prettier-ignore
      for (let c = 0; c < k; c++) {
        const ptr = this.rotate(t, c);
        fn.decode(ptr, c === k - 1 ? lastCpDim : d, this.OUT);
        const m = this.mult[c];
        k0 = k0 * m + i32[o];
        k1 = k1 * m + i32[o + 1];
        k2 = k2 * m + i32[o + 2];
        k3 = k3 * m + i32[o + 3];
      }
      out[4 * t] = k0;
      out[4 * t + 1] = k1;
      out[4 * t + 2] = k2;
      out[4 * t + 3] = k3;
    }
  }

  transform(out: Float64Array[]): void {
    const { k, l, rotationDim: d, lastCpDim } = this.p;
    const f32 = this.f32;
    for (let t = 0; t < l; t++) {
      for (let c = 0; c < k; c++) {
        const base = this.rotate(t, c) / 4;
        const cpDim = c === k - 1 ? lastCpDim : d;
        const off = this.segOffset[t * k + c];
        for (let lane = 0; lane < out.length && lane < 4; lane++) {
          const tv = out[lane];
          for (let j = 0; j < cpDim; j++) tv[off + j] = f32[base + 4 * j + lane];
        }
      }
    }
  }
}

/** Hyperplane hash: k unit-norm Gaussian hyperplanes per table, bit = (x·h ≥ 0), first hyperplane highest. */
class HyperplaneHash implements HashFunctions {
  readonly lanes = 1;
  readonly kernel = 'js' as const;
  readonly transformedSize: number;
  private readonly p: ResolvedLshParameters;
  private readonly planes: Float32Array;
  private readonly x: Float32Array;
  private readonly margins: Float64Array;
  private readonly four = new Float64Array(4);

  constructor(p: ResolvedLshParameters) {
    this.p = p;
    const rng = createRng(p.seed);
    const { dim, k, l } = p;
    this.transformedSize = l * k;
    this.planes = new Float32Array(l * k * dim);
    for (let h = 0; h < l * k; h++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const g = rng.normal();
        this.planes[h * dim + j] = g;
        s += g * g;
      }
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < dim; j++) this.planes[h * dim + j] *= inv;
    }
    this.x = new Float32Array(dim);
    this.margins = new Float64Array(l * k);
  }

  load(data: Float32Array, rows: Int32Array, count: number): void {
    if (count < 1) return;
    const dim = this.p.dim;
    this.x.set(data.subarray(rows[0] * dim, rows[0] * dim + dim));
  }

  private computeMargins(out: Float64Array): void {
    const { dim } = this.p;
    const n = this.transformedSize;
    const planes = this.planes;
    let h = 0;
    for (; h + 3 < n; h += 4) {
      dotFour(this.x, 0, planes, h * dim, (h + 1) * dim, (h + 2) * dim, (h + 3) * dim, dim, this.four);
      out[h] = this.four[0];
      out[h + 1] = this.four[1];
      out[h + 2] = this.four[2];
      out[h + 3] = this.four[3];
    }
    for (; h < n; h++) out[h] = dot(this.x, 0, planes, h * dim, dim);
  }

  keys(out: Float64Array): void {
    this.computeMargins(this.margins);
    this.keysFromTransformed(this.margins, out);
  }

  transform(out: Float64Array[]): void {
    this.computeMargins(out[0]);
  }

  keysFromTransformed(tv: Float64Array, out: Float64Array): void {
    const { k, l } = this.p;
    for (let t = 0; t < l; t++) {
      let key = 0;
      for (let j = 0; j < k; j++) key = key * 2 + (tv[t * k + j] >= 0 ? 1 : 0);
      out[t] = key;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Probing sequences (FALCONN's MultiProbeLookup)
// ---------------------------------------------------------------------------------------------

/** Min-heap of probe candidates by score; ties pop in insertion order (deterministic). */
class ProbeHeap {
  size = 0;
  private score = new Float64Array(64);
  private seq = new Float64Array(64);
  private table = new Int32Array(64);
  private hash = new Float64Array(64);
  private a = new Int32Array(64);
  private b = new Int32Array(64);
  private counter = 0;
  // The last popped entry.
  topScore = 0;
  topTable = 0;
  topHash = 0;
  topA = 0;
  topB = 0;

  reset(): void {
    this.size = 0;
    this.counter = 0;
  }

  private less(i: number, j: number): boolean {
    return this.score[i] < this.score[j] || (this.score[i] === this.score[j] && this.seq[i] < this.seq[j]);
  }

  private grow(): void {
    const cap = this.score.length * 2;
    const g64 = (x: Float64Array) => { const y = new Float64Array(cap); y.set(x); return y; }; // prettier-ignore
    const g32 = (x: Int32Array) => { const y = new Int32Array(cap); y.set(x); return y; }; // prettier-ignore
    this.score = g64(this.score);
    this.seq = g64(this.seq);
    this.hash = g64(this.hash);
    this.table = g32(this.table);
    this.a = g32(this.a);
    this.b = g32(this.b);
  }

  private swap(i: number, j: number): void {
    let t = this.score[i]; this.score[i] = this.score[j]; this.score[j] = t; // prettier-ignore
    t = this.seq[i]; this.seq[i] = this.seq[j]; this.seq[j] = t; // prettier-ignore
    t = this.hash[i]; this.hash[i] = this.hash[j]; this.hash[j] = t; // prettier-ignore
    t = this.table[i]; this.table[i] = this.table[j]; this.table[j] = t; // prettier-ignore
    t = this.a[i]; this.a[i] = this.a[j]; this.a[j] = t; // prettier-ignore
    t = this.b[i]; this.b[i] = this.b[j]; this.b[j] = t; // prettier-ignore
  }

  push(score: number, table: number, hash: number, a: number, b: number): void {
    if (this.size === this.score.length) this.grow();
    let c = this.size++;
    this.score[c] = score;
    this.seq[c] = this.counter++;
    this.table[c] = table;
    this.hash[c] = hash;
    this.a[c] = a;
    this.b[c] = b;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!this.less(c, p)) break;
      this.swap(c, p);
      c = p;
    }
  }

  /** Removes the smallest entry into top*; false when empty. */
  pop(): boolean {
    if (this.size === 0) return false;
    this.topScore = this.score[0];
    this.topTable = this.table[0];
    this.topHash = this.hash[0];
    this.topA = this.a[0];
    this.topB = this.b[0];
    const last = --this.size;
    if (last > 0) {
      this.swap(0, last);
      let p = 0;
      for (;;) {
        const l = 2 * p + 1;
        if (l >= last) break;
        const r = l + 1;
        const c = r < last && this.less(r, l) ? r : l;
        if (!this.less(c, p)) break;
        this.swap(c, p);
        p = c;
      }
    }
    return true;
  }
}

/** Yields probes (table, key) in order; `keys` are the main buckets of the query. */
interface ProbeSequence {
  /** Prepares the sequence of one query from its transformed vector and main keys. */
  setup(tv: Float64Array, mainKeys: Float64Array, numProbes: number): void;
  /** Next probe into `probeTable`/`probeKey`; false when the sequence is exhausted. */
  next(): boolean;
  probeTable: number;
  probeKey: number;
}

/** Cross-polytope multiprobe (FALCONN's CrossPolytopeHashBase::MultiProbeLookup). */
class CrossPolytopeProbes implements ProbeSequence {
  probeTable = 0;
  probeKey = 0;
  private readonly p: ResolvedLshParameters;
  private readonly segOffset: Int32Array;
  private readonly mult: number[];
  private readonly heap = new ProbeHeap();
  /** Per (t, c): sorted prefix of (score, value) pairs, 2·cpDim slots each. */
  private readonly sortedScore: Float32Array;
  private readonly sortedValue: Int32Array;
  private readonly listOffset: Int32Array;
  private readonly sortedTo: Int32Array;
  private readonly maxAbs: Float64Array;
  private readonly heaps = new Map<number, TopK>();
  private tv: Float64Array = new Float64Array(0);
  private block = 8;
  private emitted = 0;
  private numProbes = 0;

  constructor(p: ResolvedLshParameters, segOffset: Int32Array, mult: number[]) {
    this.p = p;
    this.segOffset = segOffset;
    this.mult = mult;
    const { l, k, rotationDim: d, lastCpDim } = p;
    this.listOffset = new Int32Array(l * k + 1);
    for (let i = 0; i < l * k; i++) this.listOffset[i + 1] = this.listOffset[i] + 2 * (i % k === k - 1 ? lastCpDim : d);
    this.sortedScore = new Float32Array(this.listOffset[l * k]);
    this.sortedValue = new Int32Array(this.listOffset[l * k]);
    this.sortedTo = new Int32Array(l * k);
    this.maxAbs = new Float64Array(l * k);
  }

  setup(tv: Float64Array, _mainKeys: Float64Array, numProbes: number): void {
    const { l, k, rotationDim: d, lastCpDim } = this.p;
    this.tv = tv;
    this.numProbes = numProbes;
    this.emitted = 0;
    this.sortedTo.fill(-1); // -1: scores not computed yet
    // FALCONN's initial sorting block: grows with the probes per table.
    let b = 1;
    while (b ** (k - 1) * Math.max(1, (b * lastCpDim) / d) < numProbes / l) b *= Math.SQRT2;
    this.block = Math.max(1, Math.round(b * Math.SQRT2));
    this.heap.reset();
    for (let t = 0; t < l; t++) this.heap.push(0, t, 0, 0, 0);
  }

  /** Score of the `i`-th best alternative of cross-polytope `tc`, sorting further when needed. */
  private entry(tc: number, i: number): number {
    if (i >= this.sortedTo[tc]) this.sortMore(tc, i);
    return this.listOffset[tc] + i;
  }

  private sortMore(tc: number, i: number): void {
    const { k, rotationDim: d, lastCpDim } = this.p;
    const cpDim = tc % k === k - 1 ? lastCpDim : d;
    const off = this.segOffset[tc];
    const tv = this.tv;
    if (this.sortedTo[tc] < 0) {
      let m = 0;
      for (let j = 0; j < cpDim; j++) m = Math.max(m, Math.abs(tv[off + j]));
      this.maxAbs[tc] = m;
      this.sortedTo[tc] = 0;
    }
    const total = 2 * cpDim;
    const have = this.sortedTo[tc];
    const want = Math.min(total, Math.max(i + 1, 2 * have, this.block));
    let heap = this.heaps.get(want);
    if (!heap) {
      heap = new TopK(want);
      this.heaps.set(want, heap);
    }
    // The `want` best (score, value) pairs: score(+e_j) = max|x| − x_j, score(−e_j) = max|x| + x_j (float32).
    const m = this.maxAbs[tc];
    const fr = Math.fround;
    for (let j = 0; j < cpDim; j++) {
      const x = tv[off + j];
      const sp = fr(m - x);
      if (sp <= heap.worst) heap.push(sp, j);
      const sn = fr(m + x);
      if (sn <= heap.worst) heap.push(sn, j + cpDim);
    }
    const base = this.listOffset[tc];
    heap.drainSorted(this.sortedValue, this.sortedScore, base);
    this.sortedTo[tc] = want;
  }

  next(): boolean {
    if (this.emitted >= this.numProbes) return false;
    const { k, rotationDim: d, lastCpDim } = this.p;
    const heap = this.heap;
    if (!heap.pop()) return false;
    const score = heap.topScore;
    const table = heap.topTable;
    let hash = heap.topHash;
    let cp = heap.topA;
    let si = heap.topB;
    const fr = Math.fround;
    for (;;) {
      if (cp === k) {
        this.probeTable = table;
        this.probeKey = hash;
        this.emitted++;
        return true;
      }
      const tc = table * k + cp;
      const cpDim = cp === k - 1 ? lastCpDim : d;
      const e = this.entry(tc, si);
      const s = this.sortedScore[e];
      const s2 = fr(s * s);
      if (si < 2 * cpDim - 1) {
        const ne = this.sortedScore[this.entry(tc, si + 1)];
        heap.push(fr(fr(score - s2) + fr(ne * ne)), table, hash, cp, si + 1);
      }
      // The next cross-polytope, starting at its best vertex: FALCONN's insert_guaranteed_top,
      // i.e. this candidate is the heap's next minimum; continue with it directly.
      hash = hash * this.mult[cp] + this.sortedValue[this.entry(tc, si)];
      cp += 1;
      si = 0; // score unchanged: the best vertex of a cross-polytope has score 0
    }
  }
}

/** XOR of two non-negative integers below 2^52 (JavaScript bit operators are 32-bit). */
function xor52(a: number, b: number): number {
  const S = 2 ** 26;
  const ah = Math.floor(a / S);
  const bh = Math.floor(b / S);
  return ((ah ^ bh) >>> 0) * S + (((a - ah * S) ^ (b - bh * S)) >>> 0);
}

/** Hyperplane multiprobe (FALCONN's HyperplaneHashBase::MultiProbeLookup). */
class HyperplaneProbes implements ProbeSequence {
  probeTable = 0;
  probeKey = 0;
  private readonly p: ResolvedLshParameters;
  private readonly heap = new ProbeHeap();
  private readonly order: Int32Array;
  private tv: Float64Array = new Float64Array(0);
  private main: Float64Array = new Float64Array(0);
  private counter = 0;
  private numProbes = 0;

  constructor(p: ResolvedLshParameters) {
    this.p = p;
    this.order = new Int32Array(p.l * p.k);
  }

  private bit(j: number): number {
    return 2 ** (this.p.k - 1 - j);
  }

  setup(tv: Float64Array, mainKeys: Float64Array, numProbes: number): void {
    const { l, k } = this.p;
    this.tv = tv;
    this.main = mainKeys;
    this.numProbes = numProbes;
    this.counter = 0;
    this.heap.reset();
    if (numProbes <= l) return;
    const idx = Array.from({ length: k }, (_, j) => j);
    for (let t = 0; t < l; t++) {
      const o = t * k;
      idx.sort((a, b) => Math.abs(tv[o + a]) - Math.abs(tv[o + b]) || a - b);
      for (let j = 0; j < k; j++) this.order[o + j] = idx[j];
      const best = idx[0];
      this.heap.push(tv[o + best] * tv[o + best], t, this.bit(best), 0, 0);
    }
  }

  next(): boolean {
    const { l, k } = this.p;
    if (this.counter >= this.numProbes) return false;
    if (this.counter < l) {
      this.probeTable = this.counter;
      this.probeKey = this.main[this.counter];
      this.counter++;
      return true;
    }
    const heap = this.heap;
    if (!heap.pop()) return false;
    this.counter++;
    const t = heap.topTable;
    const mask = heap.topHash;
    const last = heap.topA;
    const score = heap.topScore;
    this.probeTable = t;
    this.probeKey = xor52(this.main[t], mask);
    if (last !== k - 1) {
      const o = t * k;
      const cur = this.order[o + last];
      const nxt = this.order[o + last + 1];
      const mc = this.tv[o + cur];
      const mn = this.tv[o + nxt];
      heap.push(score - mc * mc + mn * mn, t, xor52(xor52(mask, this.bit(cur)), this.bit(nxt)), last + 1, 0);
      heap.push(score + mn * mn, t, xor52(mask, this.bit(nxt)), last + 1, 0);
    }
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/** The l bucket tables: ids sorted by key per table, plus the bucket directory. */
class Tables {
  readonly l: number;
  readonly n: number;
  /** Table t's ids at [t·n, (t+1)·n), sorted by key, ascending ids within a bucket. */
  readonly ids: Int32Array;
  /** sorted-keys: distinct keys of each table, ascending. */
  readonly keys: Float64Array[] = [];
  /** Bucket b of table t is ids[t·n + starts[t][b] … t·n + starts[t][b+1]). */
  readonly starts: Int32Array[] = [];
  readonly flat: boolean;
  /** Result of the last lookup: absolute range in `ids`. */
  from = 0;
  to = 0;

  constructor(l: number, n: number, flat: boolean) {
    this.l = l;
    this.n = n;
    this.ids = new Int32Array(l * n);
    this.flat = flat;
  }

  /** Fills table t from the keys of its n points (`keys[i]` = key of point i). */
  fill(t: number, keys: Float64Array, bits: number): void {
    const n = this.n;
    const bucket = new Int32Array(n);
    let starts: Int32Array;
    if (this.flat) {
      starts = new Int32Array(2 ** bits + 1);
      for (let i = 0; i < n; i++) bucket[i] = keys[i];
    } else {
      const sorted = keys.slice().sort();
      let u = 0;
      for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[u++] = sorted[i];
      const distinct = sorted.slice(0, u);
      this.keys[t] = distinct;
      starts = new Int32Array(u + 1);
      for (let i = 0; i < n; i++) bucket[i] = searchSorted(distinct, keys[i]);
    }
    for (let i = 0; i < n; i++) starts[bucket[i] + 1]++;
    for (let b = 1; b < starts.length; b++) starts[b] += starts[b - 1];
    const pos = starts.slice(0, starts.length - 1);
    const ids = this.ids;
    const base = t * n;
    for (let i = 0; i < n; i++) ids[base + pos[bucket[i]]++] = i;
    this.starts[t] = starts;
  }

  /** Sets from/to to the range of bucket `key` of table t (empty when absent); returns its size. */
  lookup(t: number, key: number): number {
    const starts = this.starts[t];
    let b: number;
    if (this.flat) {
      b = key;
    } else {
      b = searchSorted(this.keys[t], key);
      if (b < 0) {
        this.from = this.to = 0;
        return 0;
      }
    }
    this.from = t * this.n + starts[b];
    this.to = t * this.n + starts[b + 1];
    return this.to - this.from;
  }

  /** Bytes held by the tables. */
  bytes(): number {
    let s = this.ids.byteLength;
    for (const k of this.keys) s += k?.byteLength ?? 0;
    for (const st of this.starts) s += st.byteLength;
    return s;
  }
}

/** Index of `key` in the ascending `sorted`, or −1. */
function searchSorted(sorted: Float64Array, key: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid];
    if (v < key) lo = mid + 1;
    else if (v > key) hi = mid - 1;
    else return mid;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Index and query object
// ---------------------------------------------------------------------------------------------

function checkQueryOptions(o: LshQueryOptions | LshIndexOptions, l: number | null): void {
  if (o.numProbes !== undefined && o.numProbes !== 'auto') {
    if (!Number.isSafeInteger(o.numProbes) || o.numProbes < 1) throw new RangeError(`numProbes must be a positive integer, found ${o.numProbes}`);
    if (l !== null && o.numProbes < l) throw new RangeError(`numProbes must be at least the number of tables l = ${l} (one bucket per table), found ${o.numProbes}`);
  }
  if (o.maxCandidates !== undefined && o.maxCandidates !== Infinity && (!Number.isSafeInteger(o.maxCandidates) || o.maxCandidates < 1)) {
    throw new RangeError(`maxCandidates must be a positive integer (or Infinity for no limit), found ${o.maxCandidates}`);
  }
}

/** What an index built (shared by its query objects). */
/**
 * The hash functions of `params` (internal: also used by the build workers, `lsh-worker.ts`).
 * @throws Error for kernel 'wasm' without WebAssembly SIMD.
 */
export function createHashFunctions(params: ResolvedLshParameters, kernel: 'auto' | 'js' | 'wasm'): HashFunctions {
  if (params.family === 'hyperplane') return new HyperplaneHash(params);
  const signs = crossPolytopeSigns(params);
  if (kernel !== 'js') {
    const why = crossPolytopeWasmUnavailable();
    if (!why) return new CrossPolytopeWasmKernel(params, signs);
    if (kernel === 'wasm') throw new Error(`kernel 'wasm' is unavailable: ${why}`);
  }
  return new CrossPolytopeJs(params, signs);
}

/**
 * Hashes rows r0 … r0+count−1 of `data` into `out`: the key of row r in table t goes to
 * `out[t·outStride + outOffset + (r − r0)]` (internal: also used by the build workers).
 */
export function hashRows(hashes: HashFunctions, data: Float32Array, r0: number, count: number, out: Float64Array, outStride: number, outOffset: number): void {
  const lanes = hashes.lanes;
  const l = out.length / outStride;
  const keys = new Float64Array(l * lanes);
  const group = new Int32Array(lanes);
  for (let g = 0; g < count; g += lanes) {
    const n = Math.min(lanes, count - g);
    for (let i = 0; i < n; i++) group[i] = r0 + g + i;
    hashes.load(data, group, n);
    hashes.keys(keys);
    for (let t = 0; t < l; t++) {
      const o = t * outStride + outOffset + g;
      for (let i = 0; i < n; i++) out[o + i] = keys[t * lanes + i];
    }
  }
}

/** Work units (row × table × function × rotation × coordinate) hashed per second on one thread, measured. */
const HASH_UNITS_PER_SECOND = 1.6e9;

/** Hashing work units of one point (see {@link HASH_UNITS_PER_SECOND}). */
function hashUnitsPerRow(p: ResolvedLshParameters): number {
  return p.family === 'cross-polytope' ? p.l * p.k * p.numRotations * p.rotationDim : p.l * p.k * p.dim;
}

/** Threads for hashing `rows` points (see {@link LshIndexOptions.buildThreads}). */
function buildThreadCount(option: number | 'auto', p: ResolvedLshParameters, rows: number): number {
  if (option !== 'auto') return Math.max(1, Math.min(option, rows));
  const seconds = (rows * hashUnitsPerRow(p)) / HASH_UNITS_PER_SECOND;
  return seconds >= 2 ? Math.max(1, Math.min(availableParallelism(), Math.floor(rows / 1024))) : 1;
}

/** A build worker's reply: the keys of rows r0 … r0+count−1, table-major (`l × count`). */
export interface LshWorkerReply {
  r0: number;
  count: number;
  keys?: Float64Array;
  error?: string;
}

/**
 * Hashes all rows on `threads` worker threads, chunk by chunk (two chunks in flight per worker),
 * into keysAll (table-major, l × rows). Each worker builds the same hash functions from the
 * parameters, so the keys equal those of a single-thread build.
 */
async function hashWithWorkers(
  params: ResolvedLshParameters,
  kernel: 'js' | 'wasm',
  data: Float32Array,
  rows: number,
  threads: number,
  keysAll: Float64Array,
  report: ((done: number, total: number) => void) | undefined,
): Promise<void> {
  const dim = params.dim;
  // Chunks of ~0.25 s of work each, at least 16 rows.
  const chunk = Math.max(16, Math.min(4096, Math.floor((0.25 * HASH_UNITS_PER_SECOND) / hashUnitsPerRow(params))));
  const { script, evalCode } = workerEntry(__dirname, __filename, 'lsh-worker', 'LshIndex.build with buildThreads > 1');
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      let failed = false;
      const fail = (e: Error) => {
        if (!failed) {
          failed = true;
          reject(e);
        }
      };
      const feed = (w: Worker) => {
        if (failed || next >= rows) return;
        const r0 = next;
        const count = Math.min(chunk, rows - r0);
        next += count;
        const part = data.slice(r0 * dim, (r0 + count) * dim);
        w.postMessage({ r0, count, data: part }, [part.buffer]);
      };
      for (let i = 0; i < threads; i++) {
        const w = new Worker(script, { eval: evalCode, workerData: { params, kernel }, execArgv: process.execArgv, name: `dknn-lsh-${i + 1}` });
        workers.push(w);
        w.on('message', (m: LshWorkerReply) => {
          if (m.error !== undefined || !m.keys) {
            fail(new Error(`LSH build worker ${i + 1} failed: ${m.error ?? 'no keys'}`));
            return;
          }
          const l = params.l;
          for (let t = 0; t < l; t++) keysAll.set(m.keys.subarray(t * m.count, (t + 1) * m.count), t * rows + m.r0);
          done += m.count;
          report?.(done, rows);
          if (done === rows) resolve();
          else feed(w);
        });
        w.on('error', (e) => fail(new Error(`LSH build worker ${i + 1} failed: ${e.message}`)));
        w.on('exit', (code) => {
          if (done < rows) fail(new Error(`LSH build worker ${i + 1} exited with code ${code} before the build finished`));
        });
        feed(w);
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

interface Built {
  params: ResolvedLshParameters;
  /** The rows: row i is `values[base + i·stride … + dim)` (the caller's data, or the store's memory). */
  values: Float32Array;
  base: number;
  stride: number;
  /** The rows in the dot-product kernel's memory (two-pass re-ranking), or null (JavaScript). */
  store: WasmRowStore | null;
  norms: Float64Array;
  n: number;
  hashes: HashFunctions;
  tables: Tables;
  /** Multiprobe helpers of the hash family. */
  probes: () => ProbeSequence;
}

/**
 * FALCONN-style LSH {@link NeighborIndex}; see the module comment. `query` uses the index's own
 * query settings (constructor options, overridable per call); {@link createQuery} makes independent
 * query objects, e.g. to sweep `numProbes` on one built index.
 */
export class LshIndex implements NeighborIndex {
  /** The parameters as given (k may still be computed from hashBits at build). */
  readonly parameters: Readonly<LshParameters>;
  private readonly options: LshIndexOptions;
  private built: Built | null = null;
  private defaultQuery: LshQuery | null = null;
  private lastQuery: LshQuery | null = null;
  /** Seconds the last `build` took (hashing, tables, copying the rows for two-pass re-ranking, tuning). */
  buildSeconds = { hash: 0, tables: 0, copy: 0, tune: 0, total: 0 };
  /** With `numProbes: 'auto'`: what the tuning at the last build chose and measured; else null. */
  tuning: LshTuning | null = null;
  /** Threads that hashed the points in the last `build` (see {@link LshIndexOptions.buildThreads}). */
  buildThreadsUsed = 0;

  /**
   * @param params construction parameters (`lsh-params.ts`); checked now as far as possible without
   *   the dimension, fully at `build`.
   * @throws RangeError naming the bad field, what was expected and what was found.
   */
  constructor(params: LshParameters, options: LshIndexOptions = {}) {
    checkLshParameters(params);
    const kernel = options.kernel ?? 'auto';
    if (kernel !== 'auto' && kernel !== 'js' && kernel !== 'wasm') {
      throw new RangeError(`kernel must be 'auto', 'js' or 'wasm', found ${JSON.stringify(kernel)}`);
    }
    checkQueryOptions(options, params.l);
    if (options.numProbes === 'auto') resolveTuneOptions(options.tune, params.l);
    else if (options.tune !== undefined) throw new RangeError(`tune applies to numProbes 'auto' only, found numProbes ${String(options.numProbes ?? 'default (l)')}`);
    const bt = options.buildThreads;
    if (bt !== undefined && bt !== 'auto' && (!Number.isSafeInteger(bt) || bt < 1)) {
      throw new RangeError(`buildThreads must be a positive integer or 'auto', found ${JSON.stringify(bt)}`);
    }
    this.parameters = Object.freeze({ ...params });
    this.options = { ...options, kernel };
  }

  /** Database rows (0 before build). */
  get size(): number {
    return this.built ? this.built.n : 0;
  }

  /** Values per row (0 before build). */
  get dim(): number {
    return this.built ? this.built.params.dim : 0;
  }

  /** The parameters with k, lastCpDim, … resolved for the built dimension; null before build. */
  get resolved(): ResolvedLshParameters | null {
    return this.built ? { ...this.built.params } : null;
  }

  /** The kernel that hashes ('wasm' or 'js'); null before build. */
  get kernel(): 'js' | 'wasm' | null {
    return this.built ? this.built.hashes.kernel : null;
  }

  /** Same as {@link kernel}: reported by `DkNN.info()` as the index backend. */
  get backend(): string | null {
    return this.kernel;
  }

  /** Statistics of the last {@link query} call (query objects keep their own). */
  get lastQueryStats(): LshQueryStats {
    return this.lastQuery ? this.lastQuery.lastQueryStats : emptyStats();
  }

  /** Bytes of the tables (ids and bucket directory). */
  get tableBytes(): number {
    return this.built ? this.built.tables.bytes() : 0;
  }

  /**
   * Buckets probed per query by {@link query} and new query objects: the tuned number after a build
   * with `numProbes: 'auto'`, else the option, else l (before build: the option or the parameters' l).
   */
  get numProbes(): number {
    const o = this.options.numProbes;
    if (o === 'auto') return this.tuning?.numProbes ?? (this.built ? this.built.params.l : this.parameters.l);
    return o ?? (this.built ? this.built.params.l : this.parameters.l);
  }

  /** How candidates are re-ranked: 'wasm' (two passes, rows copied) or 'js'; null before build. */
  get rerankKernel(): 'js' | 'wasm' | null {
    return this.built ? (this.built.store ? 'wasm' : 'js') : null;
  }

  /** The parameters, query settings and kernel, as plain data (for reports and `DkNN.info()`). */
  describe(): Record<string, unknown> {
    return {
      name: 'lsh',
      parameters: this.built ? { ...this.built.params } : { ...this.parameters },
      numProbes: this.built || this.options.numProbes !== 'auto' ? this.numProbes : 'auto',
      ...(this.tuning ? { tuning: { targetRecall: this.tuning.targetRecall, recall: this.tuning.recall, lowerBound: this.tuning.lowerBound, reached: this.tuning.reached, k: this.tuning.k, sample: this.tuning.sample } } : {}),
      maxCandidates: this.options.maxCandidates ?? null,
      kernel: this.kernel ?? this.options.kernel,
      rerank: this.rerankKernel ?? this.options.kernel,
    };
  }

  async build(data: Float32Array, rows: number, dim: number): Promise<void> {
    checkMatrix('data', data, rows, dim);
    const t0 = performance.now();
    const params = resolveLshParameters(this.parameters, dim, rows);
    const norms = rowSquaredNorms(data, rows, dim, 'data');
    const hashes = this.makeHashes(params);
    const { l } = params;
    const keysAll = new Float64Array(l * rows);
    const report = this.options.onBuildProgress;
    const threads = buildThreadCount(this.options.buildThreads ?? 'auto', params, rows);
    this.buildThreadsUsed = threads;
    if (threads > 1) {
      await hashWithWorkers(params, hashes.kernel, data, rows, threads, keysAll, report);
    } else {
      let lastYield = performance.now();
      const step = 4 * hashes.lanes;
      for (let r0 = 0; r0 < rows; r0 += step) {
        const count = Math.min(step, rows - r0);
        hashRows(hashes, data, r0, count, keysAll, rows, r0);
        if (performance.now() - lastYield >= 50) {
          report?.(r0 + count, rows);
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
      }
    }
    let lastYield = performance.now();
    const t1 = performance.now();
    const tables = new Tables(l, rows, params.storageHashTable === 'flat');
    for (let t = 0; t < l; t++) {
      tables.fill(t, keysAll.subarray(t * rows, (t + 1) * rows), params.hashBits);
      if (performance.now() - lastYield >= 50) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    report?.(rows, rows);
    const t2 = performance.now();
    const store = this.makeStore(data, rows, dim);
    const t3 = performance.now();
    let probes: () => ProbeSequence;
    if (params.family === 'cross-polytope') {
      const cp = hashes as CrossPolytopeBase;
      probes = () => new CrossPolytopeProbes(params, cp.segOffset, cp.mult);
    } else {
      probes = () => new HyperplaneProbes(params);
    }
    const rowsAt = store ? { values: store.values, base: store.base, stride: store.stride } : { values: data, base: 0, stride: dim };
    this.built = { params, ...rowsAt, store, norms, n: rows, hashes, tables, probes };
    this.defaultQuery = null;
    this.lastQuery = null;
    this.tuning = null;
    if (this.options.numProbes === 'auto') this.tuning = await this.tune(data);
    const t4 = performance.now();
    this.buildSeconds = { hash: (t1 - t0) / 1000, tables: (t2 - t1) / 1000, copy: (t3 - t2) / 1000, tune: (t4 - t3) / 1000, total: (t4 - t0) / 1000 };
  }

  /** The probes for `numProbes: 'auto'` (see `lsh-tune.ts`). */
  private async tune(data: Float32Array): Promise<LshTuning> {
    const t0 = performance.now();
    const b = this.requireBuilt();
    const { l, dim, seed } = b.params;
    const o = resolveTuneOptions(this.options.tune, l);
    const n = b.n;
    if (n < 2) return { numProbes: l, recall: 1, lowerBound: 1, reached: true, targetRecall: o.recall, k: 0, sample: 0, curve: [], seconds: 0 };
    const k = Math.min(o.k, n - 1);
    const m = Math.min(o.sample, n);
    // A seeded sample of distinct points (partial Fisher–Yates), in increasing order.
    const rng = createRng((seed ^ 0x7e57ab1e) >>> 0);
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < m; i++) {
      const j = i + rng.int(n - i);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    const self = perm.slice(0, m).sort();
    const queries = new Float32Array(m * dim);
    for (let q = 0; q < m; q++) queries.set(data.subarray(self[q] * dim, (self[q] + 1) * dim), q * dim);
    const exact = new ExactIndex();
    await exact.build(data, n, dim);
    const truth = (await exact.query(queries, m, k + 1)).indices;
    const found = await searchNumProbes(
      async (numProbes) => recallWithoutSelf(truth, (await new LshQuery(b, { numProbes }).query(queries, m, k + 1)).indices, self, k),
      l,
      o.recall,
      o.maxProbes,
    );
    return { ...found, targetRecall: o.recall, k, sample: m, seconds: (performance.now() - t0) / 1000 };
  }

  /** The rows for two-pass re-ranking, or null to re-rank in JavaScript (see the module comment). */
  private makeStore(data: Float32Array, rows: number, dim: number): WasmRowStore | null {
    const want = this.options.kernel ?? 'auto';
    if (want === 'js') return null;
    const why = dotWasmUnavailable() ?? (WasmRowStore.bytesFor(rows, dim) > WASM_MAX_BYTES ? `${rows} rows × ${dim} values exceed a WebAssembly memory (4 GiB)` : null);
    if (!why) return new WasmRowStore(data, rows, dim);
    if (want === 'wasm' && dotWasmUnavailable()) throw new Error(`kernel 'wasm' is unavailable: ${why}`);
    return null;
  }

  private makeHashes(params: ResolvedLshParameters): HashFunctions {
    return createHashFunctions(params, this.options.kernel ?? 'auto');
  }

  /**
   * The bucket key of `point` (dim values) in each of the l tables (FALCONN's `hash`): equal points
   * always share their buckets.
   * @throws Error before build; RangeError when `point` does not have dim values.
   */
  hash(point: Float32Array): Float64Array {
    const b = this.requireBuilt();
    checkQueries(point, 1, b.params.dim);
    const { hashes, params } = b;
    const keys = new Float64Array(params.l * hashes.lanes);
    hashes.load(point, new Int32Array(hashes.lanes), 1);
    hashes.keys(keys);
    const out = new Float64Array(params.l);
    for (let t = 0; t < params.l; t++) out[t] = keys[t * hashes.lanes];
    return out;
  }

  /**
   * The first `numProbes` probes of `point` in FALCONN's multiprobe order (FALCONN's
   * `get_probing_sequence`): `tables[i]`, `keys[i]` = table and bucket key of probe i. With
   * numProbes = l: each table's own bucket, in table order.
   * @throws Error before build; RangeError for a bad point or numProbes < l.
   */
  probingSequence(point: Float32Array, numProbes: number): { tables: Int32Array; keys: Float64Array } {
    const b = this.requireBuilt();
    checkQueries(point, 1, b.params.dim);
    checkQueryOptions({ numProbes }, b.params.l);
    const { hashes, params } = b;
    const tvs = Array.from({ length: hashes.lanes }, () => new Float64Array(hashes.transformedSize));
    hashes.load(point, new Int32Array(hashes.lanes), 1);
    hashes.transform(tvs);
    const main = new Float64Array(params.l);
    hashes.keysFromTransformed(tvs[0], main);
    if (numProbes === params.l) return { tables: Int32Array.from(main, (_, t) => t), keys: main };
    const seq = b.probes();
    seq.setup(tvs[0], main, numProbes);
    const tables: number[] = [];
    const keys: number[] = [];
    while (seq.next()) {
      tables.push(seq.probeTable);
      keys.push(seq.probeKey);
    }
    return { tables: Int32Array.from(tables), keys: Float64Array.from(keys) };
  }

  private requireBuilt(): Built {
    if (!this.built) throw new Error(NOT_BUILT_MESSAGE);
    return this.built;
  }

  /**
   * A new query object (FALCONN's `construct_query_object`) with its own settings and statistics.
   * @throws Error before build; RangeError for numProbes < l or a bad maxCandidates.
   */
  createQuery(options: LshQueryOptions = {}): LshQuery {
    if (!this.built) throw new Error(NOT_BUILT_MESSAGE);
    return new LshQuery(this.built, {
      numProbes: options.numProbes ?? this.numProbes,
      maxCandidates: options.maxCandidates ?? this.options.maxCandidates,
    });
  }

  /**
   * The k nearest candidates of each query (see the module comment), with the index's query
   * settings, or those given here. Statistics: {@link lastQueryStats}.
   */
  async query(queries: Float32Array, rows: number, k: number, options: QueryOptions & LshQueryOptions = {}): Promise<KnnResult> {
    if (!this.built) throw new Error(NOT_BUILT_MESSAGE);
    // Per-call settings get a query object of their own; the index's settings keep theirs.
    const q = options.numProbes !== undefined || options.maxCandidates !== undefined ? this.createQuery(options) : (this.defaultQuery ??= this.createQuery());
    this.lastQuery = q;
    return q.query(queries, rows, k, options);
  }
}

/**
 * A query object of a built {@link LshIndex} (FALCONN's `LSHNearestNeighborQuery`): owns the
 * probing settings, scratch memory and statistics. Not for concurrent use (one `query` at a time).
 */
export class LshQuery {
  private readonly b: Built;
  private probesN: number;
  private maxCand: number;
  /** Statistics of the last {@link query} call. */
  lastQueryStats: LshQueryStats = emptyStats();
  private readonly seen: Int32Array;
  private readonly cands: Int32Array;
  /** Lower distance bounds of the candidates (two-pass re-ranking). */
  private readonly lower: Float64Array;
  private stamp = 0;
  private sequence: ProbeSequence | null = null;

  constructor(built: Built, options: LshQueryOptions) {
    checkQueryOptions(options, built.params.l);
    this.b = built;
    this.probesN = options.numProbes ?? built.params.l;
    this.maxCand = options.maxCandidates ?? Infinity;
    this.seen = new Int32Array(built.n);
    this.cands = new Int32Array(built.n);
    this.lower = new Float64Array(built.store ? built.n : 0);
  }

  /** Buckets probed per query (≥ l). */
  get numProbes(): number {
    return this.probesN;
  }

  set numProbes(v: number) {
    checkQueryOptions({ numProbes: v }, this.b.params.l);
    this.probesN = v;
  }

  /** Most candidates per query (Infinity = no limit). */
  get maxCandidates(): number {
    return this.maxCand;
  }

  set maxCandidates(v: number) {
    checkQueryOptions({ maxCandidates: v }, null);
    this.maxCand = v;
  }

  /**
   * The k nearest candidates of each of `rows` queries; missing slots −1 / Infinity.
   * @throws RangeError on a dimension mismatch, k not in 1…size, or non-finite query values.
   */
  async query(queries: Float32Array, rows: number, k: number, options: QueryOptions = {}): Promise<KnnResult> {
    const b = this.b;
    const { params, hashes, tables, n } = b;
    checkQueries(queries, rows, params.dim);
    checkK(k, n);
    const qNorms = rowSquaredNorms(queries, rows, params.dim, 'queries');
    const result: KnnResult = { indices: new Int32Array(rows * k), distances: new Float32Array(rows * k), rows, k };
    const stats = emptyStats();
    const t0 = performance.now();
    const { l } = params;
    const lanes = hashes.lanes;
    const multiprobe = this.probesN > l;
    const keys = new Float64Array(l * lanes);
    const mainKeys = new Float64Array(l);
    const tvs = multiprobe ? Array.from({ length: lanes }, () => new Float64Array(hashes.transformedSize)) : [];
    if (multiprobe && !this.sequence) this.sequence = b.probes();
    const group = new Int32Array(lanes);
    const heap = new TopK(k);
    const upper = new TopK(k);
    const four = new Float64Array(4);
    const probeKeys: number[][] = Array.from({ length: l }, () => []);
    let lastYield = performance.now();
    for (let r0 = 0; r0 < rows; r0 += lanes) {
      const count = Math.min(lanes, rows - r0);
      let t = performance.now();
      for (let i = 0; i < count; i++) group[i] = r0 + i;
      hashes.load(queries, group, count);
      if (multiprobe) hashes.transform(tvs);
      else hashes.keys(keys);
      stats.seconds.hash += (performance.now() - t) / 1000;
      for (let lane = 0; lane < count; lane++) {
        const row = r0 + lane;
        t = performance.now();
        // The probes, grouped by table in probing order (FALCONN's get_probes_by_table).
        for (let tb = 0; tb < l; tb++) probeKeys[tb].length = 0;
        if (multiprobe) {
          const seq = this.sequence!;
          hashes.keysFromTransformed(tvs[lane], mainKeys);
          seq.setup(tvs[lane], mainKeys, this.probesN);
          while (seq.next()) probeKeys[seq.probeTable].push(seq.probeKey);
        } else {
          for (let tb = 0; tb < l; tb++) probeKeys[tb].push(keys[tb * lanes + lane]);
        }
        const t1 = performance.now();
        stats.seconds.hash += (t1 - t) / 1000;
        // Candidates, table by table, de-duplicated (FALCONN's get_unique_candidates).
        const stamp = ++this.stamp;
        const seen = this.seen;
        const cands = this.cands;
        const ids = tables.ids;
        let unique = 0;
        let taken = 0;
        const limit = this.maxCand;
        outer: for (let tb = 0; tb < l; tb++) {
          const pk = probeKeys[tb];
          for (let p = 0; p < pk.length; p++) {
            stats.probes++;
            if (tables.lookup(tb, pk[p]) === 0) continue;
            for (let e = tables.from; e < tables.to; e++) {
              if (taken >= limit) break outer;
              taken++;
              const id = ids[e];
              if (seen[id] !== stamp) {
                seen[id] = stamp;
                cands[unique++] = id;
              }
            }
          }
        }
        const t2 = performance.now();
        stats.seconds.lookup += (t2 - t1) / 1000;
        stats.candidates += taken;
        stats.uniqueCandidates += unique;
        this.rerank(queries, row, qNorms[row], unique, heap, upper, four, result, stats);
        if (unique < k) {
          stats.queriesShortOfK++;
          stats.missingNeighbors += k - unique;
        }
        stats.seconds.rerank += (performance.now() - t2) / 1000;
      }
      const now = performance.now();
      if (now - lastYield >= 50) {
        if (r0 + count < rows) options.onProgress?.(r0 + count, rows);
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      if (this.stamp > 2e9) {
        this.seen.fill(0);
        this.stamp = 0;
      }
    }
    stats.queries = rows;
    stats.averageCandidates = rows ? stats.candidates / rows : 0;
    stats.averageUniqueCandidates = rows ? stats.uniqueCandidates / rows : 0;
    stats.seconds.total = (performance.now() - t0) / 1000;
    this.lastQueryStats = stats;
    options.onProgress?.(rows, rows);
    return result;
  }

  /** Re-ranks cands[0 … count) exactly into row `row` of `out`; fills missing slots with −1 / Infinity. */
  private rerank(queries: Float32Array, row: number, qNorm: number, count: number, heap: TopK, upper: TopK, four: Float64Array, out: KnnResult, stats: LshQueryStats): void {
    const { values, base, stride, store, norms, params } = this.b;
    const dim = params.dim;
    const cands = this.cands;
    const qOff = row * dim;
    const neg = params.distance === 'negative-inner-product';
    if (store) {
      // Pass 1: float32 SIMD dot products, each with a proven error bound e. The k-th smallest upper
      // bound (distance + margin) caps the k-th canonical distance; a candidate whose lower bound
      // exceeds that cap cannot be among the k nearest (not even on a tie), so only the others get
      // their canonical distance (pass 2), and the result equals the one-pass re-ranking.
      const approx = store.dots(queries, qOff, cands, count);
      const lower = this.lower;
      upper.reset();
      for (let c = 0; c < count; c++) {
        const i = cands[c];
        const e = dotErrorBound(stride, dim, qNorm, norms[i]);
        const a = neg ? -approx[c] : combine(qNorm, norms[i], approx[c]);
        const m = neg ? e : 2 * e;
        lower[c] = a - m;
        upper.push(a + m, i);
      }
      const cap = upper.worst;
      // The survivors, compacted in place at the front of cands (their order kept).
      let refined = 0;
      for (let c = 0; c < count; c++) if (lower[c] <= cap) cands[refined++] = cands[c];
      pushCandidates(heap, queries, qOff, qNorm, values, base, stride, dim, norms, cands, refined, four, neg);
      stats.refined += refined;
    } else {
      pushCandidates(heap, queries, qOff, qNorm, values, base, stride, dim, norms, cands, count, four, neg);
    }
    const k = out.k;
    const got = heap.drainSorted(out.indices, out.distances, row * k);
    for (let s = got; s < k; s++) {
      out.indices[row * k + s] = -1;
      out.distances[row * k + s] = Infinity;
    }
  }
}

/**
 * A DkNN index factory for {@link LshIndex} (`name` 'lsh'): one index per layer, each resolving
 * k / lastCpDim for its own dimension (e.g. from `hashBits` in {@link PAPER_PRESET}). `describe()`
 * gives the parameters and query settings; `DkNN.info()` also reports each layer's resolved ones.
 * @throws RangeError for bad parameters or query settings (checked now).
 */
export function lshIndexFactory(
  params: LshParameters,
  options: Pick<LshIndexOptions, 'numProbes' | 'maxCandidates' | 'kernel' | 'buildThreads' | 'tune'> = {},
): NeighborIndexFactory {
  const p = Object.freeze({ ...params });
  const q = { ...options };
  new LshIndex(p, q); // checks everything now
  return {
    name: 'lsh',
    create: () => new LshIndex(p, q),
    describe: () => ({
      name: 'lsh', parameters: { ...p }, numProbes: q.numProbes ?? p.l, maxCandidates: q.maxCandidates ?? null, kernel: q.kernel ?? 'auto',
      ...(q.numProbes === 'auto' ? { tune: resolveTuneOptions(q.tune, p.l) } : {}),
    }), // prettier-ignore
  };
}
