import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adversarialGallery, imageDataUri, neighborGallery } from '../../lib/plots/gallery';
import { PALETTE } from '../../lib/plots/palette';

const BORDER = { agree: PALETTE.green, disagree: PALETTE.red, none: PALETTE.light };
import { knnBenchTable, recallTimeFigures, type KnnBenchResults, type KnnBenchRow } from '../../lib/plots/knn-bench';
import {
  agreementScatterFigure,
  indexComparisonTable,
  probesPerLayer,
  recallPerLayerTable,
  type IndexComparison,
} from '../../lib/plots/comparison';
import { adversarialSetTable, classCountTable } from '../../lib/plots/tables';
import {
  correctWrongHistogram,
  credibilityHistogram,
  reliabilityComparison,
  sampleGrid,
} from '../../lib/plots/dknn-figures';
import { blobs, fakePrediction } from '../helpers/tiny';
import type { DkNNInfo } from '../../lib/dknn/types';

/** Three 2×3 RGB images: pixel values i / 10 for image i. */
function rgb(n: number) {
  return {
    images: Float32Array.from({ length: n * 18 }, (_, j) => Math.floor(j / 18) / 10),
    n,
    height: 2,
    width: 3,
    channels: 3,
    labels: Uint8Array.from({ length: n }, (_, i) => i % 3),
  };
}

