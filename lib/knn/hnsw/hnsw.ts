/**
 * HNSW (hierarchical navigable small-world graph, Malkov & Yashunin 2018) k-nearest-neighbor index
 * on hnswlib, through the native npm package `hnswlib-node` (hnswlib's C++ source, built by node-gyp
 * when the package installs). The graph search finds `max(efSearch, k)` candidates; the k it
 * returns are re-ranked with the canonical distance of `kernel.ts`, so distances (and tie order,
 * lower index first) are those of ExactIndex.
 *
 * ```ts
 * const index = new HnswIndex({ m: 16, efConstruction: 200, efSearch: 128, seed: 100 });
 * await index.build(train, { rows: 60000, dim: 3200 });      // single-threaded insertion, deterministic for a seed
 * const r = await index.query(queries, { rows: 1000, k: 75 });
 * ```
 *
 * Memory: hnswlib keeps its own float32 copy of the data plus the graph (≈ n·(dim·4 + M·8) bytes),
 * on top of the array passed to `build` (kept for re-ranking).
 *
 * hnswlib-node is loaded lazily; without it `build` fails with the loader's reason
 * ({@link hnswUnavailable} says why).
 */

import { NotFittedError } from '../../util/errors';
import { checkMatrix } from '../../util/checks';
import { checkK, checkQueries } from '../checks';
import { combine, dot, rowSquaredNorms } from '../kernel';
import { TopK } from '../topk';
import type { KnnResult, MatrixShape, NeighborIndex, NeighborIndexFactory, QueryOptions } from '../types';

/** Parameters of {@link HnswIndex} (hnswlib's names). */
export interface HnswParameters {
  /** Links per node and layer (hnswlib `M`; layer 0 keeps 2·M). Default 16. */
  m?: number;
  /** Candidate list size while inserting (hnswlib `ef_construction`). Default 200 (hnswlib's). */
  efConstruction?: number;
  /** Candidate list size while searching (hnswlib `ef`; max(efSearch, k) is used). Default 128. */
  efSearch?: number;
  /** Seed of the level assignment (hnswlib `random_seed`). Default 100 (hnswlib's). */
  seed?: number;
}

/** Options of {@link HnswIndex}. */
export interface HnswIndexOptions {
  /** Called while `build` inserts the points (done, total), at most every 50 ms and at the end. */
  onBuildProgress?: (done: number, total: number) => void;
}

/** Statistics of the last `query` call. */
export interface HnswQueryStats {
  queries: number;
  /** Queries for which hnswlib returned fewer than k neighbors (their last slots are −1). */
  queriesShortOfK: number;
  /** Missing neighbor slots (index −1). */
  missingNeighbors: number;
  /** Seconds in the graph search and in the exact re-ranking. */
  seconds: { search: number; rerank: number; total: number };
}

interface HnswLib {
  HierarchicalNSW: new (space: 'l2' | 'ip' | 'cosine', dim: number) => HnswNative;
}

interface HnswNative {
  initIndex(opts: { maxElements: number; m?: number; efConstruction?: number; randomSeed?: number }): void;
  addPoint(point: number[], label: number): void;
  searchKnn(point: number[], k: number): { distances: number[]; neighbors: number[] };
  setEf(ef: number): void;
  getCurrentCount(): number;
}

let lib: HnswLib | null = null;
let loadError: string | null = null;

function loadHnswlib(): HnswLib | null {
  if (lib || loadError) return lib;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lib = require('hnswlib-node') as HnswLib;
  } catch (e) {
    loadError = (e as Error).message;
  }
  return lib;
}

/** Why hnswlib-node cannot be used here, or null when it loads. */
export function hnswUnavailable(): string | null {
  loadHnswlib();
  return loadError;
}

/** The defaults of {@link HnswParameters}. */
export const HNSW_DEFAULTS: Readonly<Required<HnswParameters>> = Object.freeze({
  m: 16,
  efConstruction: 200,
  efSearch: 128,
  seed: 100,
});

function resolveHnswParameters(p: HnswParameters): Required<HnswParameters> {
  if (typeof p !== 'object' || p === null)
    throw new TypeError(`HNSW parameters must be an object, found ${p === null ? 'null' : typeof p}`);
  const r = { ...HNSW_DEFAULTS, ...p };
  for (const key of ['m', 'efConstruction', 'efSearch'] as const) {
    const v = r[key];
    if (!Number.isSafeInteger(v) || v < 1)
      throw new RangeError(`HNSW parameters: ${key} must be a positive integer, found ${String(v)}`);
  }
  if (r.m < 2) throw new RangeError(`HNSW parameters: m must be at least 2, found ${r.m}`);
  if (!Number.isSafeInteger(r.seed) || r.seed < 0)
    throw new RangeError(`HNSW parameters: seed must be a non-negative integer, found ${String(r.seed)}`);
  return r;
}

