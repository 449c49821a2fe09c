/**
 * Checking a run against committed results: every number a notebook wrote in its `results.json`
 * (times excepted) is compared with an expected set (`expected/<quick|full>/<notebook>.json`), each
 * value with its tolerance written beside it. The runs are deterministic for a given seed, so
 * most tolerances are exact; a fraction or a mean over inputs that were attacked or shifted (whose
 * crafting goes through many floating-point steps, which another CPU may round differently) gets one
 * standard error of its `n` inputs.
 */
import type { NotebookResults } from './results';

/** How far a value may move: `'exact'`, or an absolute bound with the reason for it. */
export type Tolerance = 'exact' | { bound: number; why: string };

/** One expected value. */
export interface ExpectedValue {
  value: number | string | boolean | null;
  tolerance: Tolerance;
}

/** A notebook's expected results: its parameters and every compared value, by path (`summaries.fgsm.dknnAccuracy`). */
export interface ExpectedResults {
  notebook: string;
  quick: boolean;
  /** The run it was recorded from. */
  recordedFrom: { commit: string; date: string };
  parameters: Record<string, unknown>;
  values: Record<string, ExpectedValue>;
}

/** One line of the verification table. */
export interface VerifyRow {
  notebook: string;
  /** The value's path, or `parameters`. */
  what: string;
  expected: string;
  found: string;
  tolerance: string;
  ok: boolean;
}

/** Keys whose numbers are times or rates, which no rerun reproduces: never compared. */
const TIMING =
  /(^|\.)(seconds|secs|ms|time|times|timings|elapsed|duration|throughput|\w*PerSecond|\w*Seconds)(\.|\[|$)/i;

type Leaf = number | string | boolean | null;

/** Every leaf of `x` by path (`a.b[3].c`); times left out. */
export function leaves(x: unknown, prefix = ''): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  const walk = (v: unknown, path: string) => {
    if (path && TIMING.test(path)) return;
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, `${path}[${i}]`));
    else if (v !== null && typeof v === 'object')
      for (const [k, item] of Object.entries(v)) walk(item, path ? `${path}.${k}` : k);
    else if (v === null || ['number', 'string', 'boolean'].includes(typeof v)) out.set(path, v as Leaf);
  };
  walk(x, prefix);
  return out;
}

/** The `n` of the object holding `path` (a prediction summary), if it has one; `all` is {@link leaves} of the results. */
function countBeside(all: Map<string, Leaf>, path: string): number | null {
  const parent = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
  const n = all.get(parent ? `${parent}.n` : 'n');
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * The tolerance of one value: exact, except a fraction in [0, 1] in a summary of `n` inputs that
 * are not the clean ones (a path without `clean`): one binomial standard error √(p(1−p)/n) (at
 * least 1/n, one input) for a share or an accuracy, and 0.5/√n (the largest standard error of a mean
 * of values in [0, 1]) for a mean or a calibration error. `all` is {@link leaves} of the results.
 */
export function toleranceOf(all: Map<string, Leaf>, path: string): Tolerance {
  const value = all.get(path);
  if (typeof value !== 'number' || value < 0 || value > 1 || /clean/i.test(path)) return 'exact';
  const n = countBeside(all, path);
  if (n === null) return 'exact';
  const key = path.slice(path.lastIndexOf('.') + 1);
  if (/^mean|ece$/i.test(key))
    return { bound: 0.5 / Math.sqrt(n), why: `0.5/√n, the largest standard error of a mean in [0, 1], n = ${n}` };
  if (/accuracy|share$/i.test(key)) {
    const se = Math.sqrt((value * (1 - value)) / n);
    return { bound: Math.max(se, 1 / n), why: `one binomial standard error (at least one input), n = ${n}` };
  }
  return 'exact';
}

/** The expected set of a run: every value of its results with its tolerance. */
export function expectedFrom(run: NotebookResults, recordedFrom: ExpectedResults['recordedFrom']): ExpectedResults {
  const values: Record<string, ExpectedValue> = {};
  const all = leaves(run.results);
  for (const [path, value] of all) values[path] = { value, tolerance: toleranceOf(all, path) };
  return { notebook: run.notebook, quick: run.quick, recordedFrom, parameters: comparable(run.parameters), values };
}

/** The parameters that define a run (not `changes`, which says how they were set). */
function comparable(parameters: Record<string, unknown>): Record<string, unknown> {
  const { changes: _changes, ...rest } = parameters;
  return rest;
}

const text = (v: unknown) => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));
const toleranceText = (t: Tolerance) => (t === 'exact' ? 'exact' : `± ${t.bound.toPrecision(2)} (${t.why})`);

/**
 * Compares a run with its expected set: a first row for the parameters (red when any differs, naming
 * them), then one row per expected value (red when missing, or outside its tolerance), then one per
 * value the run has that the expected set lacks (red: record the expected set again if it is new).
 */
export function verifyResults(run: NotebookResults, expected: ExpectedResults): VerifyRow[] {
  const nb = expected.notebook;
  const runParams = comparable(run.parameters);
  const names = [...new Set([...Object.keys(expected.parameters), ...Object.keys(runParams)])];
  const differ = names.filter((k) => JSON.stringify(runParams[k]) !== JSON.stringify(expected.parameters[k]));
  const rows: VerifyRow[] = [
    {
      notebook: nb,
      what: 'parameters',
      expected: differ.length ? differ.map((k) => `${k}=${text(expected.parameters[k])}`).join(', ') : 'as recorded',
      found: differ.length ? differ.map((k) => `${k}=${text(runParams[k])}`).join(', ') : 'as recorded',
      tolerance: 'exact',
      ok: differ.length === 0 && run.quick === expected.quick,
    },
  ];
  const found = leaves(run.results);
  for (const [path, e] of Object.entries(expected.values)) {
    const v = found.get(path);
    const ok =
      found.has(path) &&
      (e.tolerance === 'exact' || typeof v !== 'number' || typeof e.value !== 'number'
        ? JSON.stringify(v) === JSON.stringify(e.value)
        : Math.abs(v - e.value) <= e.tolerance.bound);
    rows.push({
      notebook: nb,
      what: path,
      expected: text(e.value),
      found: text(v),
      tolerance: toleranceText(e.tolerance),
      ok,
    });
  }
  for (const [path, v] of found)
    if (!(path in expected.values))
      rows.push({
        notebook: nb,
        what: path,
        expected: '(not recorded)',
        found: text(v),
        tolerance: 'exact',
        ok: false,
      });
  return rows;
}

/** The verification table as text: every red row, then one line per notebook (all rows when `all`). */
export function verifyTable(rows: readonly VerifyRow[], options: { all?: boolean } = {}): string {
  const shown = options.all ? rows : rows.filter((r) => !r.ok);
  const lines = shown.map(
    (r) => `${r.ok ? '✓' : '✗'} ${r.notebook}  ${r.what}: expected ${r.expected}, found ${r.found} (${r.tolerance})`,
  );
  const byNotebook = new Map<string, VerifyRow[]>();
  for (const r of rows) {
    const mine = byNotebook.get(r.notebook);
    if (mine) mine.push(r);
    else byNotebook.set(r.notebook, [r]);
  }
  for (const [nb, rs] of byNotebook) {
    const bad = rs.filter((r) => !r.ok).length;
    lines.push(`${bad === 0 ? '✓' : '✗'} ${nb}: ${rs.length - bad} of ${rs.length} values as expected`);
  }
  return lines.join('\n');
}
