/**
 * End to end: executes every notebook headless in quick mode (small subsets) on the tslab kernel,
 * exports the self-contained HTML reports, checks the statistical claims each notebook makes at
 * small scale, then opens every report in headless Chromium and checks that the plotly figures
 * rendered and that no script error occurred.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(__dirname, '..', '..');
const outDir = mkdtempSync(join(tmpdir(), 'dknn-reports-'));
const notebooks = readdirSync(join(root, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

test.after(() => rmSync(outDir, { recursive: true, force: true }));

/** The `data-*` attributes of the `<p class="dknn-summary">` a notebook writes in its last cell. */
function summary(name: string): Record<string, string> {
  const nb = JSON.parse(readFileSync(join(outDir, `${name}.ipynb`), 'utf8')) as { cells: { outputs?: { data?: Record<string, string | string[]> }[] }[] };
  for (const cell of nb.cells) {
    for (const o of cell.outputs ?? []) {
      const html = [o.data?.['text/html'] ?? ''].flat().join('');
      const m = /<p class="dknn-summary"([^>]*)>/.exec(html);
      if (m) return Object.fromEntries([...m[1].matchAll(/data-([a-z-]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    }
  }
  assert.fail(`${name}: no dknn-summary output`);
}

test('every notebook executes in quick mode and exports an HTML report', { timeout: 30 * 60_000 }, () => {
  assert.ok(notebooks.length >= 1, 'there are notebooks');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'run-notebooks.mjs'), '--quick', '--out', outDir], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `run-notebooks failed:\n${r.stdout}\n${r.stderr}`);
  for (const nb of notebooks) assert.ok(existsSync(join(outDir, nb.replace('.ipynb', '.html'))), `${nb} has a report`);
});

test('01-train: a quick training run already classifies most test digits', () => {
  const s = summary('01-train');
  assert.equal(s.quick, 'true');
  assert.ok(Number(s['test-accuracy']) >= 0.85, `test accuracy ${s['test-accuracy']} after one quick epoch on 3,000 images`);
});

test('every report renders its plotly figures in Chromium without script errors', { timeout: 10 * 60_000 }, async () => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    for (const nb of notebooks) {
      const name = nb.replace('.ipynb', '');
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('request', (req) => { if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) requests.push(req.url()); });
      await page.goto(`file://${join(outDir, `${name}.html`)}`, { waitUntil: 'load' });
      const figures = await page.locator('.dknn-figure').count();
      assert.ok(figures >= 1, `${name} has figures`);
      await page.waitForFunction((n) => document.querySelectorAll('.dknn-figure .main-svg').length >= n, figures, { timeout: 30_000 });
      const traces = await page.evaluate(() => Array.from(document.querySelectorAll('.dknn-figure')).map((d) => (d as unknown as { data?: unknown[] }).data?.length ?? 0));
      assert.ok(traces.every((t) => t > 0), `${name}: every figure has traces (${traces})`);
      assert.deepEqual(errors, [], `${name}: no script errors`);
      assert.deepEqual(requests, [], `${name}: the report is self-contained (no network requests)`);
      await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
      await page.close();
    }
  } finally {
    await browser.close();
  }
});

test('02-calibrate: the DkNN is accurate on clean data and its credibility separates correct from wrong', () => {
  const s = summary('02-calibrate');
  assert.equal(s.quick, 'true');
  const dknn = Number(s['dknn-accuracy']);
  const dnn = Number(s['dnn-accuracy']);
  assert.ok(dknn >= 0.95, `DkNN accuracy ${dknn} on ${s.n} images (5,000-image kNN database)`);
  assert.ok(dknn >= dnn - 0.02, `DkNN accuracy ${dknn} within 2 points of the DNN's ${dnn}`);
  assert.ok(Number(s['cred-correct']) > Number(s['cred-wrong']) + 0.2, `mean credibility correct ${s['cred-correct']} vs wrong ${s['cred-wrong']}`);
});

