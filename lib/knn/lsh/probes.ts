/**
 * Multiprobe machinery shared by the LSH hash families (FALCONN's MultiProbeLookup): the probe
 * sequence contract each family implements, and the deterministic min-heap they rank probes with.
 */

/** Yields probes (table, key) in order; `keys` are the main buckets of the query. */
export interface ProbeSequence {
  /** Prepares the sequence of one query from its transformed vector and main keys. */
  setup(tv: Float64Array, mainKeys: Float64Array, numProbes: number): void;
  /** Next probe into `probeTable`/`probeKey`; false when the sequence is exhausted. */
  next(): boolean;
  probeTable: number;
  probeKey: number;
}

/** Min-heap of probe candidates by score; ties pop in insertion order (deterministic). */
export class ProbeHeap {
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
    const g64 = (x: Float64Array) => {
      const y = new Float64Array(cap);
      y.set(x);
      return y;
    };
    const g32 = (x: Int32Array) => {
      const y = new Int32Array(cap);
      y.set(x);
      return y;
    };
    this.score = g64(this.score);
    this.seq = g64(this.seq);
    this.hash = g64(this.hash);
    this.table = g32(this.table);
    this.a = g32(this.a);
    this.b = g32(this.b);
  }

  private swap(i: number, j: number): void {
    let t = this.score[i];
    this.score[i] = this.score[j];
    this.score[j] = t;
    t = this.seq[i];
    this.seq[i] = this.seq[j];
    this.seq[j] = t;
    t = this.hash[i];
    this.hash[i] = this.hash[j];
    this.hash[j] = t;
    t = this.table[i];
    this.table[i] = this.table[j];
    this.table[j] = t;
    t = this.a[i];
    this.a[i] = this.a[j];
    this.a[j] = t;
    t = this.b[i];
    this.b[i] = this.b[j];
    this.b[j] = t;
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
