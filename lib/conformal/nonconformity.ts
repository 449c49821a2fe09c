/**
 * Nonconformity of the Deep k-Nearest Neighbors (Papernot & McDaniel 2018):
 * α(x, j) = Σ over layers of the number of x's k neighbors whose label ≠ j.
 *
 * Pure TypeScript on typed arrays; no tensors are taken or returned.
 */

/** Neighbor labels of one layer: `labels[row * k + i]` is the label of the i-th neighbor of `row`; -1 = missing. */
export interface LayerNeighborLabels {
  /** Labels, row-major `[rows][k]`; -1 marks a missing neighbor (e.g. LSH found fewer than k). */
  labels: Int32Array;
  /** Number of query points. */
  rows: number;
  /** Neighbor slots per query point in this layer. */
  k: number;
}

/** Neighbor labels of every layer in one flat array of shape `[layers][rows][k]`; -1 = missing. */
export interface StackedNeighborLabels {
  /** Labels, row-major `[layers][rows][k]`; -1 marks a missing neighbor. */
  labels: Int32Array;
  /** Number of layers. */
  layers: number;
  /** Number of query points. */
  rows: number;
  /** Neighbor slots per query point in each layer. */
  k: number;
}

/** Either a list with one entry per layer (k may differ between layers) or one stacked array. */
export type NeighborLabels = readonly LayerNeighborLabels[] | StackedNeighborLabels;

/**
 * How a missing neighbor (label -1) enters α. It never counts as a vote for any class.
 * - `'disagree'` (default): the empty slot disagrees with every class, adding 1 to α(x, j) for every j.
 *   α stays on the same 0…Σk scale as for complete neighborhoods, so calibration scores and test
 *   scores remain comparable, and a point with missing neighbors looks (conservatively) less conforming.
 * - `'ignore'`: the slot is skipped; α(x, j) counts only the neighbors that exist (no rescaling).
 *
 * The CleverHans reference leaves missing slots at neighbor index 0, so each one silently votes for the
 * label of training point 0 — a bug not reproduced here.
 */
export type MissingNeighborRule = 'disagree' | 'ignore';

/** Options of {@link nonconformity}. */
export interface NonconformityOptions {
  /** How missing neighbors (label -1) enter α. Default `'disagree'`; see {@link MissingNeighborRule}. */
  missing?: MissingNeighborRule;
}

/** Votes per class summed over layers. */
export interface KnnCounts {
  /** `counts[row * numClasses + j]` = number of neighbors (all layers) labeled j. */
  counts: Int32Array;
  /** Number of query points. */
  n: number;
  /** Number of classes. */
  numClasses: number;
  /** Neighbor slots per query point, summed over layers (Σ k). */
  slots: number;
  /** Number of missing neighbors (label -1) over all points and layers. */
  missing: number;
  /** Missing neighbors per query point, summed over layers. */
  missingPerRow: Int32Array;
}

/** Nonconformity scores of every query point for every candidate class. */
export interface NonconformityScores {
  /** `scores[row * numClasses + j]` = α(x_row, j), an integer in 0…Σk. */
  scores: Int32Array;
  /** Number of query points. */
  n: number;
  /** Number of classes. */
  numClasses: number;
  /** Number of missing neighbors (label -1) over all points and layers. */
  missing: number;
  /** Missing neighbors per query point, summed over layers. */
  missingPerRow: Int32Array;
  /** The rule that was applied to missing neighbors. */
  missingRule: MissingNeighborRule;
}

function checkCount(name: string, value: number, allowZero: boolean): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new Error(`${name}: expected ${allowZero ? 'a non-negative' : 'a positive'} integer, found ${value}`);
  }
}

function toLayers(neighbors: NeighborLabels): LayerNeighborLabels[] {
  if (Array.isArray(neighbors)) {
    const layers = neighbors as readonly LayerNeighborLabels[];
    if (layers.length === 0) throw new Error('neighbor labels: expected at least 1 layer, found 0');
    return layers.slice();
  }
  const s = neighbors as StackedNeighborLabels;
  checkCount('neighbor labels layers', s.layers, false);
  checkCount('neighbor labels rows', s.rows, true);
  checkCount('neighbor labels k', s.k, false);
  const per = s.rows * s.k;
  if (s.labels.length !== s.layers * per) {
    throw new Error(
      `neighbor labels: expected layers × rows × k = ${s.layers} × ${s.rows} × ${s.k} = ${s.layers * per} labels, found ${s.labels.length}`,
    );
  }
  const out: LayerNeighborLabels[] = [];
  for (let l = 0; l < s.layers; l++)
    out.push({ labels: s.labels.subarray(l * per, (l + 1) * per), rows: s.rows, k: s.k });
  return out;
}

