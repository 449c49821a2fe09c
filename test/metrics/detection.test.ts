import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averagePrecision, fprAtTpr, oodMetrics } from '../../lib/metrics/detection';

const close = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) < 1e-12, `${what}: ${got} vs ${want}`);

// In-distribution scores 0.9 0.8 0.7 0.6, shifted 0.75 0.5 0.3. From the highest score down:
// 0.9 in, 0.8 in, 0.75 out, 0.7 in, 0.6 in, 0.5 out, 0.3 out.
const IN = [0.9, 0.8, 0.7, 0.6];
const OUT = [0.75, 0.5, 0.3];

test('oodMetrics on distinct scores: AUROC, AUPR-in, AUPR-out and FPR@95 as computed by hand', () => {
  const m = oodMetrics(IN, OUT);
  // AUROC: in-out pairs won: 0.9 → 3, 0.8 → 3, 0.7 → 2, 0.6 → 2, of 12.
  close(m.auroc, 10 / 12, 'AUROC');
  // AUPR-in: precision at each in-distribution input: 1/1, 2/2, 3/4, 4/5, each recall step 1/4.
  close(m.auprIn, (1 + 1 + 3 / 4 + 4 / 5) / 4, 'AUPR-in');
  // AUPR-out: negated scores, from 0.3 up: 0.3 out, 0.5 out, 0.6 in, 0.7 in, 0.75 out: 1/1, 2/2, 3/5.
  close(m.auprOut, (1 + 1 + 3 / 5) / 3, 'AUPR-out');
  // 95 % of four in-distribution inputs needs all four: threshold 0.6, which accepts 0.75 of the shifted.
  close(m.fpr95, 1 / 3, 'FPR@95');
});

test('ties: inputs with one score are accepted together, no interpolation between them', () => {
  // in 1, 0.5, 0.5, 0.2; out 0.5, 0.1. Thresholds: 1 (tp 1, fp 0), 0.5 (tp 3, fp 1), 0.2 (tp 4, fp 1), 0.1.
  const m = oodMetrics([1, 0.5, 0.5, 0.2], [0.5, 0.1]);
  close(m.auprIn, (1 / 4) * 1 + (2 / 4) * (3 / 4) + (1 / 4) * (4 / 5), 'AUPR-in with a tie');
  close(m.auroc, (2 + 1 + 2 + 1) / 8, 'AUROC: a tied pair counts ½');
  close(m.fpr95, 1 / 2, 'FPR@95: threshold 0.2 accepts the shifted 0.5');
  const scores = [1, 0.5, 0.5, 0.2, 0.5, 0.1];
  const positives = [1, 1, 1, 1, 0, 0];
  close(fprAtTpr(scores, positives, { tpr: 0.75 }), 1 / 2, 'at 75 %: threshold 0.5, the tied shifted input accepted');
  close(fprAtTpr(scores, positives, { tpr: 0.25 }), 0, 'at 25 %: threshold 1');
  // All scores tied: one threshold, precision = share of positives.
  close(averagePrecision([3, 3, 3, 3], [1, 0, 0, 1]), 1 / 2, 'all tied');
});

test('perfect and reversed detectors; a 95 % rate reached exactly counts as reached', () => {
  const perfect = oodMetrics([5, 4], [1, 0]);
  assert.deepEqual(perfect, { auroc: 1, auprIn: 1, auprOut: 1, fpr95: 0 });
  const reversed = oodMetrics([0, 1], [4, 5]);
  close(reversed.auroc, 0, 'reversed AUROC');
  close(reversed.fpr95, 1, 'reversed FPR@95');
  // 19 of 20 in-distribution inputs (100 … 82) is exactly 95 %: the threshold stops at 82, accepting
  // the shifted 82.5 and not the 81 below it (the 20th in-distribution input) nor the shifted 50.
  const ins = Array.from({ length: 20 }, (_, i) => 100 - i);
  const outs = [82.5, 50];
  close(oodMetrics(ins, outs).fpr95, 1 / 2, 'exactly 95 %: threshold 82');
  close(fprAtTpr([...ins, ...outs], [...ins.map(() => 1), 0, 0], { tpr: 1 }), 1 / 2, 'at 100 %: threshold 81');
});

test('bad inputs are named', () => {
  assert.throws(() => oodMetrics([], [1]), /inScores: expected at least 1 in-distribution score, found 0/);
  assert.throws(() => oodMetrics([1], []), /outScores: expected at least 1 shifted score, found 0/);
  assert.throws(() => oodMetrics([1, NaN], [0]), /inScores\[1\]: expected a number, found NaN/);
  assert.throws(() => fprAtTpr([1, 0], [1, 0], { tpr: 0 }), /tpr: expected a rate in \(0, 1\], found 0/);
  assert.throws(() => averagePrecision([1, 0], [1, 1]), /at least 1 positive and 1 negative/);
});
