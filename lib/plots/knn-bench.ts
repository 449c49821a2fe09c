/**
 * The committed kNN benchmark (`npm run bench -- knn-backends` → bench/results/knn-backends.json)
 * as typed rows, and its figures: recall@k against query time per layer, one curve per method.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../artifacts/repo';
import { tableHtml } from './table';
import { html, type Html } from './html';
import type { Figure } from './plotly';
import { PALETTE } from './palette';
import { legendBelow } from './layout';

/** What a row measured: one of the project's indexes, or a reference library's figure. */
export type KnnBenchMethod = 'exact' | 'lsh-paper' | 'lsh-default' | 'lsh-auto' | 'hnsw' | 'anchor';

/** One measurement of `npm run bench -- knn-backends`. */
export interface KnnBenchRow {
  layer: string;
  dim: number;
  method: KnnBenchMethod;
  /** Human description of the configuration (for tables only; never parsed). */
  configuration: string;
  /** Probes per query (LSH rows and FALCONN anchors with multiprobe), else null. */
  numProbes: number | null;
  /** Anchor rows: the library measured ('falconn' or 'faiss'), else null. */
  anchorLibrary: 'falconn' | 'faiss' | null;
  /** Anchor rows: 'same' = run on exactly this benchmark's data; 'given' = figures given on other data. */
  anchorData: 'same' | 'given' | null;
  /** Anchor rows: the configuration family ('paper' preset, FALCONN 'default' l 10, or 'hnsw'). */
  anchorPreset: 'paper' | 'default' | 'hnsw' | null;
  buildSeconds: number;
  /** Seconds for all the benchmark's queries. */
  querySeconds: number;
  /** Recall@k against the exact neighbors (k in the results' `extra`). */
  recall: number | null;
  avgUniqueCandidates: number | null;
  buildThreads: number | null;
  measured: string;
}

/** The committed results file of the knn-backends benchmark. */
export interface KnnBenchResults {
  section: 'knn-backends';
  description: string;
  rows: KnnBenchRow[];
  notes: string[];
  extra: { trainN: number; nq: number; k: number };
  meta: { commit: string; date: string };
}

/** Reads a committed benchmark results file `bench/results/<section>.json` (relative to the repository root unless absolute). */
export function readBenchResults<T = unknown>(sectionOrPath: string): T {
  const path = sectionOrPath.endsWith('.json')
    ? sectionOrPath.startsWith('/')
      ? sectionOrPath
      : join(repoRoot(), sectionOrPath)
    : join(repoRoot(), 'bench', 'results', `${sectionOrPath}.json`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new Error(
      `readBenchResults: cannot read ${path} (${(err as Error).message}); run \`npm run bench -- ${sectionOrPath.replace(/^.*\//, '').replace(/\.json$/, '')}\``,
      { cause: err },
    );
  }
}

const STYLE: Record<string, { color: string; symbol: string; name: string }> = {
  'lsh-default': { color: PALETTE.blue, symbol: 'circle', name: 'LSH, FALCONN defaults (probes)' },
  'lsh-auto': { color: PALETTE.red, symbol: 'star', name: 'LSH, tuned probes (AUTO_PRESET)' },
  'lsh-paper': { color: PALETTE.orange, symbol: 'diamond', name: 'LSH, paper preset' },
  hnsw: { color: PALETTE.green, symbol: 'triangle-up', name: 'HNSW (hnswlib)' },
  exact: { color: PALETTE.dark, symbol: 'square', name: 'exact' },
};

/**
 * One figure per layer: recall@k (y) against milliseconds per query (x, log), one curve per
 * method (the FALCONN-default LSH over its number of probes, labeled), single points for the
 * tuned and paper LSH, HNSW and exact; open symbols for FALCONN run on the same data.
 */
export function recallTimeFigures(bench: KnnBenchResults): Figure[] {
  const { nq, k, trainN } = bench.extra;
  const ms = (r: KnnBenchRow) => (1000 * r.querySeconds) / nq;
  const layers = [...new Set(bench.rows.filter((r) => r.method !== 'anchor').map((r) => r.layer))];
  return layers.map((layer) => {
    const rows = bench.rows.filter((r) => r.layer === layer && r.recall !== null);
    const traces: Record<string, unknown>[] = [];
    for (const method of ['lsh-default', 'lsh-auto', 'lsh-paper', 'hnsw', 'exact'] as const) {
      const m = rows.filter((r) => r.method === method).sort((a, b) => a.querySeconds - b.querySeconds);
      if (m.length === 0) continue;
      const st = STYLE[method];
      traces.push({
        type: 'scatter',
        mode: m.length > 1 ? 'lines+markers+text' : 'markers',
        name: st.name,
        x: m.map(ms),
        y: m.map((r) => r.recall),
        text: method === 'lsh-default' ? m.map((r) => String(r.numProbes)) : undefined,
        textposition: 'bottom right',
        hovertext: m.map((r) => `${r.configuration}<br>build ${r.buildSeconds.toFixed(1)} s`),
        hoverinfo: 'x+y+text',
        marker: { color: st.color, symbol: st.symbol, size: 10 },
        line: { color: st.color },
      });
    }
    const same = rows.filter(
      (r) => r.method === 'anchor' && r.anchorLibrary === 'falconn' && r.anchorData === 'same' && r.buildThreads === 1,
    );
    for (const preset of ['default', 'paper'] as const) {
      const a = same.filter((r) => r.anchorPreset === preset).sort((x, y) => x.querySeconds - y.querySeconds);
      if (a.length === 0) continue;
      const st = STYLE[preset === 'default' ? 'lsh-default' : 'lsh-paper'];
      traces.push({
        type: 'scatter',
        mode: a.length > 1 ? 'lines+markers' : 'markers',
        name: `FALCONN C++, ${preset === 'default' ? 'l 10' : 'paper preset'} (same data)`,
        x: a.map(ms),
        y: a.map((r) => r.recall),
        hovertext: a.map((r) => r.configuration),
        marker: { color: st.color, symbol: `${st.symbol}-open`, size: 12 },
        line: { color: st.color, dash: 'dot' },
      });
    }
    const ys = traces.flatMap((t) => t.y as number[]);
    return {
      data: traces,
      layout: {
        title: {
          text: `${layer} (${rows[0]?.dim ?? '?'} dims): recall@${k} vs query time, ${trainN} points, ${nq} queries`,
        },
        xaxis: { title: { text: 'ms per query' }, type: 'log', automargin: true },
        yaxis: { title: { text: `recall@${k}` }, range: [Math.min(0.55, ...ys) - 0.02, 1.02] },
        height: 420,
        legend: legendBelow(),
      },
    };
  });
}

/** Every row of the benchmark as a table (ms per query instead of total seconds). */
export function knnBenchTable(bench: KnnBenchResults, options: { caption?: string } = {}): Html {
  const { nq, k } = bench.extra;
  const rows = bench.rows.map((r) => ({
    layer: r.layer,
    method: r.method,
    configuration: r.configuration,
    'build s': r.buildSeconds,
    'build threads': r.buildThreads,
    'ms / query': (1000 * r.querySeconds) / nq,
    [`recall@${k}`]: r.recall,
    'unique candidates / query': r.avgUniqueCandidates,
  }));
  const caption =
    options.caption ??
    `${bench.description} (commit ${bench.meta.commit.slice(0, 12)}, ${bench.meta.date.slice(0, 10)}); anchor rows: FALCONN C++ / faiss (same data, or given on other data)`;
  return html(tableHtml(rows, { caption, digits: 3 }));
}
