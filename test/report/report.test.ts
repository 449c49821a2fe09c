import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { displayItem, setDisplaySink, show, type DisplayItem } from '../../lib/report/display';
import { envName, parameters, parametersBanner } from '../../lib/report/parameters';
import { headlineNumbers, reportIndexHtml } from '../../lib/report/index-page';
import { html, markdown } from '../../lib/plots/html';
import { provenance, provenanceTable, StageTimer } from '../../lib/report/provenance';
import { readResults, toCsv, writeResults } from '../../lib/report/results';
import { describeProgress, formatDuration, ProgressClock } from '../../lib/util/progress';
import { htmlProgress } from '../../lib/report/progress-bar';

test('envName maps camelCase parameters to DKNN_ environment variables', () => {
  assert.equal(envName('trainSubset'), 'DKNN_TRAIN_SUBSET');
  assert.equal(envName('k'), 'DKNN_K');
  assert.equal(envName('evalEnd2'), 'DKNN_EVAL_END2');
});

test('parameters: quick values apply in quick mode, environment variables win, types are parsed', () => {
  const defaults = { epochs: 6, retrain: false, formula: 'reference' };
  const values = (p: Record<string, unknown>) => {
    const { changes: _, ...rest } = p;
    return rest;
  };
  assert.deepEqual(values(parameters(defaults, { env: {} })), { ...defaults, quick: false });
  assert.deepEqual(values(parameters(defaults, { quick: { epochs: 1 }, env: { DKNN_QUICK: '1' } })), {
    epochs: 1,
    retrain: false,
    formula: 'reference',
    quick: true,
  });
  assert.deepEqual(
    values(
      parameters(defaults, {
        quick: { epochs: 1 },
        env: { DKNN_QUICK: '1', DKNN_EPOCHS: '3', DKNN_RETRAIN: 'true', DKNN_FORMULA: 'conformal' },
      }),
    ),
    { epochs: 3, retrain: true, formula: 'conformal', quick: true },
  );
  assert.throws(
    () => parameters(defaults, { env: { DKNN_EPOCHS: 'six' } }),
    /parameter epochs: DKNN_EPOCHS must be a decimal number, found "six"/,
  );
  assert.throws(
    () => parameters(defaults, { env: { DKNN_RETRAIN: 'yes' } }),
    /DKNN_RETRAIN must be 1\/0\/true\/false, found "yes"/,
  );
});

test('parameters: a list default is set from a comma-separated variable; an empty item or a blank number is refused', () => {
  const defaults = { layers: ['ReLU1', 'logits'] as readonly string[], k: 75 };
  const p = parameters(defaults, { env: { DKNN_LAYERS: 'ReLU3, logits' } });
  assert.deepEqual(p.layers, ['ReLU3', 'logits']);
  assert.deepEqual(parameters(defaults, { env: {} }).layers, ['ReLU1', 'logits']);
  assert.throws(
    () => parameters(defaults, { env: { DKNN_LAYERS: 'ReLU3,,logits' } }),
    /DKNN_LAYERS must be a comma-separated list of names, found "ReLU3,,logits"/,
  );
  assert.throws(() => parameters(defaults, { env: { DKNN_K: '  ' } }), /DKNN_K is set but empty/);
  const angles = parameters({ angles: [0, 45] as readonly number[] }, { env: { DKNN_ANGLES: '15, 30' } });
  assert.deepEqual(angles.angles, [15, 30]);
  assert.throws(
    () => parameters({ angles: [0] as readonly number[] }, { env: { DKNN_ANGLES: '15,x' } }),
    /DKNN_ANGLES must be a comma-separated list of decimal numbers, found "15,x"/,
  );
});

test('show sends figures, HTML, markdown and PNGs to the display sink outside a kernel', () => {
  const got: DisplayItem[] = [];
  const prev = setDisplaySink((i) => got.push(i));
  try {
    show(
      '**bold**',
      html('<b>x</b>'),
      markdown('# t'),
      { kind: 'png', bytes: Uint8Array.from([1, 2]) },
      { data: [{ type: 'bar', y: [1] }], layout: { height: 300 } },
    );
  } finally {
    setDisplaySink(prev);
  }
  assert.deepEqual(
    got.map((g) => g.mime),
    ['text/markdown', 'text/html', 'text/markdown', 'image/png', 'text/html'],
  );
  assert.equal(got[1].content, '<b>x</b>');
  assert.match(got[4].content as string, /Plotly\.newPlot/);
  assert.throws(
    () => displayItem({ kind: 'nope' } as never),
    /show: expected a figure, html\(\), markdown\(\), a PNG or a string/,
  );
});

