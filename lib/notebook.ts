import { gitCommit } from './artefacts/repo';

/** A notebook's parameter values: numbers, strings and booleans only (so the environment can set them). */
export type ParamValues = Record<string, number | string | boolean>;

/** `T` with literal property types widened (`false` → `boolean`, `6` → `number`). */
export type Widen<T> = { [K in keyof T]: T[K] extends number ? number : T[K] extends string ? string : T[K] extends boolean ? boolean : T[K] };

/** Turns `camelCase` into the env variable `DKNN_CAMEL_CASE`. */
export function envName(key: string, prefix = 'DKNN_'): string {
  return prefix + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/**
 * The parameters cell: returns `defaults` overridden by environment variables (`epochs` ←
 * `DKNN_EPOCHS`, `trainSubset` ← `DKNN_TRAIN_SUBSET`, …), each parsed as its default's type.
 * When `DKNN_QUICK=1`, the `quick` values are applied first (env variables still win). A value
 * that does not parse is an error naming the variable, the expected type and what was found.
 */
export function parameters<T extends ParamValues>(defaults: T, options: { quick?: Partial<Widen<T>>; env?: NodeJS.ProcessEnv } = {}): Widen<T> & { quick: boolean } {
  const env = options.env ?? process.env;
  const quick = env.DKNN_QUICK === '1' || env.DKNN_QUICK === 'true';
  const out: ParamValues = { ...defaults, ...(quick ? options.quick : {}) };
  for (const key of Object.keys(defaults)) {
    const name = envName(key);
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const def = defaults[key];
    if (typeof def === 'number') {
      const v = Number(raw);
      if (!Number.isFinite(v)) throw new Error(`parameter ${key}: ${name} must be a number, found ${JSON.stringify(raw)}`);
      out[key] = v;
    } else if (typeof def === 'boolean') {
      if (!['1', '0', 'true', 'false'].includes(raw)) throw new Error(`parameter ${key}: ${name} must be 1/0/true/false, found ${JSON.stringify(raw)}`);
      out[key] = raw === '1' || raw === 'true';
    } else {
      out[key] = raw;
    }
  }
  return { ...(out as Widen<T>), quick };
}

/** Records how long each named stage of a notebook or CLI run took. */
export class StageTimer {
  readonly stages: { name: string; seconds: number }[] = [];

  /** Runs `fn`, records its wall time under `name`, returns its result. */
  async time<R>(name: string, fn: () => R | Promise<R>): Promise<R> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.stages.push({ name, seconds: (performance.now() - t0) / 1000 });
    }
  }
}

/** What a report states about its own making. */
export interface Provenance {
  commit: string;
  createdAt: string;
  node: string;
  backend: string;
  seed: number | string;
  parameters: Record<string, unknown>;
  dataChecksums: Record<string, string>;
  stages: { name: string; seconds: number }[];
  extra?: Record<string, unknown>;
}

function esc(s: string): string {
  return s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

/** Collects a run's provenance (commit, time, Node version) around what the caller knows. */
export function provenance(p: Omit<Provenance, 'commit' | 'createdAt' | 'node'>): Provenance {
  return { commit: gitCommit(), createdAt: new Date().toISOString(), node: process.version, ...p };
}

/** An HTML table of a {@link Provenance} (for the last cell of every notebook). */
export function provenanceHtml(p: Provenance): string {
  const row = (k: string, v: string) => `<tr><th style="text-align:left;vertical-align:top">${esc(k)}</th><td style="text-align:left"><code>${esc(v)}</code></td></tr>`;
  const rows = [
    row('commit', p.commit),
    row('created', p.createdAt),
    row('node', p.node),
    row('engine backend', p.backend),
    row('seed', String(p.seed)),
    row('parameters', JSON.stringify(p.parameters)),
    ...Object.entries(p.dataChecksums).map(([f, s]) => row(`sha256 ${f}`, s)),
    ...p.stages.map((s) => row(`stage: ${s.name}`, `${s.seconds.toFixed(2)} s`)),
    ...Object.entries(p.extra ?? {}).map(([k, v]) => row(k, typeof v === 'string' ? v : JSON.stringify(v))),
  ];
  return `<table class="dknn-provenance"><caption style="text-align:left"><b>Provenance</b></caption>${rows.join('')}</table>`;
}