/**
 * Counts, for every query point and class, the neighbors labeled with that class, summed over layers.
 * Missing neighbors (label -1) are never votes; they are tallied in `missing` / `missingPerRow`.
 * Throws when layers disagree on `rows`, a layer's length is not rows × k, or a label is outside -1…numClasses-1.
 */
export function knnCounts(neighbors: NeighborLabels, numClasses: number): KnnCounts {
  checkCount('numClasses', numClasses, false);
  const layers = toLayers(neighbors);
  const n = layers[0].rows;
  let slots = 0;
  layers.forEach((layer, l) => {
    checkCount(`layer ${l} rows`, layer.rows, true);
    checkCount(`layer ${l} k`, layer.k, false);
    if (layer.rows !== n) throw new Error(`layer ${l}: expected ${n} rows (as layer 0), found ${layer.rows}`);
    if (layer.labels.length !== layer.rows * layer.k) {
      throw new Error(
        `layer ${l}: expected rows × k = ${layer.rows} × ${layer.k} = ${layer.rows * layer.k} labels, found ${layer.labels.length}`,
      );
    }
    slots += layer.k;
  });

  const counts = new Int32Array(n * numClasses);
  const missingPerRow = new Int32Array(n);
  let missing = 0;
  layers.forEach((layer, l) => {
    const { labels, k } = layer;
    for (let r = 0; r < n; r++) {
      const base = r * k;
      const out = r * numClasses;
      for (let i = 0; i < k; i++) {
        const label = labels[base + i];
        if (label === -1) {
          missingPerRow[r]++;
          missing++;
        } else if (label >= 0 && label < numClasses) {
          counts[out + label]++;
        } else {
          throw new Error(
            `layer ${l}, row ${r}, neighbor ${i}: expected a label in -1…${numClasses - 1} (-1 = missing), found ${label}`,
          );
        }
      }
    }
  });
  return { counts, n, numClasses, slots, missing, missingPerRow };
}

/**
 * DkNN nonconformity α(x, j) = Σ_layers #{neighbors of x with label ≠ j}, for every query point and class.
 * Missing neighbors (label -1) never vote; with the default `missing: 'disagree'` each adds 1 to α for
 * every class, with `'ignore'` it adds nothing. Same input checks as {@link knnCounts}.
 */
export function nonconformity(
  neighbors: NeighborLabels,
  numClasses: number,
  options: NonconformityOptions = {},
): NonconformityScores {
  const missingRule = options.missing ?? 'disagree';
  if (missingRule !== 'disagree' && missingRule !== 'ignore') {
    throw new Error(`missing: expected 'disagree' or 'ignore', found ${String(missingRule)}`);
  }
  const c = knnCounts(neighbors, numClasses);
  const scores = new Int32Array(c.n * numClasses);
  for (let r = 0; r < c.n; r++) {
    const present = missingRule === 'disagree' ? c.slots : c.slots - c.missingPerRow[r];
    const o = r * numClasses;
    for (let j = 0; j < numClasses; j++) scores[o + j] = present - c.counts[o + j];
  }
  return { scores, n: c.n, numClasses, missing: c.missing, missingPerRow: c.missingPerRow, missingRule };
}

/**
 * Picks α(x_i, y_i) for each point from a full score matrix: the calibration scores of the DkNN
 * (true labels y) or the scores of given predictions. Throws on length mismatch or a label out of range.
 */
export function scoresAtLabels(
  nc: { scores: Int32Array; n: number; numClasses: number },
  labels: ArrayLike<number>,
): Int32Array {
  if (nc.scores.length !== nc.n * nc.numClasses) {
    throw new Error(`scores: expected n × numClasses = ${nc.n * nc.numClasses} values, found ${nc.scores.length}`);
  }
  if (labels.length !== nc.n)
    throw new Error(`labels: expected ${nc.n} labels (one per point), found ${labels.length}`);
  const out = new Int32Array(nc.n);
  for (let i = 0; i < nc.n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= nc.numClasses) {
      throw new Error(`labels[${i}]: expected an integer in 0…${nc.numClasses - 1}, found ${y}`);
    }
    out[i] = nc.scores[i * nc.numClasses + y];
  }
  return out;
}
