/** Verification against committed results (issue 30): tolerances by kind, and red rows for what changed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedFrom, leaves, toleranceOf, verifyResults, verifyTable } from '../../lib/report/verify';
import { reportIndexHtml } from '../../lib/report/index-page';
import type { NotebookResults } from '../../lib/report/results';

function run(
  over: { k?: number; clean?: number; fgsm?: number; extra?: boolean; seconds?: number } = {},
): NotebookResults {
  const results: Record<string, unknown> = {
    summaries: {
      clean: { n: 500, dknnAccuracy: over.clean ?? 0.976, meanCredibility: 0.58 },
      fgsm: { n: 500, dknnAccuracy: over.fgsm ?? 0.2, meanCredibility: 0.16, dnnEce: 0.8, formula: 'reference' },
    },
    byK: [{ k: 1, dknnAccuracy: 0.9 }],
    timings: { fit: over.seconds ?? 12.5 },
    epochs: [{ epoch: 1, seconds: over.seconds ?? 4.2 }],
  };
  if (over.extra) results.auroc = 0.95;
  return {
    notebook: '03-attacks',
    quick: true,
    parameters: { k: over.k ?? 75, layers: ['a', 'b'], changes: [] },
    results,
    provenance: { createdAt: '2026-12-08T00:00:00Z', commit: 'abcdef' } as NotebookResults['provenance'],
    tables: {},
  };
}
const expected = expectedFrom(run(), { commit: 'abc', date: '2026-12-08' });

test('tolerances: exact for clean and for numbers outside a summary, one standard error for attacked inputs', () => {
  const all = leaves(run().results);
  assert.ok(!all.has('timings.fit') && !all.has('epochs[0].seconds'), 'times are never compared');
  assert.equal(all.get('byK[0].k'), 1);
  assert.equal(toleranceOf(all, 'summaries.clean.dknnAccuracy'), 'exact');
  assert.equal(toleranceOf(all, 'byK[0].dknnAccuracy'), 'exact', 'no n beside it');
  assert.equal(toleranceOf(all, 'summaries.fgsm.formula'), 'exact');
  const acc = toleranceOf(all, 'summaries.fgsm.dknnAccuracy');
  assert.ok(acc !== 'exact');
  assert.ok(Math.abs(acc.bound - Math.sqrt((0.2 * 0.8) / 500)) < 1e-12, `√(0.2·0.8/500), found ${acc.bound}`);
  const mean = toleranceOf(all, 'summaries.fgsm.meanCredibility');
  assert.ok(mean !== 'exact' && Math.abs(mean.bound - 0.5 / Math.sqrt(500)) < 1e-12);
  const ece = toleranceOf(all, 'summaries.fgsm.dnnEce');
  assert.ok(ece !== 'exact' && Math.abs(ece.bound - 0.5 / Math.sqrt(500)) < 1e-12);
  // an accuracy of 1 still allows one input
  const one = toleranceOf(leaves({ s: { n: 40, dknnAccuracy: 1 } }), 's.dknnAccuracy');
  assert.ok(one !== 'exact' && one.bound === 1 / 40);
});

test('the same run verifies green; times may differ', () => {
  const rows = verifyResults(run({ seconds: 99 }), expected);
  assert.ok(
    rows.every((r) => r.ok),
    verifyTable(rows),
  );
  assert.equal(rows.length, 1 + Object.keys(expected.values).length);
  assert.match(verifyTable(rows), /✓ 03-attacks: \d+ of \d+ values as expected$/);
});

test('a changed parameter turns the parameters row red; a clean number off by 0.002 is red; an attacked one within its error is green', () => {
  const rows = verifyResults(run({ k: 50, clean: 0.974, fgsm: 0.21 }), expected);
  const red = rows.filter((r) => !r.ok).map((r) => r.what);
  assert.deepEqual(red, ['parameters', 'summaries.clean.dknnAccuracy']);
  assert.equal(rows[0].expected, 'k=75');
  assert.equal(rows[0].found, 'k=50');
  const far = verifyResults(run({ fgsm: 0.22 }), expected).filter((r) => !r.ok);
  assert.deepEqual(
    far.map((r) => r.what),
    ['summaries.fgsm.dknnAccuracy'],
    '0.02 is more than one standard error (0.0179)',
  );
  assert.match(verifyTable(far), /✗ 03-attacks {2}summaries.fgsm.dknnAccuracy: expected 0.2, found 0.22 \(± 0.018/);
});

test('a value the expected set lacks, or one the run lost, is red', () => {
  const extra = verifyResults(run({ extra: true }), expected).filter((r) => !r.ok);
  assert.deepEqual(
    extra.map((r) => [r.what, r.expected]),
    [['auroc', '(not recorded)']],
  );
  const lost = verifyResults(run(), expectedFrom(run({ extra: true }), { commit: 'abc', date: '' })).filter(
    (r) => !r.ok,
  );
  assert.deepEqual(
    lost.map((r) => [r.what, r.found]),
    [['auroc', '(none)']],
  );
});

test('the index shows ✓ or ✗ per notebook when verified, and no column otherwise', () => {
  const entry = { notebook: '03-attacks', href: '03-attacks.html', results: run(), seconds: 60, status: 'ok' as const };
  const plain = reportIndexHtml([entry], { generatedAt: 'x' });
  assert.doesNotMatch(plain, /verified/);
  const page = reportIndexHtml(
    [
      { ...entry, verified: { ok: true, matched: 12, total: 12 } },
      { ...entry, notebook: '02', verified: { ok: false, matched: 10, total: 12 } },
    ],
    { generatedAt: 'x' },
  );
  assert.match(page, /<th>verified<\/th>/);
  assert.match(page, /<td class="ok"[^>]*>✓ 12<\/td>/);
  assert.match(page, /<td class="bad"[^>]*>✗ 2 of 12<\/td>/);
});
