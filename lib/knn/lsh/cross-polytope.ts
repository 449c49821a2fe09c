/**
 * The cross-polytope hash family (Andoni et al. 2015, FALCONN's default; see the module comment
 * of `lsh.ts`): pseudo-random rotations (±1 diagonal + fast Hadamard transform) in JavaScript or a
 * WebAssembly SIMD kernel (same float32 values), the bucket keys, and FALCONN's multiprobe order.
 */
import { fhtUnchecked } from './fht';
import { log2Ceil, type ResolvedLshParameters } from './params';
import { ProbeHeap, type ProbeSequence } from './probes';
import { instantiateCrossPolytopeWasm, type CrossPolytopeWasm } from '../../native/lsh-wasm';
import { TopK } from '../topk';
import { createRng } from '../../util/random';
import type { HashFunctions } from './family';

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
export function crossPolytopeSigns(p: ResolvedLshParameters): Float32Array {
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
export abstract class CrossPolytopeBase implements HashFunctions {
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

  probes(): ProbeSequence {
    return new CrossPolytopeProbes(this.p, this.segOffset, this.mult);
  }

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
export class CrossPolytopeJs extends CrossPolytopeBase {
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
      for (let c = 0; c < k; c++)
        key = key * this.mult[c] + decodeCp(this.rotate(t, c), 0, c === k - 1 ? lastCpDim : d);
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
export class CrossPolytopeWasmKernel extends CrossPolytopeBase {
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
      let k0 = 0,
        k1 = 0,
        k2 = 0,
        k3 = 0;
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
