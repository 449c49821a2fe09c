/**
 * The query object of a built LSH index (FALCONN's `LSHNearestNeighborQuery`): probing settings,
 * candidate gathering, exact re-ranking (one pass in JavaScript or two passes with the WebAssembly
 * dot-product kernel) and statistics. See the module comment of `lsh.ts`.
 */
import { checkK, checkQueries } from '../checks';
import { dotErrorBound, type WasmRowStore } from '../../native/dot-wasm';
import { combine, pushCandidates, rowSquaredNorms } from '../kernel';
import type { ResolvedLshParameters } from './params';
import type { ProbeSequence } from './probes';
import type { Tables } from './tables';
import { TopK } from '../topk';
import type { KnnResult, QueryOptions } from '../types';
import type { HashFunctions } from './family';

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
  /** Missing neighbor slots (index −1), all queries. */
  missingNeighbors: number;
  /**
   * Two-pass re-ranking only: candidates whose canonical distance was computed because the float32
   * first pass could not rule them out, all queries (≥ k per query with k or more candidates).
   */
  refined: number;
  /** Seconds spent hashing the queries (rotations, probing sequence), looking up buckets, re-ranking. */
  seconds: { hash: number; lookup: number; rerank: number; total: number };
}

export function emptyStats(): LshQueryStats {
  return {
    queries: 0,
    probes: 0,
    candidates: 0,
    uniqueCandidates: 0,
    averageCandidates: 0,
    averageUniqueCandidates: 0,
    queriesShortOfK: 0,
    missingNeighbors: 0,
    refined: 0,
    seconds: { hash: 0, lookup: 0, rerank: 0, total: 0 },
  };
}

export function checkQueryOptions(o: { numProbes?: number | 'auto'; maxCandidates?: number }, l: number | null): void {
  if (o.numProbes !== undefined && o.numProbes !== 'auto') {
    if (!Number.isSafeInteger(o.numProbes) || o.numProbes < 1)
      throw new RangeError(`numProbes must be a positive integer, found ${o.numProbes}`);
    if (l !== null && o.numProbes < l)
      throw new RangeError(
        `numProbes must be at least the number of tables l = ${l} (one bucket per table), found ${o.numProbes}`,
      );
  }
  if (
    o.maxCandidates !== undefined &&
    o.maxCandidates !== Infinity &&
    (!Number.isSafeInteger(o.maxCandidates) || o.maxCandidates < 1)
  ) {
    throw new RangeError(
      `maxCandidates must be a positive integer (or Infinity for no limit), found ${o.maxCandidates}`,
    );
  }
}

/** What an index built (shared by its query objects). */
export interface Built {
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
  async query(queries: Float32Array, options: QueryOptions): Promise<KnnResult> {
    const { rows, k } = options;
    const b = this.b;
    const { params, hashes, n } = b;
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
    if (multiprobe && !this.sequence) this.sequence = hashes.probes();
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
        if (multiprobe) this.probesByTable(tvs[lane], mainKeys, probeKeys);
        else
          for (let tb = 0; tb < l; tb++) {
            probeKeys[tb].length = 0;
            probeKeys[tb].push(keys[tb * lanes + lane]);
          }
        const t1 = performance.now();
        stats.seconds.hash += (t1 - t) / 1000;
        const { unique, taken } = this.candidates(probeKeys, stats);
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

  /** The probes of one query (its transformed vector `tv`), grouped by table in probing order (FALCONN's get_probes_by_table). */
  private probesByTable(tv: Float64Array, mainKeys: Float64Array, probeKeys: number[][]): void {
    for (const pk of probeKeys) pk.length = 0;
    const seq = this.sequence!;
    this.b.hashes.keysFromTransformed(tv, mainKeys);
    seq.setup(tv, mainKeys, this.probesN);
    while (seq.next()) probeKeys[seq.probeTable].push(seq.probeKey);
  }

  /** The candidates of the probes into `cands`, table by table, de-duplicated (FALCONN's get_unique_candidates). */
  private candidates(probeKeys: number[][], stats: LshQueryStats): { unique: number; taken: number } {
    const { tables } = this.b;
    const stamp = ++this.stamp;
    const seen = this.seen;
    const cands = this.cands;
    const ids = tables.ids;
    let unique = 0;
    let taken = 0;
    const limit = this.maxCand;
    outer: for (let tb = 0; tb < probeKeys.length; tb++) {
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
    return { unique, taken };
  }

  /** Re-ranks cands[0 … count) exactly into row `row` of `out`; fills missing slots with −1 / Infinity. */
  private rerank(
    queries: Float32Array,
    row: number,
    qNorm: number,
    count: number,
    heap: TopK,
    upper: TopK,
    four: Float64Array,
    out: KnnResult,
    stats: LshQueryStats,
  ): void {
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
