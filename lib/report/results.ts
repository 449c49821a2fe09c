/**
 * A notebook's results as files next to its report: `<name>.results.json` (the headline numbers
 * the notebook computed with lib functions, its parameters and provenance) and one
 * `<name>.<table>.csv` per per-input table. The tests assert the notebooks' statistical claims on
 * these returned values, and users get the numbers without parsing HTML.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readFileBytes, writeFilesAtomic, type FileContent } from '../artifacts/atomic';
import type { Columns } from '../util/columns';
import type { Provenance } from './provenance';

/** What a notebook records about its run. */
export interface NotebookResults {
  notebook: string;
  quick: boolean;
  parameters: Record<string, unknown>;
  /** The numbers the notebook computed, by name (summaries, comparisons, …). */
  results: Record<string, unknown>;
  /** The few numbers that say what the notebook showed, by a readable name (the index and docs/results.md show them). */
  headline?: Record<string, number | string>;
  provenance: Provenance;
  /** The CSV files written beside, by table name. */
  tables: Record<string, string>;
}

/**
 * The folder a notebook's results go to: `$DKNN_REPORT_DIR` (set by `npm run reproduce` to its
 * `--out`, and by `npm run notebook` to `work/dknn-results`), else `dknn-results/` in the working
 * folder. Interactive work never writes into the published `reports/`.
 */
export function reportDir(): string {
  return resolve(process.env.DKNN_REPORT_DIR || join(process.cwd(), 'dknn-results'));
}

function columnLength(columns: Columns): number {
  const names = Object.keys(columns);
  if (names.length === 0) throw new Error('toCsv: expected at least one column, found none');
  const n = columns[names[0]].length;
  for (const c of names) {
    if (columns[c].length !== n)
      throw new Error(`toCsv: column ${c} has ${columns[c].length} values, expected ${n} (as ${names[0]})`);
  }
  return n;
}

function csvCell(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v ?? '');
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text of named columns (header line, then one line per row; non-finite numbers are empty cells). */
export function toCsv(columns: Columns): string {
  const n = columnLength(columns);
  const names = Object.keys(columns);
  const lines = [names.map(csvCell).join(',')];
  for (let i = 0; i < n; i++) lines.push(names.map((c) => csvCell(columns[c][i])).join(','));
  return `${lines.join('\n')}\n`;
}

function checkName(what: string, name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new Error(`${what}: expected letters, digits, '.', '_' or '-', found ${JSON.stringify(name)}`);
}

/**
 * Writes `<dir>/<notebook>.results.json` and a CSV per table, together: all are written to temp
 * files first, then renamed (the JSON last), so a failed write leaves the previous files whole.
 * Returns what was written. @throws naming the file that could not be written.
 */
export function writeResults(
  notebook: string,
  content: Omit<NotebookResults, 'notebook' | 'tables'> & { perInput?: Record<string, Columns> },
  options: { dir?: string } = {},
): NotebookResults {
  checkName('notebook', notebook);
  const dir = options.dir ?? reportDir();
  const tables: Record<string, string> = {};
  const files: FileContent[] = [];
  for (const [name, columns] of Object.entries(content.perInput ?? {})) {
    checkName('table', name);
    const path = join(dir, `${notebook}.${name}.csv`);
    files.push({ path, parts: [toCsv(columns)] });
    tables[name] = path;
  }
  const { perInput: _, ...rest } = content;
  const out: NotebookResults = { notebook, ...rest, tables };
  const json = `${JSON.stringify(out, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1)}\n`;
  writeFilesAtomic([...files, { path: join(dir, `${notebook}.results.json`), parts: [json] }]);
  return out;
}

/**
 * Reads a `<notebook>.results.json` file. @throws Error naming the file when it cannot be read, is
 * not JSON (half-written or damaged) or is not a notebook's results.
 */
export function readResultsFile(path: string): NotebookResults {
  const text = readFileBytes(path).toString('utf8');
  let r: NotebookResults;
  try {
    r = JSON.parse(text) as NotebookResults;
  } catch (err) {
    throw new Error(`${path}: expected a notebook's results JSON, found invalid JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(r) || typeof r.notebook !== 'string' || !isObject(r.results) || !isObject(r.parameters))
    throw new Error(
      `${path}: expected a notebook's results (notebook, parameters, results), found ${isObject(r) ? `keys ${Object.keys(r).join(', ')}` : JSON.stringify(r)}`,
    );
  return r;
}

/** Reads the results a notebook wrote (see {@link writeResults}). @throws naming the file (see {@link readResultsFile}). */
export function readResults(notebook: string, options: { dir?: string } = {}): NotebookResults {
  const path = join(options.dir ?? reportDir(), `${notebook}.results.json`);
  if (!existsSync(path)) throw new Error(`readResults: no results at ${path}; run the notebook ${notebook} first`);
  return readResultsFile(path);
}
