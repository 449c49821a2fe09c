/**
 * `reports/index.html`: the front page of a set of reports — every notebook with its date, commit,
 * parameters, headline numbers and run time, linking to its report. Self-contained (no script, no
 * fetch), like the reports.
 */
import { escapeHtml } from '../plots/html';
import type { NotebookResults } from './results';

/** One notebook on the front page. */
export interface ReportEntry {
  notebook: string;
  /** The report's file name, relative to the index. */
  href: string;
  /** What the notebook wrote beside its report, or null when it has none (e.g. it failed). */
  results: NotebookResults | null;
  /** Wall seconds of the run that made it, when known. */
  seconds: number | null;
  status: 'ok' | 'failed';
  /** The check against the committed expected results (`npm run reproduce -- --verify`), when it ran. */
  verified?: { ok: boolean; matched: number; total: number } | null;
}

/** The verification cell: ✓ with the count, ✗ with how many differ, or empty when not verified. */
function verifiedCell(v: ReportEntry['verified']): string {
  if (!v) return '<td></td>';
  return v.ok
    ? `<td class="ok" title="every value as expected">✓ ${v.total}</td>`
    : `<td class="bad" title="${v.total - v.matched} of ${v.total} differ from the expected results">✗ ${v.total - v.matched} of ${v.total}</td>`;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(4));

/**
 * The headline numbers of a notebook's results: top-level numbers, and for every prediction
 * summary (an object with `dknnAccuracy`) its DNN and DkNN accuracy and mean credibility.
 */
export function headlineNumbers(results: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(results)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'number') out.push(`${name} ${fmt(value)}`);
    else if (value && typeof value === 'object' && !Array.isArray(value)) {
      const v = value as Record<string, unknown>;
      if (typeof v.dknnAccuracy === 'number' && typeof v.meanCredibility === 'number') {
        out.push(
          `${name}: ${typeof v.dnnAccuracy === 'number' ? `DNN ${fmt(v.dnnAccuracy)}, ` : ''}DkNN ${fmt(v.dknnAccuracy)}, credibility ${fmt(v.meanCredibility)}${typeof v.n === 'number' ? ` (n ${v.n})` : ''}`,
        );
      } else if (!prefix) out.push(...headlineNumbers(v, name));
    }
  }
  return out;
}

const shown = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/** The parameters a run set differently from its notebook (from `parameters.changes`), or all of them for older results. */
function changedParameters(parameters: Record<string, unknown>): string {
  const changes = parameters['changes'];
  if (Array.isArray(changes)) {
    if (changes.length === 0) return "the notebook's values";
    return (changes as { name: string; value: unknown; default: unknown }[])
      .map((c) => `${c.name}=${shown(c.value)} (notebook: ${shown(c.default)})`)
      .join('; ');
  }
  return Object.entries(parameters)
    .map(([k, v]) => `${k}=${shown(v)}`)
    .join(' ');
}

/** The front page of `entries` (see the module comment). */
export function reportIndexHtml(
  entries: ReportEntry[],
  options: { title?: string; generatedAt?: string } = {},
): string {
  const title = options.title ?? 'dknn-ts reports';
  const verified = entries.some((e) => e.verified);
  const rows = entries.map((e) => {
    const r = e.results;
    const p = r?.provenance;
    const params = r ? changedParameters(r.parameters) : '';
    const numbers = r
      ? r.headline
        ? Object.entries(r.headline).map(([k, v]) => `${k}: ${typeof v === 'number' ? fmt(v) : v}`)
        : headlineNumbers(r.results)
      : [];
    return (
      `<tr class="${e.status}"><td><a href="${escapeHtml(e.href)}">${escapeHtml(e.notebook)}</a>${e.status === 'failed' ? ' <b>(failed)</b>' : ''}</td>` +
      `<td>${escapeHtml(p?.createdAt.replace('T', ' ').slice(0, 19) ?? '')}</td><td><code>${escapeHtml(p?.commit.slice(0, 12) ?? '')}</code></td>` +
      `<td>${r ? (r.quick ? 'quick' : 'full') : ''}</td><td class="params"><code>${escapeHtml(params)}</code></td>` +
      `<td><ul>${numbers.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></td>` +
      `<td>${e.seconds === null ? '' : `${(e.seconds / 60).toFixed(1)} min`}</td>${verified ? verifiedCell(e.verified) : ''}</tr>`
    );
  });
  return [
    '<!DOCTYPE html><html><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}',
    'td.params{max-width:28em;font-size:11px}ul{margin:0;padding-left:1.2em;font-size:12px}tr.failed{background:#fee}td.ok{color:#262}td.bad{color:#b00;font-weight:bold}</style></head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>Generated ${escapeHtml(options.generatedAt ?? new Date().toISOString())}. Each report ends with its full provenance; its numbers are also in <code>&lt;notebook&gt;.results.json</code> and the per-input CSV files beside it.</p>`,
    `<table class="dknn-index"><thead><tr><th>notebook</th><th>created</th><th>commit</th><th>mode</th><th>parameters set for this run</th><th>headline numbers</th><th>run time</th>${verified ? '<th>verified</th>' : ''}</tr></thead>`,
    `<tbody>${rows.join('')}</tbody></table></body></html>`,
  ].join('\n');
}
