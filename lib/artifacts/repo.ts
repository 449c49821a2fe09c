/**
 * Where artefacts live: the repository root (the folder holding `data/SHA256SUMS`), its `.cache/`
 * folder, and the git commit that reports and saved models record.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root (the folder holding `data/SHA256SUMS`), searched upwards from this file. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'data', 'SHA256SUMS'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`repoRoot: no folder holding data/SHA256SUMS above ${__dirname}`);
    dir = up;
  }
}

/** `<repo>/.cache`: the default folder of every cached artefact (activations, adversarial sets, benches). */
export function defaultCacheDir(): string {
  return join(repoRoot(), '.cache');
}

/** The git commit of the repository (`<sha>` plus ` (modified)` when the work tree differs), or "unknown". */
export function gitCommit(cwd?: string): string {
  try {
    const dir = cwd ?? repoRoot();
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${sha} (modified)` : sha;
  } catch {
    return 'unknown';
  }
}
