/**
 * Automatic choice of the number of probes of an LSH index (FALCONN's advice, "raise the number of
 * probes until the recall is good enough", automated): recall@k is measured on a seeded sample of
 * the index's own points against exact search, each point's own entry left out (it is trivially its
 * own nearest neighbor), and the smallest numProbes meeting the target is found by doubling from
 * l, then bisecting. Recall never drops as numProbes grows (more probes visit a superset of
 * buckets, and the re-ranking is exact), so the search is sound.
 *
 * "Meeting the target" means that the one-sided 95 % lower confidence bound of the mean recall
 * (mean − 1.645·sd/√m over the m sample queries' recalls) reaches it, so that the recall of new
 * queries from the same distribution reaches it too: on the MNIST ReLU1 layer the plain sample
 * mean at 0.99 gave 0.9898 on the test queries.
 *
 * {@link tuneNumProbes} does this for a built index through its public API (query objects with
 * other numbers of probes), so it works on any index that offers them.
 */
import { ExactIndex } from '../exact/exact';
import type { KnnResult } from '../types';
import type { ResolvedLshParameters } from './params';
import { createRng } from '../../util/random';

/** Settings of the probe tuning (`LshIndexOptions.tune`). */
export interface LshTuneOptions {
  /** Recall@k to reach on the sample. Default 0.99. */
  recall?: number;
  /** Neighbors per query the recall is measured at. Default 75 (the DkNN's k). */
  k?: number;
  /** Points of the index used as queries (seeded sample). Default 200. */
  sample?: number;
  /** Most probes tried. Default 1,024·l. */
  maxProbes?: number;
}

/** One measured point of the tuning. */
export interface LshTunePoint {
  numProbes: number;
  /** Mean recall@k of the sample queries. */
  recall: number;
  /** One-sided 95 % lower confidence bound of the mean (see the module comment). */
  lowerBound: number;
  seconds: number;
}

/** What the tuning chose and measured. */
export interface LshTuning {
  /** The probes chosen: the smallest tried that meets the target (maxProbes when none did). */
  numProbes: number;
  /** Sample mean recall at {@link numProbes}. */
  recall: number;
  /** Its one-sided 95 % lower confidence bound (≥ targetRecall when reached). */
  lowerBound: number;
  /** Whether the target was met. */
  reached: boolean;
  targetRecall: number;
  k: number;
  sample: number;
  /** Every evaluation, in the order made. */
  curve: LshTunePoint[];
  /** Seconds in all (exact ground truth included). */
  seconds: number;
}

/** Checks the tuning options; returns them with defaults filled in for an index of l tables. */
export function resolveTuneOptions(o: LshTuneOptions | undefined, l: number): Required<LshTuneOptions> {
  const r = { recall: 0.99, k: 75, sample: 200, maxProbes: 1024 * l, ...o };
  if (!(typeof r.recall === 'number' && r.recall > 0 && r.recall <= 1))
    throw new RangeError(`tune.recall must be in (0, 1], found ${String(r.recall)}`);
  for (const f of ['k', 'sample', 'maxProbes'] as const) {
    if (!Number.isSafeInteger(r[f]) || r[f] < 1)
      throw new RangeError(`tune.${f} must be a positive integer, found ${String(r[f])}`);
  }
  if (r.maxProbes < l) throw new RangeError(`tune.maxProbes must be at least l = ${l}, found ${r.maxProbes}`);
  return r;
}

/** Mean of `values` and its one-sided 95 % lower confidence bound, mean − 1.645·sd/√n (n ≥ 1). */
export function meanLowerBound(values: ArrayLike<number>): { mean: number; lowerBound: number } {
  const n = values.length;
  if (n === 0) throw new RangeError('meanLowerBound: expected at least one value, found none');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return { mean, lowerBound: mean - (1.645 * sd) / Math.sqrt(n) };
}

/**
 * The smallest numProbes in [l, maxProbes] whose `evaluate` (per-query recalls, non-decreasing in
 * numProbes) has a lower confidence bound ({@link meanLowerBound}) reaching `target`: doubling from
 * l, then bisection down to a 5 % (or 1-probe) gap.
 */
