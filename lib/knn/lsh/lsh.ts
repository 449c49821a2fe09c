/**
 * Locality-sensitive-hashing k-nearest-neighbor index, faithful to FALCONN (the library the
 * reference DkNN uses): the same hash families, bucket keys, probing sequence and re-ranking.
 *
 * ```ts
 * const index = new LshIndex(PAPER_PRESET);            // cross-polytope, l = 200, 17 bits, 2 rotations
 * await index.build(train, { rows: 60000, dim: 3200 });               // hashes every point into l tables
 * const r = await index.query(queries, { rows: 1000, k: 75 });      // one bucket per table (numProbes = l)
 * const q = index.createQuery({ numProbes: 2000 });    // FALCONN's query object: multiprobe
 * const r2 = await q.query(queries, { rows: 1000, k: 75 }); q.lastQueryStats;
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
 * Files: the hash families (`lsh-hash.ts`, `lsh-cross-polytope.ts`, `lsh-hyperplane.ts`, with
 * `lsh-probes.ts`), the tables (`lsh-tables.ts`), the parallel build (`lsh-build.ts`), the query
 * object (`lsh-query.ts`) and the probe tuning (`lsh-tune.ts`); this file holds the index.
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
 * reach of the k-th (`dotErrorBound`): the same neighbors and distances as the one-pass
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

import { NotFittedError } from '../../util/errors';
import { checkMatrix } from '../../util/checks';
import { checkQueries } from '../checks';
import { dotWasmUnavailable, WasmRowStore } from '../../native/dot-wasm';
import { rowSquaredNorms } from '../kernel';
import { WASM_MAX_BYTES } from '../../native/wasm-kernel';
import { buildThreadCount, hashWithWorkers } from './build';
import { createHashFunctions, hashRows } from './hash';
import { checkLshParameters, resolveLshParameters, type LshParameters, type ResolvedLshParameters } from './params';
import { checkQueryOptions, emptyStats, LshQuery, type Built, type LshQueryOptions, type LshQueryStats } from './query';
import { Tables } from './tables';
import type { KnnResult, MatrixShape, NeighborIndex, NeighborIndexFactory, QueryOptions } from '../types';
import { resolveTuneOptions, tuneNumProbes, type LshTuneOptions, type LshTuning } from './tune';
import type { HashFunctions } from './family';

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
    else if (options.tune !== undefined)
      throw new RangeError(
        `tune applies to numProbes 'auto' only, found numProbes ${String(options.numProbes ?? 'default (l)')}`,
      );
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
      ...(this.tuning
        ? {
            tuning: {
              targetRecall: this.tuning.targetRecall,
              recall: this.tuning.recall,
              lowerBound: this.tuning.lowerBound,
              reached: this.tuning.reached,
              k: this.tuning.k,
              sample: this.tuning.sample,
            },
          }
        : {}),
      maxCandidates: this.options.maxCandidates ?? null,
      kernel: this.kernel ?? this.options.kernel,
      rerank: this.rerankKernel ?? this.options.kernel,
    };
  }

  async build(data: Float32Array, shape: MatrixShape): Promise<void> {
    const { rows, dim } = shape;
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
    const rowsAt = store
      ? { values: store.values, base: store.base, stride: store.stride }
      : { values: data, base: 0, stride: dim };
    this.built = { params, ...rowsAt, store, norms, n: rows, hashes, tables };
    this.defaultQuery = null;
    this.lastQuery = null;
    this.tuning = null;
    if (this.options.numProbes === 'auto') this.tuning = await tuneNumProbes(this, data, this.options.tune);
    const t4 = performance.now();
    this.buildSeconds = {
      hash: (t1 - t0) / 1000,
      tables: (t2 - t1) / 1000,
      copy: (t3 - t2) / 1000,
      tune: (t4 - t3) / 1000,
      total: (t4 - t0) / 1000,
    };
  }

  /** The rows for two-pass re-ranking, or null to re-rank in JavaScript (see the module comment). */
  private makeStore(data: Float32Array, rows: number, dim: number): WasmRowStore | null {
    const want = this.options.kernel ?? 'auto';
    if (want === 'js') return null;
    const why =
      dotWasmUnavailable() ??
      (WasmRowStore.bytesFor(rows, dim) > WASM_MAX_BYTES
        ? `${rows} rows × ${dim} values exceed a WebAssembly memory (4 GiB)`
        : null);
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
    const seq = hashes.probes();
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
    if (!this.built) throw new NotFittedError('query');
    return this.built;
  }

  /**
   * A new query object (FALCONN's `construct_query_object`) with its own settings and statistics.
   * @throws Error before build; RangeError for numProbes < l or a bad maxCandidates.
   */
  createQuery(options: LshQueryOptions = {}): LshQuery {
    if (!this.built) throw new NotFittedError('query');
    return new LshQuery(this.built, {
      numProbes: options.numProbes ?? this.numProbes,
      maxCandidates: options.maxCandidates ?? this.options.maxCandidates,
    });
  }

  /**
   * The k nearest candidates of each query (see the module comment), with the index's query
   * settings, or those given here. Statistics: {@link lastQueryStats}.
   */
  async query(queries: Float32Array, options: QueryOptions & LshQueryOptions): Promise<KnnResult> {
    if (!this.built) throw new NotFittedError('query');
    // Per-call settings get a query object of their own; the index's settings keep theirs.
    const q =
      options.numProbes !== undefined || options.maxCandidates !== undefined
        ? this.createQuery(options)
        : (this.defaultQuery ??= this.createQuery());
    this.lastQuery = q;
    return q.query(queries, options);
  }
}

/** Options of {@link lshIndexFactory}: the LSH parameters and the query settings. */
export interface LshIndexFactoryOptions extends Pick<
  LshIndexOptions,
  'numProbes' | 'maxCandidates' | 'kernel' | 'buildThreads' | 'tune'
> {
  /** Hash family, tables, bits, … (e.g. {@link PAPER_PRESET} or {@link AUTO_PRESET}). */
  parameters: LshParameters;
}

/**
 * A DkNN index factory for {@link LshIndex} (`name` 'lsh'): one index per layer, each resolving
 * k / lastCpDim for its own dimension (e.g. from `hashBits` in {@link PAPER_PRESET}). `describe()`
 * gives the parameters and query settings; `DkNN.info()` also reports each layer's resolved ones.
 * @throws RangeError for bad parameters or query settings (checked now).
 */
export function lshIndexFactory(options: LshIndexFactoryOptions): NeighborIndexFactory {
  const { parameters, ...query } = options;
  const p = Object.freeze({ ...parameters });
  const q = { ...query };
  new LshIndex(p, q); // checks everything now
  return {
    name: 'lsh',
    create: () => new LshIndex(p, q),
    describe: () => ({
      name: 'lsh',
      parameters: { ...p },
      numProbes: q.numProbes ?? p.l,
      maxCandidates: q.maxCandidates ?? null,
      kernel: q.kernel ?? 'auto',
      ...(q.numProbes === 'auto' ? { tune: resolveTuneOptions(q.tune, p.l) } : {}),
    }),
  };
}
