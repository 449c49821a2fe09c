/**
 * The hyperplane hash family (Charikar 2002): k random unit Gaussian hyperplanes per table,
 * bit = (x·h ≥ 0), the first hyperplane in the highest bit; multiprobe flips the bits with the
 * smallest |margin|² first (FALCONN's HyperplaneHashBase::MultiProbeLookup).
 */
import { dot, dotFour } from '../kernel';
import type { ResolvedLshParameters } from './params';
import { ProbeHeap, type ProbeSequence } from './probes';
import { createRng } from '../../util/random';
import type { HashFunctions } from './family';

/** Hyperplane hash: k unit-norm Gaussian hyperplanes per table, bit = (x·h ≥ 0), first hyperplane highest. */
export class HyperplaneHash implements HashFunctions {
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

  probes(): ProbeSequence {
    return new HyperplaneProbes(this.p);
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