export async function searchNumProbes(
  evaluate: (numProbes: number) => Promise<ArrayLike<number>>,
  l: number,
  target: number,
  maxProbes: number,
): Promise<{ numProbes: number; recall: number; lowerBound: number; reached: boolean; curve: LshTunePoint[] }> {
  const curve: LshTunePoint[] = [];
  const at = async (p: number): Promise<LshTunePoint> => {
    const t0 = performance.now();
    const { mean, lowerBound } = meanLowerBound(await evaluate(p));
    const point = { numProbes: p, recall: mean, lowerBound, seconds: (performance.now() - t0) / 1000 };
    curve.push(point);
    return point;
  };
  let lo: number | null = null;
  let best: LshTunePoint;
  for (let p = l; ; p = Math.min(maxProbes, 2 * p)) {
    const r = await at(p);
    if (r.lowerBound >= target) {
      best = r;
      break;
    }
    lo = p;
    if (p >= maxProbes) return { numProbes: p, recall: r.recall, lowerBound: r.lowerBound, reached: false, curve };
  }
  while (lo !== null && best.numProbes - lo > Math.max(1, Math.ceil(0.05 * best.numProbes))) {
    const r = await at(Math.floor((lo + best.numProbes) / 2));
    if (r.lowerBound >= target) best = r;
    else lo = r.numProbes;
  }
  return { numProbes: best.numProbes, recall: best.recall, lowerBound: best.lowerBound, reached: true, curve };
}

/**
 * Per-query recall@k of `found` against `truth` (both rows × (k+1) neighbor lists of sample points
 * `self[q]`), each list first stripped of the point itself (or, if absent, of its last entry).
 */
export function recallWithoutSelf(truth: Int32Array, found: Int32Array, self: Int32Array, k: number): Float64Array {
  const rows = self.length;
  const w = k + 1;
  const out = new Float64Array(rows);
  const want = new Set<number>();
  const strip = (a: Int32Array, q: number): number[] => {
    const row = Array.from(a.subarray(q * w, (q + 1) * w));
    const at = row.indexOf(self[q]);
    row.splice(at >= 0 ? at : w - 1, 1);
    return row;
  };
  for (let q = 0; q < rows; q++) {
    want.clear();
    for (const id of strip(truth, q)) want.add(id);
    let hits = 0;
    for (const id of strip(found, q)) if (id >= 0 && want.has(id)) hits++;
    out[q] = hits / k;
  }
  return out;
}

/** What tuning needs of a built LSH index (an `LshIndex`). */
export interface TunableLshIndex {
  readonly resolved: ResolvedLshParameters | null;
  readonly size: number;
  createQuery(options: { numProbes: number }): {
    query(queries: Float32Array, options: { rows: number; k: number }): Promise<KnnResult>;
  };
}

/**
 * The number of probes of a built `index` meeting the tuning target (see the module comment): a
 * seeded sample of `data` (the index's own rows) is queried with query objects of more and more
 * probes and compared with exact search, each point's own entry left out.
 * @throws Error when the index is not built.
 */
export async function tuneNumProbes(
  index: TunableLshIndex,
  data: Float32Array,
  options: LshTuneOptions | undefined,
): Promise<LshTuning> {
  const t0 = performance.now();
  const params = index.resolved;
  if (!params) throw new Error('tuneNumProbes: build the index first');
  const { l, dim, seed } = params;
  const o = resolveTuneOptions(options, l);
  const n = index.size;
  if (n < 2)
    return {
      numProbes: l,
      recall: 1,
      lowerBound: 1,
      reached: true,
      targetRecall: o.recall,
      k: 0,
      sample: 0,
      curve: [],
      seconds: 0,
    };
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
  await exact.build(data, { rows: n, dim });
  const truth = (await exact.query(queries, { rows: m, k: k + 1 })).indices;
  const found = await searchNumProbes(
    async (numProbes) =>
      recallWithoutSelf(
        truth,
        (await index.createQuery({ numProbes }).query(queries, { rows: m, k: k + 1 })).indices,
        self,
        k,
      ),
    l,
    o.recall,
    o.maxProbes,
  );
  return { ...found, targetRecall: o.recall, k, sample: m, seconds: (performance.now() - t0) / 1000 };
}
