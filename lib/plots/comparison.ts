/** Tables and figures of a {@link compareIndexes} run: the DkNN with each index against the exact one. */
import type { IndexComparisonRow, IndexRun } from '../dknn/compare';
import { html, type Html } from './html';
import type { Figure } from './plotly';
import { tableHtml } from './table';
import { seriesColor } from './palette';
import { mean } from '../metrics/stats';

/** What compareIndexes returns. */
export interface IndexComparison {
  runs: IndexRun[];
  rows: IndexComparisonRow[];
}

/** Probes per layer of an LSH run (from its indexes' own description), or null for other indexes. */
export function probesPerLayer(run: IndexRun): number[] | null {
  const probes = run.info.indexLayers.map((d) => (d && typeof d.numProbes === 'number' ? d.numProbes : null));
  return probes.every((p): p is number => p !== null) ? probes : null;
}

/** One row per index: accuracy, credibility, agreement with the first (exact) run, recall, time. */
export function indexComparisonTable(cmp: IndexComparison, options: { caption?: string } = {}): Html {
  const rows = cmp.rows.map((r, i) => {
    const probes = probesPerLayer(cmp.runs[i]);
    return {
      index: r.label,
      accuracy: r.accuracy,
      'mean credibility': r.meanCredibility,
      'identical to exact': `${r.agreement.identical} / ${r.agreement.n}`,
      'max |Δ credibility|': r.agreement.maxCredibilityChange,
      'mean |Δ credibility|': r.agreement.meanCredibilityChange,
      'recall@k (mean of layers)': mean(r.recall),
      'probes per layer': probes ? probes.join(' / ') : '',
      'missing neighbors': r.missingNeighbors,
      'build s': r.buildSeconds,
      'query s (calibrate + predict)': r.querySeconds,
    };
  });
  return html(
    tableHtml(rows, {
      caption: options.caption ?? 'The DkNN with each index, against the first (exact) one',
      digits: 4,
    }),
  );
}

/** Recall@k of each index's neighbors against the first run's, per layer. */
export function recallPerLayerTable(cmp: IndexComparison, options: { caption?: string } = {}): Html {
  const layers = cmp.runs[0].info.layers;
  const k = cmp.runs[0].info.k;
  const rows = cmp.rows.map((r) => ({
    index: r.key,
    ...Object.fromEntries(layers.map((name, l) => [`recall@${k} ${name}`, r.recall[l]])),
  }));
  return html(
    tableHtml(rows, {
      caption: options.caption ?? "Recall of the evaluation inputs' neighbors against the exact DkNN, per layer",
      digits: 4,
    }),
  );
}

/** Credibility change of each approximate run against the first run's credibility, one point per input. */
export function agreementScatterFigure(cmp: IndexComparison, options: { title?: string } = {}): Figure {
  const ref = cmp.runs[0].prediction;
  return {
    data: cmp.runs.slice(1).map((r, j) => ({
      type: 'scatter',
      mode: 'markers',
      name: r.key,
      x: Array.from(ref.credibility),
      y: Array.from(r.prediction.credibility, (c, i) => c - ref.credibility[i]),
      marker: { size: 5, opacity: 0.5, color: seriesColor(j) },
    })),
    layout: {
      title: { text: options.title ?? `Credibility change against the ${cmp.runs[0].key} DkNN (${ref.n} inputs)` },
      xaxis: { title: { text: `credibility, ${cmp.runs[0].key} index` } },
      yaxis: { title: { text: `credibility (approximate) − credibility (${cmp.runs[0].key})` } },
      height: 420,
    },
  };
}
