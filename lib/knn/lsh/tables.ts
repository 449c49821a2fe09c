/**
 * The l bucket tables of an LSH index: per table, the point ids sorted by bucket key (stable:
 * ascending ids within a bucket) in one Int32Array, plus either the distinct keys (sorted, binary
 * search) or a dense offsets array (`storageHashTable: 'flat'`).
 */

/** The l bucket tables: ids sorted by key per table, plus the bucket directory. */
export class Tables {
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
