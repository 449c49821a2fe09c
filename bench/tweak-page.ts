/**
 * `npm run bench -- tweak-page`: how long the tweak panel (lib/plots/tweak-panel.ts) takes in
 * Chromium to re-score and redraw after a change, at notebook 02's full size: 9,250 inputs, 750
 * calibration inputs, 4 layers, kMax 100, 10 classes. The prediction is synthetic (seeded neighbor
 * labels that agree with the true label more often in deeper layers), which is all the page sees:
 * the work per change depends on the sizes, not on the values. Measured, not asserted (the target
 * is 200 ms): per change, from the event in the page to the figures drawn (Plotly.react resolved,
 * then a frame), and the page's own re-score + draw time; the page's size; the load.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { repoRoot } from '../lib/artifacts/repo';
import type { RescoreBasis } from '../lib/dknn/rescore';
import type { DkNNPrediction, LayerNeighbors } from '../lib/dknn/types';
import { resetFigureHtml } from '../lib/plots/plotly';
import { tweakPanel } from '../lib/plots/tweak-panel';
import { createRng } from '../lib/util/random';

const N = 9250;
const CALIB = 750;
const K_MAX = 100;
const C = 10;
const TRAIN = 60000;
const LAYERS = ['ReLU1', 'ReLU3', 'ReLU5', 'logits'];
/** Chance that a neighbor has the input's label, per layer. */
const AGREE = [0.4, 0.5, 0.65, 0.75];
const ROUNDS = 3;

/** Neighbor lists of `labels.length` inputs: training point t has label t % C. */
function lists(labels: Uint8Array, seed: number): LayerNeighbors[] {
  const rng = createRng(seed);
  const rows = labels.length;
  return LAYERS.map((layer, l) => {
    const indices = new Int32Array(rows * K_MAX);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < K_MAX; j++) {
        const label = rng.next() < AGREE[l] ? labels[r] : rng.int(C);
        indices[r * K_MAX + j] = label + C * rng.int(TRAIN / C);
      }
    return { layer, indices, distances: new Float32Array(rows * K_MAX), rows, k: K_MAX };
  });
}

function synthetic(): { basis: RescoreBasis; pred: DkNNPrediction; labels: Uint8Array } {
  const rng = createRng(30);
  const labels = Uint8Array.from({ length: N }, () => rng.int(C));
  const calibLabels = Int32Array.from({ length: CALIB }, () => rng.int(C));
  const basis: RescoreBasis = {
    layers: LAYERS,
    k: K_MAX,
    numClasses: C,
    formula: 'reference',
    missing: 'disagree',
    trainLabels: Int32Array.from({ length: TRAIN }, (_, t) => t % C),
    calibNeighbors: lists(Uint8Array.from(calibLabels), 31),
    calibLabels,
  };
  const pred: DkNNPrediction = {
    predictions: new Int32Array(N),
    credibility: new Float64Array(N),
    confidence: new Float64Array(N),
    pValues: new Float64Array(N * C),
    nonconformity: new Int32Array(N * C),
    knnCounts: new Int32Array(N * C),
    neighbors: lists(labels, 32),
    missingNeighbors: 0,
    dnnPredictions: Int32Array.from(labels, (y) => (rng.next() < 0.99 ? y : (y + 1) % C)),
    dnnConfidence: Float32Array.from({ length: N }, () => 0.9 + 0.1 * rng.next()),
    n: N,
    numClasses: C,
    formula: 'reference',
  };
  return { basis, pred, labels };
}

/** The changes, in order, as a reader makes them. */
const CHANGES: { what: string; k?: number; layers?: string[]; formula?: 'reference' | 'conformal' }[] = [
  { what: 'k 75 → 50', k: 50 },
  { what: 'k 50 → 10', k: 10 },
  { what: 'k 10 → 1', k: 1 },
  { what: 'k 1 → 100', k: 100 },
  { what: 'layers → ReLU5, logits', layers: ['ReLU5', 'logits'] },
  { what: 'formula → conformal', formula: 'conformal' },
  { what: 'layers → all four', layers: LAYERS },
  { what: 'k 100 → 75', k: 75 },
];

/**
 * In the page: makes a change as the controls' events would, resolves when the panel has drawn it
 * (its `data-renders` count moves on) with the milliseconds since the change and the panel's own
 * time. A string, so that no helper of the TypeScript loader appears in it.
 */
