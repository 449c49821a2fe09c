/** The DNN-vs-DkNN summary table, with published numbers beside the measured ones. */
import type { PredictionSummary } from '../analysis/summary';
import { html, type Html } from './html';
import { tableHtml } from './table';

/** Published numbers shown beside a summary row (any may be absent). */
export interface ReferenceNumbers {
  dnnAccuracy?: number;
  dknnAccuracy?: number;
  lowCredibilityShare?: number;
  meanCredibility?: number;
  meanDnnConfidence?: number;
  /** Where they come from, e.g. 'paper' or 'CleverHans run'. */
  source: string;
}

/** One row of {@link summaryTable}. */
export interface SummaryRow {
  /** The input set, e.g. 'clean' or 'FGSM ε 0.25'. */
  name: string;
  summary: PredictionSummary;
  /** Published numbers to show beside it (one source or several). */
  reference?: ReferenceNumbers | ReferenceNumbers[];
}

const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '' : `${(100 * x).toFixed(1)} %`);

/** The rows of {@link summaryTable} as plain objects (column → value), e.g. for a data frame. */
export function summaryRecords(rows: SummaryRow[]): Record<string, string | number>[] {
  const withRef = rows.some((r) => r.reference);
  return rows.map((r) => {
    const s = r.summary;
    const out: Record<string, string | number> = {
      inputs: r.name,
      images: s.n,
      'DNN accuracy': s.dnnAccuracy,
      'DkNN accuracy': s.dknnAccuracy,
      'DNN mean confidence': s.meanDnnConfidence,
      'DkNN mean credibility': s.meanCredibility,
      [`credibility < ${s.lowCredibility}`]: s.lowCredibilityShare,
      'ECE softmax': s.dnnEce,
      'ECE credibility': s.dknnEce,
    };
    if (withRef) {
      const refs = r.reference === undefined ? [] : Array.isArray(r.reference) ? r.reference : [r.reference];
      const each = (f: (x: ReferenceNumbers) => string) => refs.map(f).join('; ');
      out['published DNN / DkNN accuracy'] = each((x) =>
        x.dnnAccuracy !== undefined || x.dknnAccuracy !== undefined
          ? `${pct(x.dnnAccuracy) || '–'} / ${pct(x.dknnAccuracy) || '–'}`
          : '–',
      );
      out[`published credibility < ${s.lowCredibility}`] = each((x) => pct(x.lowCredibilityShare) || '–');
      out['published by'] = each((x) => x.source);
    }
    return out;
  });
}

/** DNN vs DkNN on each input set, with published numbers beside them where given. The caption names the p-value formula. */
export function summaryTable(rows: SummaryRow[], options: { caption?: string; digits?: number } = {}): Html {
  if (rows.length === 0) throw new Error('summaryTable: expected at least one row, found none');
  const formulas = [...new Set(rows.map((r) => r.summary.formula))].join(' / ');
  const caption = `${options.caption ?? 'DNN vs DkNN'} (DkNN: ${formulas} p-values; accuracy against the true labels)`;
  return html(tableHtml(summaryRecords(rows), { caption, digits: options.digits ?? 3 }));
}
