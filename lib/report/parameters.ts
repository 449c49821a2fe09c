/**
 * The parameters cell of a notebook: defaults, a quick mode for CI, and overrides from the
 * environment (papermill has no TypeScript translator, so `npm run reproduce -- --set k=50` and CI
 * pass values as `DKNN_*` variables). In a kernel the cell then shows a banner saying what this run
 * uses that the notebook's code and prose do not: quick mode, and every value set from outside.
 */
import { escapeHtml, html, type Html } from '../plots/html';
import { tslabKernel } from '../native/tslab';
import { DECIMAL_NUMBER } from '../util/checks';
import { displayItem } from './display';

/** A notebook's parameter values: numbers, strings, booleans and lists of strings (so the environment can set them). */
export type ParamValues = Record<string, number | string | boolean | readonly string[] | readonly number[]>;

/** `T` with literal property types widened (`false` → `boolean`, `6` → `number`, `['a']` → `string[]`). */
export type Widen<T> = {
  [K in keyof T]: T[K] extends number
    ? number
    : T[K] extends string
      ? string
      : T[K] extends boolean
        ? boolean
        : T[K] extends readonly string[]
          ? string[]
          : T[K] extends readonly number[]
            ? number[]
            : T[K];
};

/** Turns `camelCase` into the env variable `DKNN_CAMEL_CASE`. */
export function envName(key: string, prefix = 'DKNN_'): string {
  return prefix + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/**
 * What a parameter's value must be, checked in the parameters cell (so a bad value fails there, not
 * minutes later): numbers between `min` and `max` (each a number, or the name of another numeric
 * parameter, e.g. `{ k: { min: 1, max: 'kMax' } }`), `integer`, or one of `oneOf`. A number whose
 * default is an integer must be an integer unless `integer: false`.
 */
export interface ParameterCheck {
  min?: number | string;
  max?: number | string;
  integer?: boolean;
  oneOf?: readonly (string | number)[];
}

/** Options of {@link parameters}. */
export interface ParametersOptions<T> {
  /** Values used when `DKNN_QUICK=1` (before the environment's own overrides). */
  quick?: Partial<Widen<T>>;
  /** What each parameter's value must be (see {@link ParameterCheck}). */
  checks?: { [K in keyof T]?: ParameterCheck };
  /** The environment. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Parses one environment value as the type of `def`. @throws naming the variable, the expected type and what was found. */
export function parseParameter(key: string, def: ParamValues[string], raw: string): ParamValues[string] {
  const name = envName(key);
  if (raw.trim() === '') throw new Error(`parameter ${key}: ${name} is set but empty; give a value or unset it`);
  if (typeof def === 'number') {
    if (!DECIMAL_NUMBER.test(raw.trim()) || !Number.isFinite(Number(raw)))
      throw new Error(`parameter ${key}: ${name} must be a decimal number, found ${JSON.stringify(raw)}`);
    return Number(raw);
  }
  if (typeof def === 'boolean') {
    if (!['1', '0', 'true', 'false'].includes(raw))
      throw new Error(`parameter ${key}: ${name} must be 1/0/true/false, found ${JSON.stringify(raw)}`);
    return raw === '1' || raw === 'true';
  }
  if (Array.isArray(def)) {
    const items = raw.split(',').map((s) => s.trim());
    if (def.length > 0 && typeof def[0] === 'number') {
      if (!items.every((s) => DECIMAL_NUMBER.test(s) && Number.isFinite(Number(s))))
        throw new Error(
          `parameter ${key}: ${name} must be a comma-separated list of decimal numbers, found ${JSON.stringify(raw)}`,
        );
      return items.map(Number);
    }
    if (items.some((s) => s === ''))
      throw new Error(
        `parameter ${key}: ${name} must be a comma-separated list of names, found ${JSON.stringify(raw)}`,
      );
    return items;
  }
  return raw;
}

/** The first rule `value` breaks, in words (`an integer ≥ 1`), or null. */
function broken(value: number, rule: ParameterCheck, values: ParamValues): string | null {
  const bound = (b: number | string | undefined) => {
    const v = typeof b === 'string' ? values[b] : b;
    return typeof v === 'number' ? { v, text: `${v}${typeof b === 'string' ? ` (${b})` : ''}` } : null;
  };
  const min = bound(rule.min);
  const max = bound(rule.max);
  const want = [rule.integer ? 'an integer' : 'a number', min ? `≥ ${min.text}` : '', max ? `≤ ${max.text}` : '']
    .filter(Boolean)
    .join(' ');
  const bad = (rule.integer && !Number.isInteger(value)) || (min && value < min.v) || (max && value > max.v);
  return bad ? want : null;
}

/** Checks every value against its rule (and integer defaults); @throws naming the parameter, what was expected, what was found and who set it. */
function checkValues<T extends ParamValues>(
  values: ParamValues,
  defaults: T,
  checks: ParametersOptions<T>['checks'],
  setBy: Record<string, string>,
): void {
  for (const key of Object.keys(defaults)) {
    const rule: ParameterCheck = { ...(checks?.[key] ?? {}) };
    const def = defaults[key];
    const value = values[key];
    const from = setBy[key] ? ` (set by ${setBy[key]})` : '';
    if (typeof def === 'number' && Number.isInteger(def) && rule.integer === undefined) rule.integer = true;
    const items = Array.isArray(value) ? value : [value];
    for (const v of items) {
      if (rule.oneOf && !rule.oneOf.includes(v as string | number))
        throw new Error(
          `parameter ${key}: expected one of ${rule.oneOf.map((o) => JSON.stringify(o)).join(', ')}, found ${JSON.stringify(v)}${from}`,
        );
      if (typeof v !== 'number') continue;
      const want = broken(v, rule, values);
      if (want) throw new Error(`parameter ${key}: expected ${want}, found ${v}${from}`);
    }
  }
}

/** A parameter of this run that differs from the notebook's default, and what set it. */
export interface ParameterChange {
  name: string;
  value: ParamValues[string];
  default: ParamValues[string];
  /** `'quick mode'` or the environment variable (e.g. `DKNN_K`). */
  setBy: string;
}

/** What {@link parameters} returns: the values, whether the run is quick, and what differs from the defaults. */
export type NotebookParameters<T> = Widen<T> & { quick: boolean; changes: ParameterChange[] };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const shown = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v));