test('writeResults writes the results JSON and one CSV per table; readResults reads them back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dknn-results-'));
  try {
    const p = provenance({ backend: 'wasm', seed: 1, parameters: {}, dataChecksums: {}, stages: [] });
    const out = writeResults(
      '02-x',
      {
        quick: true,
        parameters: { k: 3 },
        results: { acc: 0.5, none: NaN },
        provenance: p,
        perInput: { clean: { index: Int32Array.from([7, 8]), name: ['a,b', 'c"d'] } },
      },
      { dir },
    );
    assert.deepEqual(Object.keys(out.tables), ['clean']);
    assert.equal(readFileSync(join(dir, '02-x.clean.csv'), 'utf8'), 'index,name\n7,"a,b"\n8,"c""d"\n');
    const back = readResults('02-x', { dir });
    assert.deepEqual(back.results, { acc: 0.5, none: null });
    assert.equal(back.quick, true);
    assert.throws(() => readResults('03-y', { dir }), /no results at .*03-y.results.json; run the notebook 03-y first/);
    assert.throws(
      () => writeResults('../up', { quick: false, parameters: {}, results: {}, provenance: p }, { dir }),
      /notebook: expected letters/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(toCsv({ a: [1, NaN], b: Float32Array.from([0.5, 2]) }), 'a,b\n1,0.5\n,2\n');
  assert.throws(() => toCsv({ a: [1], b: [1, 2] }), /column b has 2 values, expected 1 \(as a\)/);
});