test('03-attacks: adversarial examples fool the DNN; the DkNN is more accurate on them and gives them a low credibility', () => {
  const s = summary('03-attacks');
  assert.equal(s.quick, 'true');
  const v = (key: string) => {
    const x = Number(s[key]);
    assert.ok(Number.isFinite(x), `data-${key} = ${s[key]}`);
    return x;
  };
  // Quick mode: 5,000-image kNN database, 500 evaluation images, CW on the first 40 (50 iterations).
  // Measured when written: clean DkNN 0.976, credibility 0.58; FGSM DNN 0.03 / DkNN 0.18, credibility
  // 0.14, 58 % below 0.1; BIM DNN 0.02 / DkNN 0.07, credibility 0.16; CW DNN 0 / DkNN 0.93,
  // credibility 0.25 vs 0.61 clean on the same 40 images.
  assert.ok(v('clean-dknn') >= 0.95, `clean DkNN accuracy ${s['clean-dknn']}`);
  assert.ok(v('fgsm-dnn') < 0.3, `FGSM ε 0.25 fools the DNN: accuracy ${s['fgsm-dnn']}`);
  assert.ok(v('fgsm-dknn') > v('fgsm-dnn') + 0.05, `FGSM: DkNN accuracy ${s['fgsm-dknn']} vs DNN ${s['fgsm-dnn']}`);
  assert.ok(v('fgsm-cred') < 0.5 * v('clean-cred'), `FGSM mean credibility ${s['fgsm-cred']} vs clean ${s['clean-cred']}`);
  assert.ok(v('fgsm-lowcred') > 0.35, `FGSM inputs at credibility < 0.1: ${s['fgsm-lowcred']}`);
  assert.ok(v('bim-dnn') < 0.3, `BIM fools the DNN: accuracy ${s['bim-dnn']}`);
  assert.ok(v('bim-dknn') >= v('bim-dnn'), `BIM: DkNN accuracy ${s['bim-dknn']} vs DNN ${s['bim-dnn']}`);
  assert.ok(v('bim-cred') < 0.5 * v('clean-cred'), `BIM mean credibility ${s['bim-cred']} vs clean ${s['clean-cred']}`);
  assert.ok(v('cw-dnn') < 0.3, `CW fools the DNN: accuracy ${s['cw-dnn']} on ${s['cw-n']} images`);
  assert.ok(v('cw-dknn') >= v('cw-dnn') + 0.3, `CW: DkNN accuracy ${s['cw-dknn']} vs DNN ${s['cw-dnn']}`);
  assert.ok(v('cw-cred') < 0.6 * v('cw-clean-cred'), `CW mean credibility ${s['cw-cred']} vs ${s['cw-clean-cred']} clean (same images)`);
});

test('04-knn-backends: the DkNN with LSH or HNSW gives the exact DkNN\'s predictions', () => {
  const s = summary('04-knn-backends');
  assert.equal(s.quick, 'true');
  // Quick mode: 5,000-image kNN database, 500 evaluation images; LSH AUTO_PRESET (l 10, 10 bits)
  // with probes tuned to recall 0.99 on 200 training points (800/440/60/90 per layer); HNSW M 16 /
  // efConstruction 40 / efSearch 128. Measured when written: LSH 499/500 and HNSW 500/500 identical
  // to exact, mean recall@75 0.986 (LSH) and 0.998 (HNSW), largest |Δ credibility| 0.20 (LSH).
  const agreeLsh = Number(s['agree-lsh']);
  assert.ok(agreeLsh >= 0.98, `LSH DkNN identical to exact on ${agreeLsh} of ${s.n} inputs`);
  assert.ok(Number(s['recall-lsh']) >= 0.95, `LSH recall@75 ${s['recall-lsh']}`);
  if (s['agree-hnsw'] !== 'NaN') assert.ok(Number(s['agree-hnsw']) >= 0.98, `HNSW DkNN identical to exact on ${s['agree-hnsw']} of ${s.n} inputs`);
});
