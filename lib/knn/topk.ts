/**
 * Bounded selection of the `capacity` smallest (distance, index) pairs: a max-heap whose root is the
 * worst pair kept. Pairs are ordered by distance, then by the lower index, so the result does not
 * depend on the order in which candidates arrive.
 */
export class TopK {
  /** Most pairs kept. */
  readonly capacity: number;
  /** Pairs kept so far (≤ capacity). */
  size = 0;
  /**
   * Admission bound: a candidate with a larger distance can never enter. `Infinity` until the heap
   * is full, then the largest distance kept (equal distances still enter when their index is lower).
   */
  worst = Infinity;
  private readonly dist: Float64Array;
  private readonly idx: Int32Array;

  /** @param capacity pairs to keep, ≥ 1. */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`TopK capacity must be a positive integer, found ${capacity}`);
    }
    this.capacity = capacity;
    this.dist = new Float64Array(capacity);
    this.idx = new Int32Array(capacity);
  }

  /** Empties the heap for reuse. */
  reset(): void {
    this.size = 0;
    this.worst = Infinity;
  }

  /** Offers a pair; it is kept when it ranks before the worst pair kept (or the heap is not full). */
  push(d: number, i: number): void {
    const dist = this.dist;
    const idx = this.idx;
    const cap = this.capacity;
    if (this.size < cap) {
      // Sift up from the new leaf.
      let c = this.size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (dist[p] > d || (dist[p] === d && idx[p] > i)) break;
        dist[c] = dist[p];
        idx[c] = idx[p];
        c = p;
      }
      dist[c] = d;
      idx[c] = i;
      if (this.size === cap) this.worst = dist[0];
      return;
    }
    if (d > dist[0] || (d === dist[0] && i > idx[0])) return;
    this.siftDownFromRoot(d, i, cap);
    this.worst = dist[0];
  }

  /**
   * Empties the heap into `outIdx`/`outDist` from `offset`, nearest first, and returns the count.
   * `outDist` may be a Float32Array (values rounded) or a Float64Array; it may be omitted.
   */
  drainSorted(outIdx: Int32Array, outDist: Float32Array | Float64Array | null, offset: number): number {
    const n = this.size;
    const dist = this.dist;
    const idx = this.idx;
    for (let end = n - 1; end >= 0; end--) {
      // The root is the worst pair left: it goes to the back.
      outIdx[offset + end] = idx[0];
      if (outDist) outDist[offset + end] = dist[0];
      const lastD = dist[end];
      const lastI = idx[end];
      this.size = end;
      if (end > 0) this.siftDownFromRoot(lastD, lastI, end);
    }
    this.reset();
    return n;
  }

  /** Places (d, i) at the root of a heap of `size` pairs and sifts it down. */
  private siftDownFromRoot(d: number, i: number, size: number): void {
    const dist = this.dist;
    const idx = this.idx;
    let p = 0;
    for (;;) {
      let c = 2 * p + 1;
      if (c >= size) break;
      const r = c + 1;
      // Pick the worse child: larger distance, or equal distance with the larger index.
      if (r < size && (dist[r] > dist[c] || (dist[r] === dist[c] && idx[r] > idx[c]))) c = r;
      if (dist[c] < d || (dist[c] === d && idx[c] < i)) break;
      dist[p] = dist[c];
      idx[p] = idx[c];
      p = c;
    }
    dist[p] = d;
    idx[p] = i;
  }
}
