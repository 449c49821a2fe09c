/**
 * Where artefacts live: the repository root (the folder holding `data/SHA256SUMS`; for an installed
 * package, the package's folder), the cache folder, and the source version (git commit or package
 * version) that reports and saved models record.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

/**
 * The repository root (the folder holding `data/SHA256SUMS`) or, for an installed package, the
 * package's folder (holding `datasets/SHA256SUMS`), searched upwards from this file.
 */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'data', 'SHA256SUMS')) || existsSync(join(dir, 'datasets', 'SHA256SUMS'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`repoRoot: no folder holding data/SHA256SUMS above ${__dirname}`);
    dir = up;
  }
}

/** Whether this copy of the lib is an installed package (inside a `node_modules` folder), not the repository. */
export function installedPackage(): boolean {
  return repoRoot().split(sep).includes('node_modules');
}

/**
 * The default folder of every cached artefact (activations, adversarial sets, benches):
 * `$DKNN_CACHE_DIR` if set; else `<repo>/.cache` in the repository, `.dknn-cache/` in the working
 * folder for an installed package.
 */
export function defaultCacheDir(): string {
  const env = process.env['DKNN_CACHE_DIR'];
  if (env) return env;
  return installedPackage() ? join(process.cwd(), '.dknn-cache') : join(repoRoot(), '.cache');
}

/**
 * The source the results come from: the git commit of the repository (`<sha>` plus ` (modified)`
 * when the work tree differs) or, for an installed package, `dknn-ts <version> (installed
 * package)`; "unknown" when neither can be read.
 */
export function gitCommit(cwd?: string): string {
  if (cwd === undefined && installedPackage()) {
    try {
      const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version?: string };
      return `dknn-ts ${pkg.version ?? '(no version)'} (installed package)`;
    } catch {
      return 'unknown';
    }
  }
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
