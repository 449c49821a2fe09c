import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layerEvidence, layerNonconformity, suspiciousLabels } from '../../lib/analysis/evidence';
import { fakePrediction } from '../helpers/tiny';
import { candidateLabelsFigure, neighborLabelsFigure } from '../../lib/plots/evidence';

// Training labels of 6 points; neighbors per input (k = 3), one layer.
const trainLabels = [0, 0, 1, 2, 2, 2];
const pred = fakePrediction([
  { pred: 0, cred: 0.95, dnn: 0, dnnConf: 1, neighbors: [0, 1, 2] }, // labels 0 0 1
  { pred: 2, cred: 0.97, dnn: 1, dnnConf: 1, neighbors: [3, 4, 5] }, // 2 2 2
  { pred: 2, cred: 0.2, dnn: 2, dnnConf: 1, neighbors: [5, -1, 0] }, // 2, missing, 0
]);

test("layerEvidence counts each input's neighbor labels, its candidate labels and the neighbors agreeing with the DNN", () => {
  const [e] = layerEvidence(pred, trainLabels);
  assert.equal(e.layer, 'hidden');
  assert.deepEqual(Array.from(e.counts), [2, 1, 0, 0, 0, 3, 1, 0, 1]);
  assert.deepEqual(Array.from(e.candidates), [2, 1, 2]);
  assert.deepEqual(Array.from(e.agreeWithDnn), [2, 0, 1]);
  assert.throws(() => layerEvidence(pred, [0, 0, 9, 2, 2, 2]), /training label 2 is 9, expected 0…2/);
});

test('layerNonconformity gives α(x, j) = neighbors not labeled j (a missing one disagrees with every class), per layer and summed', () => {
  const e = layerEvidence(pred, trainLabels);
  const rows = layerNonconformity(e, { row: 2, classNames: ['a', 'b', 'c'] });
  assert.deepEqual(rows[0], { layer: 'hidden', 'α(a)': 2, 'α(b)': 3, 'α(c)': 2 });
  assert.deepEqual(rows[1], { layer: 'all layers', 'α(a)': 2, 'α(b)': 3, 'α(c)': 2 });
  assert.throws(() => layerNonconformity(e, { row: 3 }), /row 3 is outside the 3 inputs/);
});

test('suspiciousLabels lists inputs whose label disagrees with a credible prediction, most credible first', () => {
  const s = suspiciousLabels(pred, [0, 1, 0], { minCredibility: 0.9 });
  assert.deepEqual(s.rows, [1], 'input 1: labeled 1, predicted 2 at credibility 0.97; input 2 is not credible');
  assert.deepEqual(suspiciousLabels(pred, [1, 1, 0], { minCredibility: 0.1 }).rows, [1, 0, 2]);
  assert.throws(() => suspiciousLabels(pred, [0]), /expected 3 labels, found 1/);
  assert.throws(() => suspiciousLabels(pred, [0, 1, 0], { minCredibility: 2 }), /minCredibility must be in \[0, 1\]/);
});

test("the layer-wise figures: mean candidates per layer per set, and one input's labels sized by count", () => {
  const e = layerEvidence(pred, trainLabels);
  const f = candidateLabelsFigure([{ name: 'clean', evidence: e }]);
  assert.deepEqual(f.data[0].y, [5 / 3]);
  const g = neighborLabelsFigure(e, { row: 0, dnnPrediction: 0, classNames: ['a', 'b', 'c'] });
  assert.deepEqual(g.data[0].y, ['a']);
  assert.deepEqual(g.data[1].y, ['b']);
  assert.deepEqual(g.data[0].text, ['2 neighbors']);
});