/**
 * The banner of a run: "full size, the notebook's values" or, above a table of the changes, quick
 * mode and the values set from outside. It is what a report shows under its parameters cell.
 */
export function parametersBanner(p: { quick: boolean; changes: readonly ParameterChange[] }): Html {
  const style = 'border-left:4px solid #c80;background:#fff8e6;padding:6px 10px;margin:4px 0;font:14px sans-serif';
  if (p.changes.length === 0)
    return html(
      `<div class="dknn-banner" style="${style.replace('#c80', '#393').replace('#fff8e6', '#eef8ee')}">` +
        `This run: full size, with the values in the cell above (the prose states them).</div>`,
    );
  const head = p.quick
    ? '<b>Quick mode</b> (DKNN_QUICK=1): a small run for checking; its numbers are not the paper-scale ones the prose discusses.'
    : '<b>This run differs from the notebook</b>: the prose and the cell above state the defaults.';
  const rows = p.changes
    .map(
      (c) =>
        `<tr><td><code>${escapeHtml(c.name)}</code></td><td><b>${escapeHtml(shown(c.value))}</b></td>` +
        `<td>${escapeHtml(shown(c.default))}</td><td>${escapeHtml(c.setBy)}</td></tr>`,
    )
    .join('');
  return html(
    `<div class="dknn-banner" style="${style}">${head}<table style="margin-top:4px"><tr><th>parameter</th>` +
      `<th>this run</th><th>notebook default</th><th>set by</th></tr>${rows}</table></div>`,
  );
}

/**
 * The parameters cell: returns `defaults` overridden by environment variables (`epochs` ←
 * `DKNN_EPOCHS`, `trainSubset` ← `DKNN_TRAIN_SUBSET`, `layers` ← `DKNN_LAYERS=ReLU3,logits`, …),
 * each parsed as its default's type. When `DKNN_QUICK=1`, the `quick` values are applied first
 * (env variables still win). A `DKNN_*` variable naming no parameter is ignored (other tools set some).
 * Every value is then checked against `checks` (and integer defaults stay integers).
 * `changes` lists what differs from `defaults`; in a tslab kernel the {@link parametersBanner} is shown.
 */
export function parameters<T extends ParamValues>(
  defaults: T,
  options: ParametersOptions<T> = {},
): NotebookParameters<T> {
  const env = options.env ?? process.env;
  const quick = env.DKNN_QUICK === '1' || env.DKNN_QUICK === 'true';
  const out: ParamValues = { ...defaults, ...(quick ? (options.quick as ParamValues) : {}) };
  const setBy: Record<string, string> = {};
  for (const key of Object.keys(quick ? (options.quick ?? {}) : {})) setBy[key] = 'quick mode';
  for (const key of Object.keys(defaults)) {
    const raw = env[envName(key)];
    if (raw === undefined) continue;
    out[key] = parseParameter(key, defaults[key], raw);
    setBy[key] = envName(key);
  }
  checkValues(out, defaults, options.checks, setBy);
  const changes = Object.keys(defaults)
    .filter((key) => !same(out[key], defaults[key]))
    .map((key) => ({ name: key, value: out[key]!, default: defaults[key]!, setBy: setBy[key] ?? 'the environment' }));
  const result = { ...(out as Widen<T>), quick, changes };
  const kernel = tslabKernel();
  if (kernel) kernel.display.html(displayItem(parametersBanner(result)).content as string);
  return result;
}
