/**
 * `npm run bench -- setup`: how long the README's set-up takes here. A fresh clone of the
 * repository (its committed HEAD) in a temporary folder runs `bash scripts/setup.sh` (apt packages
 * already present are not reinstalled, so this is the npm part plus the checks) and `npm run
 * build`, each timed; the clone is removed afterwards.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../lib/artifacts/repo';

function timed(cmd: string, args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`bench setup: ${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

export async function benchSetup(): Promise<{
  section: string;
  description: string;
  rows: Record<string, string | number>[];
  notes: string[];
}> {
  const dir = mkdtempSync(join(tmpdir(), 'dknn-setup-'));
  try {
    const clone = timed('git', ['clone', '-q', repoRoot(), join(dir, 'repo')], dir);
    const repo = join(dir, 'repo');
    const setup = timed('bash', ['scripts/setup.sh'], repo);
    const build = timed('npm', ['run', 'build'], repo);
    return {
      section: 'setup',
      description: 'The set-up on a fresh clone: scripts/setup.sh (apt packages already installed), then npm run build',
      rows: [
        { step: 'git clone', seconds: Number(clone.toFixed(1)) },
        { step: 'bash scripts/setup.sh', seconds: Number(setup.toFixed(1)) },
        { step: 'npm run build', seconds: Number(build.toFixed(1)) },
      ],
      notes: [
        'npm ci reads the packages from the npm cache when they are there, as on any machine that installed them once',
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