function pngSize(uri: string): [number, number] {
  const png = Buffer.from(uri.replace('data:image/png;base64,', ''), 'base64');
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

test('imageDataUri encodes one image of any shape (RGB here) as a scaled PNG', () => {
  assert.deepEqual(pngSize(imageDataUri(rgb(2), 1, 3)), [9, 6]);
  assert.throws(() => imageDataUri(rgb(2), 2), /image 2 is outside the 2 images given/);
  assert.throws(() => imageDataUri({ ...rgb(1), channels: 2 }, 0), /images must have 1 or 3 channels, found 2/);
});

test('neighborGallery: the input then its neighbors per layer, labels by name, agreeing neighbors green, missing ones empty', () => {
  const train = rgb(4); // labels 0 1 2 0
  const inputs = { ...rgb(2), labels: Uint8Array.from([0, 2]) };
  const pred = fakePrediction([
    { pred: 0, cred: 0.9, dnn: 0, dnnConf: 0.99, neighbors: [0, 3, 1] },
    { pred: 2, cred: 0.1, dnn: 1, dnnConf: 0.8, neighbors: [2, -1, -1] },
  ]);
  const names = ['cat', 'dog', 'eel'];
  const one = neighborGallery(pred, { rows: 0, inputs, train, classNames: names, indexOffset: 100 }).html;
  assert.match(one, /<b>input 100<\/b> — true cat; DNN cat \(softmax 0\.990\); DkNN cat \(credibility 0\.900/);
  assert.equal((one.match(/<img /g) ?? []).length, 4, 'input + 3 neighbors');
  assert.equal(
    (one.match(new RegExp(`border:3px solid ${BORDER.agree}`, 'g')) ?? []).length,
    2,
    'neighbors 0 and 3 are cats',
  );
  assert.equal(
    (one.match(new RegExp(`border:3px solid ${BORDER.disagree}`, 'g')) ?? []).length,
    1,
    'neighbor 1 is a dog',
  );
  assert.match(one, /hidden \(2\/3 agree\)/);
  assert.match(one, /dog · 0\.300/, 'label and squared distance under each neighbor');
  const both = neighborGallery(pred, { rows: [0, 1], inputs, train, classNames: names, perLayer: 2 }).html;
  assert.match(both, /input 1<\/b> — true eel; DNN dog/);
  assert.ok(
    both.includes('missing') && both.includes(`border:3px solid ${BORDER.none};width:6px;height:4px`),
    'a missing neighbor is an empty tile of the image size',
  );
  assert.throws(() => neighborGallery(pred, { rows: 2, inputs, train }), /row 2 is outside the 2 predictions/);
  assert.throws(
    () => neighborGallery(pred, { rows: 0, inputs: { ...rgb(3), labels: [0, 0, 0] }, train }),
    /expected the 2 inputs that were predicted, found 3/,
  );
});

test('adversarialGallery: one column per input, one row per set, DkNN right in green', () => {
  const clean = fakePrediction([
    { pred: 0, cred: 0.9, dnn: 0, dnnConf: 1 },
    { pred: 1, cred: 0.8, dnn: 1, dnnConf: 1 },
  ]);
  const adv = fakePrediction([
    { pred: 2, cred: 0.05, dnn: 2, dnnConf: 0.97 },
    { pred: 1, cred: 0.3, dnn: 0, dnnConf: 0.9 },
  ]);
  const h = adversarialGallery(
    [
      { name: 'clean', images: rgb(2), prediction: clean },
      { name: 'FGSM', images: rgb(2), prediction: adv },
    ],
    [0, 1],
    { count: 5, indexOffset: 750 },
  ).html;
  assert.equal((h.match(/<img /g) ?? []).length, 4, 'count is capped by the sets');
  assert.match(h, /input 750 \(0\)<\/th><th style="font-size:11px">input 751 \(1\)/);
  assert.match(h, /DNN 2 \(0\.97\) · DkNN 2 \(0\.05\)/);
  assert.equal((h.match(new RegExp(BORDER.disagree, 'g')) ?? []).length, 1);
  assert.throws(() => adversarialGallery([], [0]), /at least one set/);
});

const row = (over: Partial<KnnBenchRow>): KnnBenchRow => ({
  layer: 'L1',
  dim: 8,
  method: 'lsh-default',
  configuration: 'c',
  numProbes: null,
  anchorLibrary: null,
  anchorData: null,
  anchorPreset: null,
  buildSeconds: 1,
  querySeconds: 1,
  recall: 0.9,
  avgUniqueCandidates: null,
  buildThreads: 1,
  measured: 'now',
  ...over,
});

test('recallTimeFigures: one figure per layer, the probes curve labeled from numProbes, same-data FALCONN rows as open symbols', () => {
  const bench: KnnBenchResults = {
    section: 'knn-backends',
    description: 'd',
    notes: [],
    extra: { trainN: 100, nq: 10, k: 5 },
    meta: { commit: 'abc', date: '2026-11-29' },
    rows: [
      row({ numProbes: 200, querySeconds: 2, recall: 0.95 }),
      row({ numProbes: 10, querySeconds: 0.5, recall: 0.6 }),
      row({ method: 'exact', recall: 1, numProbes: null }),
      row({ method: 'hnsw', recall: 0.99 }),
      row({
        method: 'anchor',
        anchorLibrary: 'falconn',
        anchorData: 'same',
        anchorPreset: 'default',
        numProbes: 10,
        recall: 0.62,
      }),
      row({ method: 'anchor', anchorLibrary: 'falconn', anchorData: 'given', anchorPreset: 'paper', recall: 0.99 }),
      row({ layer: 'L2', method: 'exact', recall: 1 }),
    ],
  };
  const figs = recallTimeFigures(bench);
  assert.equal(figs.length, 2);
  const t = figs[0].data;
  assert.deepEqual(
    t.map((x) => x.name),
    ['LSH, FALCONN defaults (probes)', 'HNSW (hnswlib)', 'exact', 'FALCONN C++, l 10 (same data)'],
  );
  assert.deepEqual(t[0].x, [50, 200], 'ms per query, sorted by time');
  assert.deepEqual(t[0].text, ['10', '200']);
  assert.equal((t[3].marker as { symbol: string }).symbol, 'circle-open');
  assert.match(
    String((figs[0].layout.title as { text: string }).text),
    /L1 \(8 dims\): recall@5 vs query time, 100 points, 10 queries/,
  );
  assert.match(knnBenchTable(bench).html, /ms \/ query/);
});

test("comparison builders: probes per layer from the indexes' descriptions, tables and the agreement scatter", () => {
  const a = fakePrediction([
    { pred: 0, cred: 0.9, dnn: 0, dnnConf: 1 },
    { pred: 1, cred: 0.5, dnn: 1, dnnConf: 1 },
  ]);
  const b = fakePrediction([
    { pred: 0, cred: 0.8, dnn: 0, dnnConf: 1 },
    { pred: 2, cred: 0.5, dnn: 1, dnnConf: 1 },
  ]);
  const info = (layers: (Record<string, unknown> | null)[]) =>
    ({ layers: ['L1', 'L2'], k: 3, indexLayers: layers }) as unknown as DkNNInfo;
  const agreement = {
    n: 2,
    identical: 1,
    identicalFraction: 0.5,
    maxCredibilityChange: 0.1,
    meanCredibilityChange: 0.05,
  };
  const cmp: IndexComparison = {
    runs: [
      { key: 'exact', label: 'exact', prediction: a, info: info([{ name: 'exact' }, { name: 'exact' }]), seconds: 1 },
      { key: 'lsh', label: 'LSH', prediction: b, info: info([{ numProbes: 40 }, { numProbes: 7 }]), seconds: 2 },
    ],
    rows: [
      {
        key: 'exact',
        label: 'exact',
        accuracy: 1,
        meanCredibility: 0.7,
        agreement: { ...agreement, identical: 2, identicalFraction: 1 },
        recall: [1, 1],
        missingNeighbors: 0,
        buildSeconds: 0,
        querySeconds: 0,
        seconds: 1,
      },
      {
        key: 'lsh',
        label: 'LSH',
        accuracy: 0.5,
        meanCredibility: 0.65,
        agreement,
        recall: [0.9, 0.8],
        missingNeighbors: 0,
        buildSeconds: 0,
        querySeconds: 0,
        seconds: 2,
      },
    ],
  };
  assert.equal(probesPerLayer(cmp.runs[0]), null);
  assert.deepEqual(probesPerLayer(cmp.runs[1]), [40, 7]);
  assert.match(indexComparisonTable(cmp).html, /<td>1 \/ 2<\/td>.*<td>40 \/ 7<\/td>/);
  assert.match(recallPerLayerTable(cmp).html, /recall@3 L1.*recall@3 L2/);
  const fig = agreementScatterFigure(cmp);
  assert.equal(fig.data.length, 1);
  assert.deepEqual(fig.data[0].x, [0.9, 0.5]);
  assert.ok(Math.abs((fig.data[0].y as number[])[0] + 0.1) < 1e-12);
});

test('tables and DkNN figures take names and shapes from the data', () => {
  const ds = blobs(9, 1);
  assert.match(classCountTable([{ name: 'train', data: ds }]).html, /<th>left<\/th><th>middle<\/th><th>right<\/th>/);
  const png = Buffer.from(sampleGrid(ds, { perClass: 2, scale: 1 }).bytes);
  assert.equal(png.readUInt32BE(16), 2 * 4 + 3 * 2, 'two 4-pixel tiles per row with padding');
  const adv = {
    ...ds,
    images: ds.images.map((v) => v + 0.5),
    attack: { name: 'x', label: 'X ε 0.5', options: {} },
    seconds: 2,
    cached: false,
    cachePath: null,
    workers: 1,
  };
  assert.match(
    adversarialSetTable([{ set: adv, source: ds }]).html,
    /<td>X ε 0\.5<\/td><td>9<\/td><td>2<\/td><td>4\.500<\/td><td>no<\/td><td>2\.000<\/td><td>0\.500<\/td>/,
  );
  const pred = fakePrediction([
    { pred: 0, cred: 0.9, dnn: 0, dnnConf: 1 },
    { pred: 1, cred: 0.2, dnn: 1, dnnConf: 0.7 },
  ]);
  const rel = reliabilityComparison(pred, [0, 0]);
  assert.equal(rel.data.length, 4);
  assert.match(JSON.stringify(rel.layout), /DkNN \(reference p-values\)/);
  const h = correctWrongHistogram(pred, [0, 0]);
  // one correct input at credibility 0.9 (bin 18 of 20), one wrong at 0.2 (bin 4)
  assert.deepEqual(
    h.data.map((d) => (d.y as number[]).map((v, b) => (v > 0 ? `${b}:${v}` : '')).filter(Boolean)),
    [['18:100'], ['4:100']],
  );
  assert.equal(
    credibilityHistogram([
      { name: 'a', prediction: pred },
      { name: 'b', prediction: pred },
    ]).data.length,
    2,
  );
});
