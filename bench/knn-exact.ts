/**
 * Exact kNN benchmark: plain-JS naive loop (baseline) vs the optimized JS backend vs the native
 * (onnxruntime GEMM) backend of ExactIndex, on synthetic Gaussian-cluster data preprocessed like the
 * DkNN layers (L2-normalized, centered).
 *
 *   npx tsx bench/knn-exact.ts
 *   DKNN_BENCH_N=20000 DKNN_BENCH_DIM=1024 npx tsx bench/knn-exact.ts     # smaller
 *
 * Environment overrides: DKNN_BENCH_N (database rows, default 60000), DKNN_BENCH_DIM (3200),
 * DKNN_BENCH_QUERIES (200), DKNN_BENCH_K (75), DKNN_BENCH_JS_QUERIES (100), DKNN_BENCH_NAIVE_QUERIES (8),
 * DKNN_BENCH_THREADS (native GEMM threads, default all cores).
 * Times are seconds per 1,000 queries, scaled from the queries each method ran.
 */

import { gaussianClusters } from '../lib/data/synthetic';
import { availableParallelism, loadavg } from 'node:os';
import { ExactIndex } from '../lib/knn/exact/exact';
import { dot } from '../lib/knn/kernel';
import { gemmRunner } from '../lib/native/onnx-gemm';
import { Preprocessor } from '../lib/knn/preprocess';

/** Options of {@link benchExact}; every field has the default shown. */
export interface BenchExactOptions {
  /** Database rows. Default 60000. */
  n?: number;
  /** Values per row. Default 3200 (ReLU3 of the MNIST CNN). */
  dim?: number;
  /** Queries for the native backend. Default 200. */
  queries?: number;
  /** Neighbors per query. Default 75. */
  k?: number;
  /** Queries timed on the optimized JS backend (a prefix of the queries). Default 100. */
  jsQueries?: number;
  /** Queries timed on the naive loop (a prefix). Default 8. */
  naiveQueries?: number;
  /** Native GEMM threads. Default `os.availableParallelism()`. */
  threads?: number;
  /** Gaussian clusters in the synthetic data. Default 100. */
  clusters?: number;
  /** Seed of the synthetic data. Default 1. */
  seed?: number;
}

/** One timed method. */
export interface BenchExactRow {
  method: 'naive' | 'js' | 'native';
  /** Queries actually run. */
  queries: number;
  /** Wall seconds for those queries. */
  seconds: number;
  /** Seconds scaled to 1,000 queries. */
  secondsPer1000: number;
  /** Speed-up over the naive loop (naive seconds per 1000 / this method's). */
  speedup: number;
}

/** Result of {@link benchExact}. */
export interface BenchExactResult {
  n: number;
  dim: number;
  k: number;
  threads: number;
  /** 1-minute load average when the run started (other work on the machine slows every method). */
  loadAverage: number;
  /** Rows timed; `native` is absent when onnxruntime-node is unavailable. */
  rows: BenchExactRow[];
  /** Seconds to generate and to preprocess (normalize + center) the database. */
  generateSeconds: number;
  preprocessSeconds: number;
  /** The js and native neighbor lists agree exactly on the js queries (null without native). */
  jsNativeIdentical: boolean | null;
  /** Fraction of the naive baseline's neighbors (as sets) that the js backend returned. */
  naiveAgreement: number;
  /** Native queries searched again because of near-ties at the k-th neighbor. */
  nativeResearched: number;
  /**
   * Largest |float32 GEMM q·x − float64 q·x| / (‖q‖·‖x‖) seen on 8 queries × 2,000 rows (null
   * without native); ExactIndex assumes at most `gemmTolerance` (default ≥ 1e-5).
   */
  gemmMaxRelError: number | null;
  /** Why the native backend was not run, if it was not. */
  nativeUnavailable: string | null;
}

/** The plain-JS baseline: Σ(q − x)² for every pair, then a full sort. */
export function naiveKnn(
  data: Float32Array,
  n: number,
  dim: number,
  queries: Float32Array,
  rows: number,
  k: number,
): Int32Array {
  const out = new Int32Array(rows * k);
  const dist = new Float64Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const t = queries[r * dim + j] - data[i * dim + j];
        s += t * t;
      }
      dist[i] = s;
    }
    order.sort((a, b) => dist[a] - dist[b] || a - b);
    for (let t = 0; t < k; t++) out[r * k + t] = order[t];
  }
  return out;
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : Number.parseInt(v, 10);
}

