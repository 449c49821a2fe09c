/**
 * `npm run bench -- reproduce`: where the time of a full-size reproduction goes. Runs the notebooks
 * at full size (`scripts/run-notebooks.mjs`; REPRODUCE_NOTEBOOKS=05,07 for some of them), then
 * tabulates each notebook's wall time and the stages its report recorded (fit, calibrate, predict
 * per set, crafting per attack, detectors, …), each with its share of the notebook's time.
 * REPRODUCE_FROM=DIR tabulates a full-size run made before (a `--out` folder of `npm run
 * reproduce`) instead of running: its notes then say so, with the run's commits and dates, since
 * whether that run was alone on the machine is not known here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from '../lib/artifacts/repo';
import { readResultsFile } from '../lib/report/results';

type Row = Record<string, string | number>;

/** The kind of a stage, from its name as the notebooks' StageTimer records it. */
export function stageKind(name: string): string {
  if (/reused/.test(name)) return 'reused';
  if (/^craft/i.test(name)) return 'crafting';
  if (/^predict( clean)?$/i.test(name)) return 'predict, clean';
  if (/^predict/i.test(name)) return 'predict, shifted or attacked';
  if (/^fit \(|^fit$/i.test(name)) return 'fit';
  if (/^calibrate/i.test(name)) return 'calibrate';
  if (/OOD|detector/i.test(name)) return 'out-of-distribution detectors';
  if (/train/i.test(name)) return 'training';
  if (/LSH|HNSW|index/i.test(name)) return 'index builds';
  return 'other';
}

/** The rows of one run folder: per notebook its stages, then per kind over all notebooks. */
export function reproduceRows(dir: string): { rows: Row[]; notes: string[] } {
  const timings = existsSync(join(dir, 'timings.json'))
    ? (JSON.parse(readFileSync(join(dir, 'timings.json'), 'utf8')) as { full?: Record<string, { seconds: number }> })
    : {};
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.results.json'))
    .sort();
  const rows: Row[] = [];
  const byKind = new Map<string, number>();
  const made: string[] = [];
  let wallTotal = 0;
  for (const f of files) {
    const r = readResultsFile(join(dir, f));
    if (r.quick) continue;
    const stages = (r.provenance as { stages?: { name: string; seconds: number }[] }).stages ?? [];
    const staged = stages.reduce((s, x) => s + x.seconds, 0);
    const wall = timings.full?.[r.notebook]?.seconds ?? staged;
    wallTotal += wall;
    const load = r.provenance.machine
      ? `, load average at its end ${r.provenance.machine.loadAverage.join(' / ')} (1 / 5 / 15 min) on ${r.provenance.machine.cores} cores`
      : ', load not recorded (a report from before provenance.machine)';
    made.push(
      `${r.notebook}: commit ${String(r.provenance.commit).slice(0, 8)}, ${String(r.provenance.createdAt).slice(0, 10)}${load}`,
    );
    rows.push({
      notebook: r.notebook,
      stage: '(whole notebook, wall)',
      kind: 'total',
      seconds: Number(wall.toFixed(1)),
      share: 1,
    });
    for (const s of stages) {
      if (s.seconds < 1) continue;
      const kind = stageKind(s.name);
      byKind.set(kind, (byKind.get(kind) ?? 0) + s.seconds);
      rows.push({
        notebook: r.notebook,
        stage: s.name,
        kind,
        seconds: Number(s.seconds.toFixed(1)),
        share: Number((s.seconds / wall).toFixed(3)),
      });
    }
    const other = wall - staged;
    byKind.set(
      'outside the timed stages (kernel start, display, figures)',
      (byKind.get('outside the timed stages (kernel start, display, figures)') ?? 0) + other,
    );
  }
  for (const [kind, seconds] of [...byKind].sort((a, b) => b[1] - a[1]))
    rows.push({
      notebook: 'all',
      stage: '(sum over the notebooks)',
      kind,
      seconds: Number(seconds.toFixed(1)),
      share: Number((seconds / wallTotal).toFixed(3)),
    });
  return { rows, notes: made };
}

export async function benchReproduce(): Promise<{
  section: string;
  description: string;
  rows: Row[];
  notes: string[];
}> {
  const root = repoRoot();
  const from = process.env.REPRODUCE_FROM;
  let dir: string;
  const notes: string[] = [];
  if (from) {
    dir = resolve(from);
    notes.push(
      `tabulated from ${dir}, a full-size run made before this bench (not run here): whether it ran alone on the machine is not known here; the runs:`,
    );
  } else {
    dir = mkdtempSync(join(tmpdir(), 'dknn-reproduce-'));
    const only = (process.env.REPRODUCE_NOTEBOOKS ?? '').split(',').filter(Boolean);
    const r = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'run-notebooks.mjs'), '--no-build', '--out', dir, ...only],
      {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, DKNN_QUICK: '0' },
      },
    );
    if (r.status !== 0)
      throw new Error(`bench reproduce: the full-size run failed (exit ${r.status}); reports in ${dir}`);
    notes.push(`run here, at full size, into ${dir}; the runs:`);
  }
  const { rows, notes: made } = reproduceRows(dir);
  if (rows.length === 0) throw new Error(`bench reproduce: no full-size results.json in ${dir}`);
  const notebooks = new Set(rows.filter((r) => r.notebook !== 'all').map((r) => r.notebook)).size;
  return {
    section: 'reproduce',
    description: `Where a full-size reproduction spends its time: ${notebooks} notebook(s), each with its wall time and the stages its report recorded (share = stage seconds / the notebook's wall seconds), then the sum per kind of stage over the notebooks (share of their summed wall time). Stages under 1 s are left out.`,
    rows,
    notes: [...notes, ...made.map((m) => `  ${m}`)],
  };
}
