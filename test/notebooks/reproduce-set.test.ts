/**
 * `--set` as the probe of issue 29 used it (W9–W12): an unknown name or an empty value is refused
 * before anything runs; a value outside its rule stops the notebook in its parameters cell, at
 * once, naming the rule, instead of minutes later inside the fit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const script = join(root, 'scripts', 'run-notebooks.mjs');
const run = (args: string[], timeout = 15_000) =>
  spawnSync(process.execPath, [script, '--no-build', ...args], { cwd: root, encoding: 'utf8', timeout });

test('--set with a name no notebook of the run declares, or with no value, is refused at once (W9, W10)', () => {
  const out = mkdtempSync(join(tmpdir(), 'dknn-set-'));
  try {
    const unknown = run(['--quick', '--out', out, '--set', 'kk=50', '02']);
    assert.equal(unknown.status, 2, unknown.stderr);
    assert.match(unknown.stderr, /--set kk: no notebook of this run \(02-calibrate.ipynb\) has a parameter "kk"/);
    assert.match(unknown.stderr, /their parameters are: .*\bk\b.*kMax/);
    // 01-train has no k, 02 has: a run of both accepts k
    const listed = run(['--quick', '--out', out, '--set', 'epochs=0x10', '--set', 'kk=1', '01', '02']);
    assert.match(listed.stderr, /--set kk: no notebook of this run \(01-train.ipynb, 02-calibrate.ipynb\)/);
    const empty = run(['--quick', '--out', out, '--set', 'k=', '02']);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /--set k= gives no value/);
    assert.ok(!existsSync(join(out, '02-calibrate.html')), 'nothing ran');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('--set k=-1, k=2.5 and k=0x10 stop notebook 02 in its parameters cell, naming the rule (W8, W11, W12)', () => {
  const out = mkdtempSync(join(tmpdir(), 'dknn-set-'));
  try {
    for (const [value, message] of [
      ['-1', /parameter k: expected an integer ≥ 1 ≤ 100 \(kMax\), found -1 \(set by DKNN_K\)/],
      ['2.5', /parameter k: expected an integer .*found 2.5/],
      ['0x10', /parameter k: DKNN_K must be a decimal number, found \\?"0x10\\?"/],
    ] as const) {
      const r = run(['--quick', '--allow-modified', '--out', out, '--set', `k=${value}`, '02'], 120_000);
      assert.notEqual(r.status, 0, `k=${value} ran through`);
      assert.match(r.stdout + r.stderr, message);
      assert.doesNotMatch(r.stdout + r.stderr, /fit: |EBADF/, `k=${value}: the notebook went on past its parameters`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('--verify turns red on a deliberately changed parameter: the parameters row and the numbers it moved, exit 1, ✗ in the index', () => {
  const out = mkdtempSync(join(tmpdir(), 'dknn-verify-'));
  try {
    const r = run(['--quick', '--allow-modified', '--verify', '--out', out, '--set', 'k=50', '02'], 300_000);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /✗ 02-calibrate {2}parameters: expected k=75, found k=50 \(exact\)/);
    assert.match(r.stdout, /✗ 02-calibrate {2}clean\.meanCredibility: expected [\d.]+, found [\d.]+ \(exact\)/);
    assert.match(r.stdout, /✗ 02-calibrate: \d+ of \d+ values as expected/);
    assert.match(r.stderr, /verify: 1 of 1 notebooks differ from the expected results/);
    assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /<td class="bad"[^>]*>✗ \d+ of \d+<\/td>/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
