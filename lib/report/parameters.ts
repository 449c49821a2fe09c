/**
 * The parameters cell of a notebook: defaults, a quick mode for CI, and overrides from the
 * environment (papermill has no TypeScript translator, so `npm run reproduce -- --set k=50` and CI
 * pass values as `DKNN_*` variables).
 */

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

/** Options of {@link parameters}. */
export interface ParametersOptions<T> {
  /** Values used when `DKNN_QUICK=1` (before the environment's own overrides). */
  quick?: Partial<Widen<T>>;
  /** The environment. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Parses one environment value as the type of `def`. @throws naming the variable, the expected type and what was found. */
export function parseParameter(key: string, def: ParamValues[string], raw: string): ParamValues[string] {
  const name = envName(key);
  if (typeof def === 'number') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v))
      throw new Error(`parameter ${key}: ${name} must be a number, found ${JSON.stringify(raw)}`);
    return v;
  }
  if (typeof def === 'boolean') {
    if (!['1', '0', 'true', 'false'].includes(raw))
      throw new Error(`parameter ${key}: ${name} must be 1/0/true/false, found ${JSON.stringify(raw)}`);
    return raw === '1' || raw === 'true';
  }
  if (Array.isArray(def)) {
    const items = raw.split(',').map((s) => s.trim());
    if (def.length > 0 && typeof def[0] === 'number') {
      const nums = items.map(Number);
      if (items.some((s) => s === '') || !nums.every(Number.isFinite))
        throw new Error(
          `parameter ${key}: ${name} must be a comma-separated list of numbers, found ${JSON.stringify(raw)}`,
        );
      return nums;
    }
    if (items.some((s) => s === ''))
      throw new Error(
        `parameter ${key}: ${name} must be a comma-separated list of names, found ${JSON.stringify(raw)}`,
      );
    return items;
  }
  return raw;
}

/**
 * The parameters cell: returns `defaults` overridden by environment variables (`epochs` ←
 * `DKNN_EPOCHS`, `trainSubset` ← `DKNN_TRAIN_SUBSET`, `layers` ← `DKNN_LAYERS=ReLU3,logits`, …),
 * each parsed as its default's type. When `DKNN_QUICK=1`, the `quick` values are applied first
 * (env variables still win). A `DKNN_*` variable naming no parameter is ignored (other tools set some).
 */
export function parameters<T extends ParamValues>(
  defaults: T,
  options: ParametersOptions<T> = {},
): Widen<T> & { quick: boolean } {
  const env = options.env ?? process.env;
  const quick = env.DKNN_QUICK === '1' || env.DKNN_QUICK === 'true';
  const out: ParamValues = { ...defaults, ...(quick ? (options.quick as ParamValues) : {}) };
  for (const key of Object.keys(defaults)) {
    const raw = env[envName(key)];
    if (raw === undefined || raw === '') continue;
    out[key] = parseParameter(key, defaults[key], raw);
  }
  return { ...(out as Widen<T>), quick };
}
