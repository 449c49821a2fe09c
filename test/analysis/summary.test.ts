import { test } from 'node:test';
import assert from 'node:assert/strict';
import { perInputColumns, summarizePrediction } from '../../lib/analysis/summary';
import { correctlyClassified, leastCredible, misclassified } from '../../lib/analysis/select';
import { NotFittedError, NOT_FITTED_SENTENCES } from '../../lib/util/errors';
import { fakePrediction } from '../helpers/tiny';
import { summaryTable, summaryRecords } from '../../lib/plots/summary-table';
import { dataFrame } from '../../lib/plots/dataframe';

// Four inputs, true labels 0, 1, 2, 0.
const labels = [0, 1, 2, 0];
const pred = fakePrediction([
  { pred: 0, cred: 0.9, dnn: 0, dnnConf: 1.0, conf: 0.8 }, // both right
  { pred: 1, cred: 0.05, dnn: 2, dnnConf: 0.6, conf: 0.5 }, // DkNN right, DNN wrong
  { pred: 1, cred: 0.02, dnn: 1, dnnConf: 0.9, conf: 0.4 }, // both wrong
  { pred: 0, cred: 0.5, dnn: 0, dnnConf: 0.7, conf: 0.9 }, // both right
]);

test('summarizePrediction gives the hand-computed accuracies, means, low-credibility share and ECEs', () => {
  const s = summarizePrediction(pred, labels);
  assert.equal(s.n, 4);
  assert.equal(s.dnnAccuracy, 0.5);
  assert.equal(s.dknnAccuracy, 0.75);
  assert.equal(s.dnnCorrect, 2);
  assert.equal(s.dknnCorrect, 3);
  assert.ok(Math.abs(s.meanCredibility - (0.9 + 0.05 + 0.02 + 0.5) / 4) < 1e-12);
  assert.ok(Math.abs(s.meanConfidence - 0.65) < 1e-12);
  assert.ok(Math.abs(s.meanDnnConfidence - (1 + 0.6 + 0.9 + 0.7) / 4) < 1e-7);
  assert.equal(s.lowCredibilityShare, 0.5, 'credibility 0.05 and 0.02 are below 0.1');
  assert.ok(Math.abs(s.meanCredibilityCorrect - (0.9 + 0.05 + 0.5) / 3) < 1e-12);
  assert.equal(s.meanCredibilityWrong, 0.02);
  // Credibility bins: 0.02 (wrong) and 0.05 (right) share bin 0: |0.5 − 0.035|; 0.5 and 0.9 are right, alone in their bins.
  const ece = (2 / 4) * Math.abs(0.5 - 0.035) + (1 / 4) * Math.abs(1 - 0.5) + (1 / 4) * Math.abs(1 - 0.9);
  assert.ok(Math.abs(s.dknnEce - ece) < 1e-12, `ECE ${s.dknnEce} vs ${ece}`);
  assert.equal(s.formula, 'reference');
  assert.equal(summarizePrediction(pred, labels, { lowCredibility: 0.6 }).lowCredibilityShare, 0.75);
});

test('summarizePrediction on the first rows only; bad rows and too few labels are refused', () => {
  const head = summarizePrediction(pred, labels, { rows: 2 });
  assert.equal(head.n, 2);
  assert.equal(head.dnnAccuracy, 0.5);
  assert.equal(head.dknnAccuracy, 1);
  assert.ok(Number.isNaN(head.meanCredibilityWrong), 'no wrong prediction among them');
  assert.throws(() => summarizePrediction(pred, labels, { rows: 5 }), /rows must be an integer in 1…4, found 5/);
  assert.throws(() => summarizePrediction(pred, [0, 1]), /expected at least 4 labels, found 2/);
});

test('summaryTable shows each set with the published numbers beside it and names the p-value formula', () => {
  const s = summarizePrediction(pred, labels);
  const rows = summaryRecords([
    {
      name: 'clean',
      summary: s,
      reference: { dknnAccuracy: 0.988, lowCredibilityShare: 0.66, source: 'CleverHans run' },
    },
    { name: 'other', summary: s },
  ]);
  assert.equal(rows[0]['published DNN / DkNN accuracy'], '– / 98.8 %');
  assert.equal(rows[0]['published credibility < 0.1'], '66.0 %');
  assert.equal(rows[1]['published by'], '');
  const two = summaryRecords([
    {
      name: 'fgsm',
      summary: s,
      reference: [
        { dknnAccuracy: 0.335, source: 'run' },
        { dnnAccuracy: 0.271, dknnAccuracy: 0.549, source: 'paper' },
      ],
    },
  ]);
  assert.equal(two[0]['published DNN / DkNN accuracy'], '– / 33.5 %; 27.1 % / 54.9 %');
  assert.equal(two[0]['published by'], 'run; paper');
  const h = summaryTable([{ name: 'clean', summary: s }]).html;
  assert.match(h, /DkNN: reference p-values/);
  assert.ok(!h.includes('published'), 'no reference columns when no row has one');
  assert.throws(() => summaryTable([]), /expected at least one row/);
});

test('perInputColumns lists every input with its source index and class names; dataFrame sorts them', () => {
  const cols = perInputColumns(pred, labels, { index: 750, classNames: ['a', 'b', 'c'] });
  assert.deepEqual(Array.from(cols.inputIndex as Int32Array), [750, 751, 752, 753]);
  assert.deepEqual(Array.from(cols.correct as Uint8Array), [1, 1, 0, 1]);
  assert.deepEqual(Array.from(cols.dnnCorrect as Uint8Array), [1, 0, 0, 1]);
  assert.deepEqual(cols.predictionName, ['a', 'b', 'b', 'a']);
  assert.deepEqual(
    Array.from(perInputColumns(pred, labels, { index: [9, 8, 7, 6] }).inputIndex as Int32Array),
    [9, 8, 7, 6],
  );
  assert.throws(() => perInputColumns(pred, [0]), /expected 4 labels \(one per input\), found 1/);
  const df = dataFrame(cols).sortValues('credibility');
  assert.deepEqual(df['inputIndex'].values, [752, 751, 753, 750]);
});

test('input selection: least credible (ties by row), misclassified, correct', () => {
  assert.deepEqual(leastCredible(pred, 2), [2, 1]);
  assert.deepEqual(leastCredible(pred, 10), [2, 1, 3, 0]);
  assert.deepEqual(misclassified(pred, labels), [2]);
  assert.deepEqual(misclassified(pred, labels, { count: Infinity, by: 'dnn' }), [1, 2], 'by the DNN');
  assert.deepEqual(correctlyClassified(pred, labels, { count: 2 }), [0, 1]);
  assert.throws(() => leastCredible(pred, -1), /count must be a non-negative integer/);
  const tied = fakePrediction([
    { pred: 0, cred: 0.3, dnn: 0, dnnConf: 1 },
    { pred: 0, cred: 0.3, dnn: 0, dnnConf: 1 },
  ]);
  assert.deepEqual(leastCredible(tied, 2), [0, 1]);
});

test('NotFittedError carries the step and its fixed sentence', () => {
  const e = new NotFittedError('predict');
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'NotFittedError');
  assert.equal(e.step, 'predict');
  assert.equal(e.message, NOT_FITTED_SENTENCES.predict);
});