/** Runs the benchmark and returns the numbers (prints nothing). */
export async function benchExact(opts: BenchExactOptions = {}): Promise<BenchExactResult> {
  const n = opts.n ?? 60000;
  const dim = opts.dim ?? 3200;
  const k = opts.k ?? 75;
  const nq = opts.queries ?? 200;
  const jsQ = Math.min(opts.jsQueries ?? 100, nq);
  const naiveQ = Math.min(opts.naiveQueries ?? 8, jsQ);
  const threads = opts.threads ?? availableParallelism();
  const clusters = opts.clusters ?? 100;
  const seed = opts.seed ?? 1;
  const loadAverage = loadavg()[0];

  let t = performance.now();
  // ReLU-clipped clusters (center ~ N(0, 1), spread 0.5), like hidden-layer activations.
  const { x: data, centers } = gaussianClusters({ rows: n, dim, clusters, seed, relu: true });
  const { x: queries } = gaussianClusters({ rows: nq, dim, clusters, seed: seed + 1, relu: true, centers });
  const generateSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const pre = new Preprocessor();
  pre.fitTransform(data, { rows: n, dim });
  pre.transform(queries, nq);
  const preprocessSeconds = (performance.now() - t) / 1000;

  const rows: BenchExactRow[] = [];
  const time = async <T>(f: () => Promise<T> | T): Promise<[T, number]> => {
    const t0 = performance.now();
    const v = await f();
    return [v, (performance.now() - t0) / 1000];
  };

  const [naive, naiveSec] = await time(() => naiveKnn(data, n, dim, queries, naiveQ, k));
  const naivePer1000 = (naiveSec / naiveQ) * 1000;
  rows.push({ method: 'naive', queries: naiveQ, seconds: naiveSec, secondsPer1000: naivePer1000, speedup: 1 });

  const js = new ExactIndex({ backend: 'js' });
  await js.build(data, { rows: n, dim });
  const jsQueries = queries.subarray(0, jsQ * dim);
  const [jsRes, jsSec] = await time(() => js.query(jsQueries, { rows: jsQ, k }));
  rows.push({
    method: 'js',
    queries: jsQ,
    seconds: jsSec,
    secondsPer1000: (jsSec / jsQ) * 1000,
    speedup: naivePer1000 / ((jsSec / jsQ) * 1000),
  });

  let agree = 0;
  for (let r = 0; r < naiveQ; r++) {
    const s = new Set(naive.subarray(r * k, (r + 1) * k));
    for (let t2 = 0; t2 < k; t2++) if (s.has(jsRes.indices[r * k + t2])) agree++;
  }

  let jsNativeIdentical: boolean | null = null;
  let nativeResearched = 0;
  let gemmMaxRelError: number | null = null;
  const native = new ExactIndex({ backend: 'auto', threads });
  await native.build(data, { rows: n, dim });
  if (native.backend === 'native') {
    // Warm-up call (thread pool, arena), not timed.
    await native.query(queries.subarray(0, dim), { rows: 1, k });
    const [natRes, natSec] = await time(() => native.query(queries, { rows: nq, k }));
    nativeResearched = native.lastQueryStats.researched;
    rows.push({
      method: 'native',
      queries: nq,
      seconds: natSec,
      secondsPer1000: (natSec / nq) * 1000,
      speedup: naivePer1000 / ((natSec / nq) * 1000),
    });
    jsNativeIdentical = true;
    for (let i = 0; i < jsQ * k; i++) {
      if (jsRes.indices[i] !== natRes.indices[i] || jsRes.distances[i] !== natRes.distances[i])
        jsNativeIdentical = false;
    }
    const sq = Math.min(8, nq);
    const sn = Math.min(2000, n);
    const g = await (
      await gemmRunner(threads)
    ).abt(queries.subarray(0, sq * dim), sq, data.subarray(0, sn * dim), sn, dim);
    gemmMaxRelError = 0;
    for (let a = 0; a < sq; a++) {
      const qn = Math.sqrt(dot(queries, a * dim, queries, a * dim, dim));
      for (let i = 0; i < sn; i++) {
        const exact = dot(queries, a * dim, data, i * dim, dim);
        const scale = qn * Math.sqrt(dot(data, i * dim, data, i * dim, dim));
        if (scale > 0) gemmMaxRelError = Math.max(gemmMaxRelError, Math.abs(g[a * sn + i] - exact) / scale);
      }
    }
  }
  return {
    n,
    dim,
    k,
    threads,
    loadAverage,
    rows,
    generateSeconds,
    preprocessSeconds,
    jsNativeIdentical,
    naiveAgreement: agree / (naiveQ * k),
    nativeResearched,
    gemmMaxRelError,
    nativeUnavailable: native.nativeUnavailableReason,
  };
}

async function main(): Promise<void> {
  const r = await benchExact({
    n: envInt('DKNN_BENCH_N'),
    dim: envInt('DKNN_BENCH_DIM'),
    queries: envInt('DKNN_BENCH_QUERIES'),
    k: envInt('DKNN_BENCH_K'),
    jsQueries: envInt('DKNN_BENCH_JS_QUERIES'),
    naiveQueries: envInt('DKNN_BENCH_NAIVE_QUERIES'),
    threads: envInt('DKNN_BENCH_THREADS'),
  });
  console.log(
    `exact kNN: database ${r.n} × ${r.dim}, k = ${r.k}, native threads ${r.threads}, load average ${r.loadAverage.toFixed(1)} at start`,
  );
  console.log(
    `generate ${r.generateSeconds.toFixed(1)} s, preprocess (normalize + center) ${r.preprocessSeconds.toFixed(2)} s`,
  );
  console.log('method   queries   seconds   s / 1000 queries   speed-up vs naive');
  for (const row of r.rows) {
    console.log(
      `${row.method.padEnd(8)} ${String(row.queries).padStart(7)} ${row.seconds.toFixed(2).padStart(9)} ${row.secondsPer1000.toFixed(2).padStart(18)} ${row.speedup.toFixed(1).padStart(18)}×`,
    );
  }
  if (r.nativeUnavailable) console.log(`native backend unavailable: ${r.nativeUnavailable}`);
  console.log(`js = naive neighbor sets: ${(100 * r.naiveAgreement).toFixed(2)} %`);
  if (r.jsNativeIdentical !== null) {
    console.log(
      `js and native lists identical: ${r.jsNativeIdentical}; native queries re-searched for near-ties: ${r.nativeResearched}`,
    );
    console.log(`float32 GEMM max error relative to ‖q‖·‖x‖: ${r.gemmMaxRelError?.toExponential(1)}`);
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
