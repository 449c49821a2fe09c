/**
 * Automatic choice of the number of probes of an LSH index (FALCONN's advice, "raise the number of
 * probes until the recall is good enough", automated): recall@k is measured on a seeded sample of
 * the index's own points against exact search, each point's own entry left out (it is trivially its
 * own nearest neighbour), and the smallest numProbes meeting the target is found by doubling from
 * l, then bisecting. Recall never drops as numProbes grows (more probes visit a superset of
 * buckets, and the re-ranking is exact), so the search is sound.
 */

/** Settings of the probe tuning (`LshIndexOptions.tune`). */
export interface LshTuneOptions {
  /** Recall@k to reach on the sample. Default 0.99. */
  recall?: number;
  /** Neighbours per query the recall is measured at. Default 75 (the DkNN's k). */
  k?: number;
  /** Points of the index used as queries (seeded sample). Default 200. */
  sample?: number;
  /** Most probes tried. Default 1,024·l. */
  maxProbes?: number;
}

/** One measured point of the tuning. */
export interface LshTunePoint {
  numProbes: number;
  recall: number;
  seconds: number;
}

/** What the tuning chose and measured. */
export interface LshTuning {
  /** The probes chosen: the smallest tried that meets the target (maxProbes when none did). */
  numProbes: number;
  /** Sample recall at {@link numProbes}. */
  recall: number;
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
  if (!(typeof r.recall === 'number' && r.recall > 0 && r.recall <= 1)) throw new RangeError(`tune.recall must be in (0, 1], found ${String(r.recall)}`);
  for (const f of ['k', 'sample', 'maxProbes'] as const) {
    if (!Number.isSafeInteger(r[f]) || r[f] < 1) throw new RangeError(`tune.${f} must be a positive integer, found ${String(r[f])}`);
  }
  if (r.maxProbes < l) throw new RangeError(`tune.maxProbes must be at least l = ${l}, found ${r.maxProbes}`);
  return r;
}

/**
 * The smallest numProbes in [l, maxProbes] whose `evaluate` (a recall, non-decreasing in
 * numProbes) reaches `target`: doubling from l, then bisection down to a 5 % (or 1-probe) gap.
 */
export async function searchNumProbes(
  evaluate: (numProbes: number) => Promise<number>,
  l: number,
  target: number,
  maxProbes: number,
): Promise<{ numProbes: number; recall: number; reached: boolean; curve: LshTunePoint[] }> {
  const curve: LshTunePoint[] = [];
  const at = async (p: number): Promise<number> => {
    const t0 = performance.now();
    const recall = await evaluate(p);
    curve.push({ numProbes: p, recall, seconds: (performance.now() - t0) / 1000 });
    return recall;
  };
  let lo: number | null = null;
  let hi: number | null = null;
  let hiRecall = 0;
  for (let p = l; ; p = Math.min(maxProbes, 2 * p)) {
    const r = await at(p);
    if (r >= target) {
      hi = p;
      hiRecall = r;
      break;
    }
    lo = p;
    if (p >= maxProbes) return { numProbes: p, recall: r, reached: false, curve };
  }
  while (lo !== null && hi - lo > Math.max(1, Math.ceil(0.05 * hi))) {
    const mid = Math.floor((lo + hi) / 2);
    const r = await at(mid);
    if (r >= target) {
      hi = mid;
      hiRecall = r;
    } else {
      lo = mid;
    }
  }
  return { numProbes: hi, recall: hiRecall, reached: true, curve };
}

/**
 * Recall@k of `found` against `truth` (both rows × (k+1) neighbour lists of sample points
 * `self[q]`), each list first stripped of the point itself (or, if absent, of its last entry).
 */
export function recallWithoutSelf(truth: Int32Array, found: Int32Array, self: Int32Array, k: number): number {
  const rows = self.length;
  const w = k + 1;
  let hits = 0;
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
    for (const id of strip(found, q)) if (id >= 0 && want.has(id)) hits++;
  }
  return rows ? hits / (rows * k) : 1;
}