/** HNSW {@link NeighborIndex} on hnswlib-node; see the module comment. */
export class HnswIndex implements NeighborIndex {
  /** The parameters with defaults filled in. */
  readonly parameters: Readonly<Required<HnswParameters>>;
  private readonly options: HnswIndexOptions;
  private native: HnswNative | null = null;
  private data: Float32Array | null = null;
  private norms = new Float64Array(0);
  private rowsN = 0;
  private dimN = 0;
  /** Seconds the last `build` took. */
  buildSeconds = 0;
  /** Statistics of the last `query` call. */
  lastQueryStats: HnswQueryStats = {
    queries: 0,
    queriesShortOfK: 0,
    missingNeighbors: 0,
    seconds: { search: 0, rerank: 0, total: 0 },
  };

  /** @throws RangeError naming a bad parameter, what was expected and what was found. */
  constructor(params: HnswParameters = {}, options: HnswIndexOptions = {}) {
    this.parameters = Object.freeze(resolveHnswParameters(params));
    this.options = options;
  }

  get size(): number {
    return this.rowsN;
  }

  get dim(): number {
    return this.dimN;
  }

  /** 'hnswlib' once built, else null (reported by `DkNN.info()`). */
  get backend(): string | null {
    return this.native ? 'hnswlib' : null;
  }

  /** The parameters as plain data (for reports and `DkNN.info()`). */
  describe(): Record<string, unknown> {
    return { name: 'hnsw', library: 'hnswlib-node', parameters: { ...this.parameters } };
  }

  async build(data: Float32Array, shape: MatrixShape): Promise<void> {
    const { rows, dim } = shape;
    checkMatrix('data', data, rows, dim);
    const norms = rowSquaredNorms(data, rows, dim, 'data');
    const h = loadHnswlib();
    if (!h) throw new Error(`HnswIndex needs the npm package hnswlib-node, which failed to load: ${loadError}`);
    const t0 = performance.now();
    const p = this.parameters;
    const index = new h.HierarchicalNSW('l2', dim);
    index.initIndex({ maxElements: rows, m: p.m, efConstruction: p.efConstruction, randomSeed: p.seed });
    let lastYield = performance.now();
    for (let i = 0; i < rows; i++) {
      index.addPoint(Array.from(data.subarray(i * dim, (i + 1) * dim)), i);
      if ((i & 63) === 63 && performance.now() - lastYield >= 50) {
        this.options.onBuildProgress?.(i + 1, rows);
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    this.options.onBuildProgress?.(rows, rows);
    this.native = index;
    this.data = data;
    this.norms = norms;
    this.rowsN = rows;
    this.dimN = dim;
    this.buildSeconds = (performance.now() - t0) / 1000;
  }

  async query(queries: Float32Array, options: QueryOptions): Promise<KnnResult> {
    const { rows, k } = options;
    if (!this.native || !this.data) throw new NotFittedError('query');
    const dim = this.dimN;
    checkQueries(queries, rows, dim);
    checkK(k, this.rowsN);
    const qNorms = rowSquaredNorms(queries, rows, dim, 'queries');
    const out: KnnResult = { indices: new Int32Array(rows * k), distances: new Float32Array(rows * k), rows, k };
    const stats: HnswQueryStats = {
      queries: rows,
      queriesShortOfK: 0,
      missingNeighbors: 0,
      seconds: { search: 0, rerank: 0, total: 0 },
    };
    const t0 = performance.now();
    this.native.setEf(Math.max(this.parameters.efSearch, k));
    const heap = new TopK(k);
    const data = this.data;
    let lastYield = performance.now();
    for (let r = 0; r < rows; r++) {
      const t = performance.now();
      const found = this.native.searchKnn(Array.from(queries.subarray(r * dim, (r + 1) * dim)), k).neighbors;
      const t1 = performance.now();
      stats.seconds.search += (t1 - t) / 1000;
      for (const i of found) heap.push(combine(qNorms[r], this.norms[i], dot(queries, r * dim, data, i * dim, dim)), i);
      const got = heap.drainSorted(out.indices, out.distances, r * k);
      for (let s = got; s < k; s++) {
        out.indices[r * k + s] = -1;
        out.distances[r * k + s] = Infinity;
      }
      if (got < k) {
        stats.queriesShortOfK++;
        stats.missingNeighbors += k - got;
      }
      stats.seconds.rerank += (performance.now() - t1) / 1000;
      if (performance.now() - lastYield >= 50) {
        if (r + 1 < rows) options.onProgress?.(r + 1, rows);
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    stats.seconds.total = (performance.now() - t0) / 1000;
    this.lastQueryStats = stats;
    options.onProgress?.(rows, rows);
    return out;
  }
}

/** Options of {@link hnswIndexFactory}: the graph's parameters and the index options. */
export interface HnswIndexFactoryOptions extends HnswIndexOptions {
  /** M, efConstruction, efSearch, seed (defaults {@link HNSW_DEFAULTS}). */
  parameters?: HnswParameters;
}

/**
 * A DkNN index factory for {@link HnswIndex} (`name` 'hnsw'; `describe()` gives the parameters).
 * @throws RangeError for bad parameters (checked now).
 */
export function hnswIndexFactory(options: HnswIndexFactoryOptions = {}): NeighborIndexFactory {
  const { parameters = {}, ...rest } = options;
  const resolved = resolveHnswParameters(parameters);
  return {
    name: 'hnsw',
    create: () => new HnswIndex(resolved, rest),
    describe: () => ({ name: 'hnsw', library: 'hnswlib-node', parameters: { ...resolved } }),
  };
}