const CHANGE_JS = `function (id, c) {
  return new Promise(function (done) {
    var el = document.getElementById(id), before = Number(el.dataset.renders), t = performance.now();
    function fire(node) { node.dispatchEvent(new Event('change')); }
    if (c.k !== undefined) { var k = document.getElementById(id + '-k'); k.value = String(c.k); fire(k); }
    if (c.layers) el.querySelectorAll('input[data-layer]').forEach(function (box) { box.checked = c.layers.indexOf(box.value) >= 0; fire(box); });
    if (c.formula) { var f = document.getElementById(id + '-formula'); f.value = c.formula; fire(f); }
    function wait() {
      if (Number(el.dataset.renders) > before) done({ endToEnd: performance.now() - t, panel: Number(el.dataset.renderMs), compute: Number(el.dataset.computeMs) });
      else requestAnimationFrame(wait);
    }
    requestAnimationFrame(wait);
  });
}`;

export async function benchTweakPage(): Promise<{
  section: string;
  description: string;
  rows: Record<string, string | number>[];
  notes: string[];
}> {
  const built = spawnSync(process.execPath, [join(repoRoot(), 'scripts', 'build-page-bundle.mjs')], {
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`bench tweak-page: the page bundle did not build:\n${built.stderr}`);
  const { basis, pred, labels } = synthetic();
  resetFigureHtml();
  const t0 = performance.now();
  const panel = tweakPanel({ rescoreBasis: basis }, pred, { labels, k: 75, name: 'synthetic' });
  const buildSeconds = (performance.now() - t0) / 1000;
  const id = /id="(dknn-tweak-[^"]+)"/.exec(panel.html)![1];
  const payloadBytes = /<script type="application\/json"[^>]*>([^<]*)<\/script>/.exec(panel.html)![1].length;
  const dir = mkdtempSync(join(tmpdir(), 'dknn-bench-tweak-page-'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  try {
    const file = join(dir, 'panel.html');
    const page = `<!doctype html><html><head><meta charset="utf-8"></head><body>${panel.html}</body></html>`;
    writeFileSync(file, page);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.route('**/*', (r) => (r.request().url().startsWith('file:') ? r.continue() : r.abort()));
    const tab = await context.newPage();
    const tLoad = performance.now();
    await tab.goto(pathToFileURL(file).href);
    await tab.waitForFunction((id) => document.getElementById(id)?.dataset.renders === '0', id, { timeout: 120_000 });
    const loadSeconds = (performance.now() - tLoad) / 1000;
    // The sequence of changes ROUNDS times; per change the median of its rounds.
    const runs: { endToEnd: number; panel: number; compute: number; accuracy: number }[][] = CHANGES.map(() => []);
    for (let round = 0; round < ROUNDS; round++)
      for (const [i, c] of CHANGES.entries()) {
        const m = (await tab.evaluate(`(${CHANGE_JS})(${JSON.stringify(id)}, ${JSON.stringify(c)})`)) as {
          endToEnd: number;
          panel: number;
          compute: number;
        };
        const summary = JSON.parse((await tab.evaluate((id) => document.getElementById(id)!.dataset.summary, id))!);
        runs[i].push({ ...m, accuracy: summary.dknnAccuracy });
      }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const rows = CHANGES.map((c, i) => ({
      change: c.what,
      'event → drawn (ms)': Number(median(runs[i].map((r) => r.endToEnd)).toFixed(1)),
      'slowest of the rounds (ms)': Number(Math.max(...runs[i].map((r) => r.endToEnd)).toFixed(1)),
      're-score + draw (ms)': median(runs[i].map((r) => r.panel)),
      're-score, summary, figure specs (ms)': median(runs[i].map((r) => r.compute)),
      'DkNN accuracy': Number(runs[i][0].accuracy.toFixed(4)),
    }));
    const all = runs.flat().map((r) => r.endToEnd);
    const ms = { median: median(all).toFixed(0), max: Math.max(...all).toFixed(0) };
    return {
      section: 'tweak-page',
      description:
        `The tweak panel in headless Chromium (${N} inputs, ${CALIB} calibration inputs, ${LAYERS.length} layers, kMax ${K_MAX}, ${C} classes, synthetic neighbor labels): ` +
        `each change from the event to the figures drawn, ${CHANGES.length} changes × ${ROUNDS} rounds: median ${ms.median} ms, slowest ${ms.max} ms (target 200 ms)`,
      rows,
      notes: [
        `page: ${(page.length / 1e6).toFixed(2)} MB, of which the embedded payload (base64 JSON) ${(payloadBytes / 1e6).toFixed(2)} MB and plotly.js (inlined once per page) the most of the rest`,
        `building the panel in Node: ${buildSeconds.toFixed(2)} s; opening the page until the panel is ready (decode + first re-score): ${loadSeconds.toFixed(2)} s`,
        'synthetic prediction: the page does the same work for any values of this size; the accuracy column shows the re-score ran',
        'headless Chromium, software rendering (--disable-gpu), on the machine of the run (see meta: cores, load)',
      ],
    };
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
