import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envName, parameters, provenance, provenanceHtml, StageTimer } from '../lib/notebook';
import { describeProgress, formatDuration, htmlProgress, ProgressClock } from '../lib/progress';

test('envName maps camelCase parameters to DKNN_ environment variables', () => {
  assert.equal(envName('trainSubset'), 'DKNN_TRAIN_SUBSET');
  assert.equal(envName('k'), 'DKNN_K');
  assert.equal(envName('evalEnd2'), 'DKNN_EVAL_END2');
});

test('parameters: quick values apply in quick mode, environment variables win, types are parsed', () => {
  const defaults = { epochs: 6, retrain: false, formula: 'reference' };
  assert.deepEqual(parameters(defaults, { env: {} }), { ...defaults, quick: false });
  assert.deepEqual(parameters(defaults, { quick: { epochs: 1 }, env: { DKNN_QUICK: '1' } }), { epochs: 1, retrain: false, formula: 'reference', quick: true });
  assert.deepEqual(
    parameters(defaults, { quick: { epochs: 1 }, env: { DKNN_QUICK: '1', DKNN_EPOCHS: '3', DKNN_RETRAIN: 'true', DKNN_FORMULA: 'conformal' } }),
    { epochs: 3, retrain: true, formula: 'conformal', quick: true },
  );
  assert.throws(() => parameters(defaults, { env: { DKNN_EPOCHS: 'six' } }), /parameter epochs: DKNN_EPOCHS must be a number, found "six"/);
  assert.throws(() => parameters(defaults, { env: { DKNN_RETRAIN: 'yes' } }), /DKNN_RETRAIN must be 1\/0\/true\/false, found "yes"/);
});


test('StageTimer records each stage and provenanceHtml lists them with the checksums', async () => {
  const timer = new StageTimer();
  const v = await timer.time('work', async () => 42);
  assert.equal(v, 42);
  await assert.rejects(timer.time('fails', () => { throw new Error('boom'); }), /boom/);
  assert.deepEqual(timer.stages.map((s) => s.name), ['work', 'fails']);
  const p = provenance({ backend: 'wasm', seed: 7, parameters: { k: 75 }, dataChecksums: { 'f.gz': 'abc' }, stages: timer.stages });
  assert.match(p.commit, /^([0-9a-f]{40}( \(modified\))?|unknown)$/);
  const html = provenanceHtml(p);
  for (const s of ['engine backend', 'wasm', 'sha256 f.gz', 'abc', 'stage: work', '{"k":75}']) assert.ok(html.includes(s), `has ${s}`);
});

test('progress renderers show done/total, rate, ETA and metrics', () => {
  assert.equal(formatDuration(75), '1:15');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(NaN), '?');
  const line = describeProgress({ stage: 'train', done: 50, total: 100, unit: 'img', metrics: { loss: 0.5 } }, new ProgressClock(), 10);
  assert.match(line, /^train █████░░░░░ 50\/100 50% .* img\/s .*loss 0\.5000$/);
  const out: string[] = [];
  const cb = htmlProgress({ html: (s) => out.push(s) }, { intervalMs: 1e9 });
  cb({ stage: 'a<b', done: 1, total: 10 });
  cb({ stage: 'a<b', done: 2, total: 10 });
  cb({ stage: 'a<b', done: 10, total: 10 });
  assert.equal(out.length, 2, 'first event, then throttled until completion');
  assert.ok(out[1].includes('a&lt;b') && out[1].includes('10/10 (100%)'));
});
