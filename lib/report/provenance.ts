/** What a report states about its own making: commit, time, engine, parameters, data checksums, stage timings. */
import { cpus, loadavg } from 'node:os';
import { gitCommit } from '../artifacts/repo';
import { escapeHtml, html, type Html } from '../plots/html';

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

  /** Seconds of all stages together. */
  get totalSeconds(): number {
    return this.stages.reduce((s, x) => s + x.seconds, 0);
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
  /** Set when the notebook run differs from the committed one (`npm run reproduce -- --allow-modified`). */
  notebookSource?: string;
  /**
   * The machine when the provenance was made (at the end of the run): its cores and load averages
   * over the last 1, 5 and 15 minutes — whether the stage timings were measured alone or beside other work.
   */
  machine?: { cores: number; loadAverage: [number, number, number] };
}

/** Collects a run's provenance (commit, time, Node version) around what the caller knows. */
export function provenance(p: Omit<Provenance, 'commit' | 'createdAt' | 'node' | 'machine'>): Provenance {
  const modified = process.env['DKNN_NOTEBOOK_DIFF'];
  const [one, five, fifteen] = loadavg().map((x) => Number(x.toFixed(2)));
  return {
    commit: gitCommit(),
    createdAt: new Date().toISOString(),
    node: process.version,
    machine: { cores: cpus().length, loadAverage: [one, five, fifteen] },
    ...p,
    ...(modified ? { notebookSource: modified } : {}),
  };
}

/** An HTML table of a {@link Provenance} (the last cell of every notebook). */
export function provenanceTable(p: Provenance): Html {
  const row = (k: string, v: string) =>
    `<tr><th style="text-align:left;vertical-align:top;white-space:nowrap">${escapeHtml(k)}</th>` +
    `<td style="text-align:left"><code style="white-space:pre-wrap;overflow-wrap:anywhere">${escapeHtml(v)}</code></td></tr>`;
  const rows = [
    row('commit', p.commit),
    ...(p.notebookSource ? [row('notebook', p.notebookSource)] : []),
    row('created', p.createdAt),
    row('node', p.node),
    ...(p.machine
      ? [
          row(
            'machine',
            `${p.machine.cores} cores; load average ${p.machine.loadAverage.join(', ')} (last 1, 5, 15 min, at the end of the run)`,
          ),
        ]
      : []),
    row('engine backend', p.backend),
    row('seed', String(p.seed)),
    row('parameters', JSON.stringify(p.parameters).replace(/,"/g, ', "')),
    ...Object.entries(p.dataChecksums).map(([f, s]) => row(`sha256 ${f}`, s)),
    ...p.stages.map((s) => row(`stage: ${s.name}`, `${s.seconds.toFixed(2)} s`)),
    ...Object.entries(p.extra ?? {}).map(([k, v]) => row(k, typeof v === 'string' ? v : JSON.stringify(v))),
  ];
  return html(
    `<table class="dknn-provenance" style="max-width:100%;table-layout:fixed"><caption style="text-align:left"><b>Provenance</b></caption>${rows.join('')}</table>`,
  );
}
