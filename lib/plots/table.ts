/** Rows of named values, or anything shaped like a danfo.js DataFrame (`columns` + `values`). */
export type TableInput = readonly object[] | { columns: string[]; values: unknown[][] | unknown[] };

import { escapeHtml as esc } from './html';

function cell(v: unknown, digits: number): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  if (v === null || v === undefined) return '';
  return esc(String(v));
}

/**
 * An HTML table of `rows` (or of a danfo.js DataFrame, displayed as it is). Numbers that are not
 * integers show `digits` decimals (default 4).
 */
export function tableHtml(input: TableInput, options: { caption?: string; digits?: number } = {}): string {
  const digits = options.digits ?? 4;
  let columns: string[];
  let values: unknown[][];
  if (!('columns' in input)) {
    const rows = input as readonly Record<string, unknown>[];
    columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    values = rows.map((r) => columns.map((c) => r[c]));
  } else {
    columns = input.columns;
    values = (input.values as unknown[]).map((r) => (Array.isArray(r) ? r : [r]));
  }
  const head = `<tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const body = values.map((r) => `<tr>${r.map((v) => `<td>${cell(v, digits)}</td>`).join('')}</tr>`).join('');
  const caption = options.caption ? `<caption style="text-align:left"><b>${esc(options.caption)}</b></caption>` : '';
  return `<table class="dknn-table">${caption}<thead>${head}</thead><tbody>${body}</tbody></table>`;
}
