/**
 * The tweak panel's payload, decoded as the page decodes it, re-scores exactly as `DkNN.rescore`;
 * bad inputs are refused with what was expected and found. (The page itself: test/browser/tweak-panel.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { initBackend } from '../../lib/engine/backend';
import { DkNN } from '../../lib/dknn/dknn';
import type { DkNNPrediction, LayerNeighbors } from '../../lib/dknn/types';
import { rescorePrediction, type RescoreBasis } from '../../lib/dknn/rescore';
import { tweakPanel, tweakPayload } from '../../lib/plots/tweak-panel';
import { decodePayload, tweakView } from '../../lib/plots/tweak-page';
import { blobs, tinyModel } from '../helpers/tiny';

const root = resolve(__dirname, '..', '..');
let dknn: DkNN;
let pred: DkNNPrediction;
const x = blobs(40, 3, 0.8);

test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
  dknn = new DkNN(tinyModel(12), { layers: ['flat', 'hidden', 'logits'], k: 9, cacheDir: false, onWarning: () => {} });
  await dknn.fit(blobs(90, 1, 0.8));
  await dknn.calibrate(blobs(60, 2, 0.8));
  pred = await dknn.predict(x);
});

test('the decoded payload re-scores as DkNN.rescore: predictions, p-values, credibility, every k, layers and formula', () => {
  const state = decodePayload(tweakPayload(dknn.rescoreBasis, pred, { labels: x.labels }));
  for (const k of [1, 4, 9])
    for (const layers of [['flat', 'hidden', 'logits'], ['logits', 'hidden'], ['flat']])
      for (const formula of ['reference', 'conformal'] as const) {
        const what = JSON.stringify({ k, layers, formula });
        let want: DkNNPrediction;
        try {
          want = dknn.rescore(pred, { k, layers, formula });
        } catch (e) {
          assert.throws(() => tweakView(state, { k, layers, formula }), { message: (e as Error).message }, what);
          continue;
        }
        const got = tweakView(state, { k, layers, formula }).prediction;
        assert.deepEqual(got.predictions, want.predictions, what);
        assert.deepEqual(got.pValues, want.pValues, what);
        assert.deepEqual(got.credibility, want.credibility, what);
        assert.deepEqual(got.confidence, want.confidence, what);
        assert.deepEqual(got.nonconformity, want.nonconformity, what);
        assert.deepEqual(got.dnnConfidence, want.dnnConfidence, what);
        assert.deepEqual(got.dnnPredictions, want.dnnPredictions, what);
      }
});

test('a smaller kMax embeds fewer neighbors and still re-scores every k up to it', () => {
  const payload = tweakPayload(dknn.rescoreBasis, pred, { labels: x.labels, kMax: 5 });
  assert.equal(Buffer.from(payload.neighborLabels, 'base64').length, 3 * 40 * 5);
  const got = tweakView(decodePayload(payload), { k: 5, layers: ['hidden'], formula: 'conformal' }).prediction;
  assert.deepEqual(got.pValues, dknn.rescore(pred, { k: 5, layers: ['hidden'], formula: 'conformal' }).pValues);
  assert.throws(
    () => tweakView(decodePayload(payload), { k: 6, layers: ['hidden'], formula: 'conformal' }),
    /k must be an integer in 1…5/,
  );
});

test('more than 127 classes are packed as int16 and re-score the same', () => {
  const C = 300;
  const lists = (rows: number, seed: number): LayerNeighbors[] =>
    ['a', 'b'].map((layer, l) => ({
      layer,
      indices: Int32Array.from({ length: rows * 4 }, (_, i) => (i * 37 + seed + l * 11) % 900),
      distances: new Float32Array(rows * 4),
      rows,
      k: 4,
    }));
  const basis: RescoreBasis = {
    layers: ['a', 'b'],
    k: 4,
    numClasses: C,
    formula: 'conformal',
    missing: 'disagree',
    trainLabels: Int32Array.from({ length: 900 }, (_, t) => (t * 7) % C),
    calibNeighbors: lists(20, 1),
    calibLabels: Int32Array.from({ length: 20 }, (_, i) => (i * 29) % C),
  };
  const searched = { ...pred, neighbors: lists(6, 2), n: 6, numClasses: C };
  searched.dnnPredictions = Int32Array.from({ length: 6 }, (_, i) => 250 + i);
  searched.dnnConfidence = new Float32Array(6).fill(0.5);
  const labels = Int32Array.from({ length: 6 }, (_, i) => 290 - i);
  const payload = tweakPayload(basis, searched, { labels });
  assert.equal(payload.labelType, 'int16');
  const state = decodePayload(payload);
  assert.deepEqual(state.labels, labels);
  assert.deepEqual(state.searched.dnnPredictions, searched.dnnPredictions);
  for (const k of [1, 4]) {
    const want = rescorePrediction(basis, searched, { k, layers: ['b'] });
    assert.deepEqual(tweakView(state, { k, layers: ['b'], formula: 'conformal' }).prediction.pValues, want.pValues);
  }
});

test('bad inputs are refused: kMax, labels, a prediction of another DkNN, a damaged payload', () => {
  const basis = dknn.rescoreBasis;
  assert.throws(
    () => tweakPayload(basis, pred, { labels: x.labels, kMax: 10 }),
    /kMax must be an integer in 1…9 \(the DkNN's k\), found 10/,
  );
  assert.throws(() => tweakPayload(basis, pred, { labels: x.labels.subarray(1) }), /expected 40 labels.*found 39/);
  assert.throws(
    () => tweakPayload(basis, pred, { labels: Uint8Array.from(x.labels, () => 3) }),
    /labels\[0\]: expected an integer in 0…2, found 3/,
  );
  const other = { ...pred, neighbors: pred.neighbors.slice(1) };
  assert.throws(
    () => tweakPayload(basis, other, { labels: x.labels }),
    /no 9-neighbor list of layer flat: was it made by this DkNN\?/,
  );
  const payload = tweakPayload(basis, pred, { labels: x.labels });
  assert.throws(
    () => decodePayload({ ...payload, labels: payload.calibLabels }),
    /labels holds 60 bytes, expected 40 int8 = 40/,
  );
  assert.throws(() => tweakPanel(dknn, pred, { labels: x.labels, k: 12 }), /k must be an integer in 1…9/);
});

test('the panel embeds the packed labels, the page script and the first table', () => {
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build-page-bundle.mjs')], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const h = tweakPanel(dknn, pred, { labels: x.labels, k: 4, name: 'blobs' }).html;
  const has = (s: string) => assert.ok(h.includes(s), `the panel lacks ${s}`);
  has('var __dknnTweak=');
  has(`"neighborLabels":"${tweakPayload(dknn.rescoreBasis, pred, { labels: x.labels }).neighborLabels}"`);
  has(`DkNN accuracy</th>`);
  has(`blobs, k = 4, layers flat, hidden, logits`);
});
