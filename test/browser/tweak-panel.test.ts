/**
 * The tweak panel in Chromium, as a reader uses it: the panel of a real (tiny) DkNN written into an
 * HTML file, opened from a file:// URL with every other request blocked; for k ∈ {1, 10, 50, kMax},
 * two layer subsets and both formulas, set in the page's controls, the page's summary (accuracy,
 * mean credibility and the rest) equals `summarizePrediction(dknn.rescore(...))`, the table prints
 * them, and the reliability diagram's DkNN bars are redrawn with `rescore`'s numbers; a choice
 * `rescore` refuses shows `rescore`'s message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { initBackend } from '../../lib/engine/backend';
import { DkNN } from '../../lib/dknn/dknn';
import { summarizePrediction } from '../../lib/analysis/summary';
import { reliabilityComparison } from '../../lib/plots/dknn-figures';
import { resetFigureHtml } from '../../lib/plots/plotly';
import { tweakPanel } from '../../lib/plots/tweak-panel';
import { blobs, tinyModel } from '../helpers/tiny';

const root = resolve(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const tmp = mkdtempSync(join(tmpdir(), 'dknn-tweak-page-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const LAYERS = ['flat', 'hidden', 'logits'];
const K_MAX = 60;

interface Choice {
  k: number;
  layers: string[];
  formula: 'reference' | 'conformal';
}

/** Sets the controls as a reader would (number box, layer boxes, formula menu) and waits for the page's next render. */
async function choose(page: Page, id: string, c: Choice): Promise<{ summary: string | undefined; error?: string }> {
  const before = await page.evaluate((id) => Number(document.getElementById(id)!.dataset.renders), id);
  await page.fill(`#${id}-k`, String(c.k));
  await page.dispatchEvent(`#${id}-k`, 'change');
  for (const l of LAYERS) await page.setChecked(`#${id} input[data-layer][value="${l}"]`, c.layers.includes(l));
  await page.selectOption(`#${id}-formula`, c.formula);
  await page.waitForFunction(
    ([id, before]) => Number(document.getElementById(id as string)!.dataset.renders) > (before as number),
    [id, before],
  );
  // Let a render the last control scheduled finish too.
  await page.waitForTimeout(50);
  await page.waitForFunction((id) => {
    const el = document.getElementById(id)!;
    return el.dataset.error !== undefined || el.dataset.renderMs !== undefined;
  }, id);
  return page.evaluate((id) => {
    const el = document.getElementById(id)!;
    return { summary: el.dataset.summary, error: el.dataset.error };
  }, id);
}

test('the page re-scores k, layers and formula as dknn.rescore does, offline', { timeout: 180_000 }, async () => {
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build-page-bundle.mjs')], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  await initBackend({ prefer: ['wasm', 'cpu'] });
  const model = tinyModel(12);
  const dknn = new DkNN(model, { layers: LAYERS, k: K_MAX, cacheDir: false, onWarning: () => {} });
  await dknn.fit(blobs(240, 1, 0.9));
  await dknn.calibrate(blobs(120, 2, 0.9));
  const x = blobs(150, 3, 0.9);
  const pred = await dknn.predict(x);
  resetFigureHtml(); // the page's first figure carries plotly.js
  const panel = tweakPanel(dknn, pred, { labels: x.labels, k: 10, name: 'blobs' });
  const id = /id="(dknn-tweak-[^"]+)"/.exec(panel.html)![1];
  const file = join(tmp, 'panel.html');
  writeFileSync(file, `<!doctype html><html><head><meta charset="utf-8"></head><body>${panel.html}</body></html>`);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction((id) => document.getElementById(id)?.dataset.renders === '0', id);
    await page.waitForFunction((id) => {
      const div = document.getElementById(`${id}-rel`) as unknown as { data?: unknown[] } | null;
      return Array.isArray(div?.data);
    }, id);
    const first = JSON.parse((await page.evaluate((id) => document.getElementById(id)!.dataset.summary, id))!);
    assert.deepEqual(first, JSON.parse(JSON.stringify(summarizePrediction(dknn.rescore(pred, { k: 10 }), x.labels))));

    let compared = 0;
    for (const k of [1, 10, 50, K_MAX])
      for (const layers of [LAYERS, ['hidden', 'logits']])
        for (const formula of ['reference', 'conformal'] as const) {
          const c = { k, layers, formula };
          const what = JSON.stringify(c);
          const got = await choose(page, id, c);
          let want;
          try {
            want = dknn.rescore(pred, c);
          } catch (e) {
            assert.equal(got.error, (e as Error).message, what);
            continue;
          }
          assert.equal(got.error, undefined, what);
          const summary = summarizePrediction(want, x.labels);
          const shown = JSON.parse(got.summary!);
          assert.equal(shown.dknnAccuracy, summary.dknnAccuracy, what);
          assert.equal(shown.meanCredibility, summary.meanCredibility, what);
          assert.deepEqual(shown, JSON.parse(JSON.stringify(summary)), what);
          const cells = await page.$$eval(`#${id}-table td`, (tds) => tds.map((td) => td.textContent));
          const printed = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3)); // as the table prints
          assert.equal(cells[3], printed(summary.dknnAccuracy), `${what}: DkNN accuracy in ${cells}`);
          assert.equal(cells[5], printed(summary.meanCredibility), `${what}: mean credibility in ${cells}`);
          const bars = await page.evaluate((id) => {
            const div = document.getElementById(`${id}-rel`) as unknown as { data: { y: number[] }[] };
            return div.data[2].y;
          }, id);
          assert.deepEqual(bars, reliabilityComparison(want, x.labels).data[2].y, what);
          compared++;
        }
    assert.ok(compared >= 12, `only ${compared} of 16 choices re-scored (the others refused)`);
    // No layer: rescore's own message.
    const none = await choose(page, id, { k: 5, layers: [], formula: 'conformal' });
    assert.match(none.error ?? '', /layers must be a non-empty list/);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
  } finally {
    await browser.close();
    model.dispose();
  }
});
