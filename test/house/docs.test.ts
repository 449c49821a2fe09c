/**
 * The README is a front door (≤ 200 lines) and no measured number in the documents is typed by
 * hand: docs/results.md and the README's results block are what `npm run results` generates from
 * the committed JSON, and a changed measurement makes the check fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const results = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(cwd, 'scripts', 'results.mjs'), ...args], { cwd, encoding: 'utf8' });

test('the README is at most 200 lines and links the generated results', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const lines = readme.split('\n').length;
  assert.ok(lines <= 200, `README.md has ${lines} lines`);
  assert.match(
    readme,
    /<!-- results:begin[^>]*-->[\s\S]*\| claim \| measured here \| from \|[\s\S]*<!-- results:end -->/,
  );
  assert.match(readme, /docs\/results\.md/);
});

test('docs/results.md and the README block are in sync with the JSON, and a changed number is caught', () => {
  const r = results(root, '--check');
  assert.equal(r.status, 0, `npm run results -- --check:\n${r.stdout}${r.stderr}`);
  const copy = mkdtempSync(join(tmpdir(), 'dknn-results-'));
  try {
    for (const p of ['scripts/results.mjs', 'README.md', 'docs', 'bench/results', 'results']) {
      try {
        cpSync(join(root, p), join(copy, p), { recursive: true });
      } catch {
        mkdirSync(join(copy, p), { recursive: true }); // results/ may not exist yet
      }
    }
    assert.equal(results(copy, '--check').status, 0, 'the copy is in sync');
    const vs = join(copy, 'bench', 'results', 'vs-pytorch.json');
    const json = JSON.parse(readFileSync(vs, 'utf8')) as { rows: { stage: string; 'dknn-ts s': number }[] };
    json.rows.find((row) => row.stage === 'total')!['dknn-ts s'] += 1;
    writeFileSync(vs, JSON.stringify(json));
    const stale = results(copy, '--check');
    assert.equal(stale.status, 1);
    assert.match(
      stale.stderr,
      /out of date with the JSON: docs\/results\.md, README\.md's results block; run npm run results/,
    );
    assert.equal(results(copy).status, 0);
    assert.equal(results(copy, '--check').status, 0, 'regenerated, in sync again');
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