test('StageTimer records each stage and provenanceTable lists them with the checksums', async () => {
  const timer = new StageTimer();
  const v = await timer.time('work', async () => 42);
  assert.equal(v, 42);
  await assert.rejects(
    timer.time('fails', () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.deepEqual(
    timer.stages.map((s) => s.name),
    ['work', 'fails'],
  );
  const p = provenance({
    backend: 'wasm',
    seed: 7,
    parameters: { k: 75 },
    dataChecksums: { 'f.gz': 'abc' },
    stages: timer.stages,
  });
  assert.match(p.commit, /^([0-9a-f]{40}( \(modified\))?|unknown)$/);
  const table = provenanceTable(p).html;
  for (const s of ['engine backend', 'wasm', 'sha256 f.gz', 'abc', 'stage: work', '{&quot;k&quot;:75}'])
    assert.ok(table.includes(s), `has ${s}`);
  assert.equal(timer.totalSeconds, timer.stages[0].seconds + timer.stages[1].seconds);
  // the machine: its cores and load averages, so a reader knows whether the timings ran alone
  assert.equal(p.machine?.cores, cpus().length);
  assert.equal(p.machine?.loadAverage.length, 3);
  assert.ok(p.machine!.loadAverage.every((x) => Number.isFinite(x) && x >= 0));
  assert.match(
    table,
    /<th[^>]*>machine<\/th><td[^>]*><code[^>]*>\d+ cores; load average [\d.]+, [\d.]+, [\d.]+ \(last 1, 5, 15 min, at the end of the run\)/,
  );
});

test('progress renderers show done/total, rate, ETA and metrics', () => {
  assert.equal(formatDuration(75), '1:15');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(NaN), '?');
  const line = describeProgress(
    { stage: 'train', done: 50, total: 100, unit: 'img', metrics: { loss: 0.5 } },
    new ProgressClock(),
    10,
  );
  assert.match(line, /^train █████░░░░░ 50\/100 50% .* img\/s .*loss 0\.5000$/);
  const out: string[] = [];
  const cb = htmlProgress({ html: (s) => out.push(s) }, { intervalMs: 1e9 });
  cb({ stage: 'a<b', done: 1, total: 10 });
  cb({ stage: 'a<b', done: 2, total: 10 });
  cb({ stage: 'a<b', done: 10, total: 10 });
  assert.equal(out.length, 2, 'first event, then throttled until completion');
  assert.ok(out[1].includes('a&lt;b') && out[1].includes('10/10 (100%)'));
});

test('the index page lists each report with its date, commit, parameters, headline numbers and run time', () => {
  const p = provenance({
    backend: 'wasm',
    seed: 1,
    parameters: {},
    dataChecksums: {},
    stages: [{ name: 'a', seconds: 60 }],
  });
  const results = {
    notebook: '02-x',
    quick: true,
    parameters: { k: 75, layers: ['a', 'b'] },
    results: {
      clean: { n: 10, dnnAccuracy: 0.9, dknnAccuracy: 0.8, meanCredibility: 0.5 },
      testAccuracy: 0.98,
      nested: { auc: 0.75 },
    },
    provenance: p,
    tables: {},
  };
  assert.deepEqual(headlineNumbers(results.results), [
    'clean: DNN 0.9000, DkNN 0.8000, credibility 0.5000 (n 10)',
    'testAccuracy 0.9800',
    'nested.auc 0.7500',
  ]);
  const page = reportIndexHtml([
    { notebook: '02-x', href: '02-x.html', results, seconds: 90, status: 'ok' },
    { notebook: '03-<y>', href: '03-y.html', results: null, seconds: null, status: 'failed' },
  ]);
  assert.match(page, /<a href="02-x.html">02-x<\/a>/);
  assert.match(page, /k=75 layers=a,b/);
  assert.match(page, /1\.5 min/);
  assert.match(page, /03-&lt;y&gt;<\/a> <b>\(failed\)<\/b>/);
  assert.ok(!page.includes('<script'), 'self-contained, no script');
  const withChanges = {
    ...results,
    quick: false,
    parameters: { k: 50, changes: [{ name: 'k', value: 50, default: 75, setBy: 'DKNN_K' }] },
    headline: { 'DkNN accuracy': 0.9876, 'ROC area': 'n/a' },
  };
  const page2 = reportIndexHtml([
    { notebook: '05-z', href: '05-z.html', results: withChanges, seconds: 6, status: 'ok' },
  ]);
  assert.match(page2, /<td>full<\/td>/);
  assert.match(page2, /k=50 \(notebook: 75\)/);
  assert.match(page2, /<li>DkNN accuracy: 0\.9876<\/li><li>ROC area: n\/a<\/li>/, 'the stated headline numbers');
  const defaults = { ...withChanges, parameters: { k: 75, changes: [] } };
  assert.match(
    reportIndexHtml([{ notebook: 'n', href: 'n.html', results: defaults, seconds: 1, status: 'ok' }]),
    /the notebook's values/,
  );
});

test('parameters lists what differs from the defaults and what set it; the banner says quick mode', () => {
  const defaults = { k: 75, layers: ['a', 'b'], trainSubset: 60000 };
  const full = parameters(defaults, { env: {} });
  assert.deepEqual(full.changes, []);
  assert.match(parametersBanner(full).html, /full size, with the values in the cell above/);
  const quick = parameters(defaults, {
    quick: { trainSubset: 5000 },
    env: { DKNN_QUICK: '1', DKNN_K: '50', DKNN_LAYERS: 'a,b' },
  });
  assert.deepEqual(quick.changes, [
    { name: 'k', value: 50, default: 75, setBy: 'DKNN_K' },
    { name: 'trainSubset', value: 5000, default: 60000, setBy: 'quick mode' },
  ]);
  const banner = parametersBanner(quick).html;
  assert.match(banner, /Quick mode/);
  assert.match(banner, /<code>k<\/code><\/td><td><b>50<\/b><\/td><td>75<\/td><td>DKNN_K<\/td>/);
  assert.match(
    parametersBanner(parameters(defaults, { env: { DKNN_K: '10' } })).html,
    /This run differs from the notebook/,
  );
});

test('show in a script prints text and keeps every item in one HTML page with plotly once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dknn-show-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(join(__dirname, '..', '..', 'lib'), join(dir, 'node_modules', 'dknn-ts'));
  try {
    const script = [
      "import * as dk from 'dknn-ts';",
      "dk.show('**first** words', dk.table([{ name: 'a<b', value: 1.5 }], { caption: 'T' }));",
      "dk.show({ data: [{ type: 'bar', y: [1, 2] }], layout: { title: { text: 'bars' } } });",
    ].join('\n');
    const out = execFileSync(
      join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx'),
      ['--input-type=module', '-e', script],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, DKNN_SHOW_FILE: '' },
      },
    );
    const page = join(dir, 'dknn-output.html');
    assert.match(
      out,
      new RegExp(`^\\(dk\\.show: not in a notebook kernel; printing text here and writing everything to ${page}\\)`),
    );
    assert.match(out, /\*\*first\*\* words\nT\nname \| value\na<b \| 1\.5000\n\[figure: see .*dknn-output\.html\]\n$/);
    const text = readFileSync(page, 'utf8');
    assert.equal(text.split('window.define = undefined').length, 2, 'the bundle once, in the head');
    assert.match(text, /<td>a&lt;b<\/td>/);
    assert.match(text, /class="dknn-figure"/);
    assert.match(text, /&lt;|\*\*first\*\* words/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
