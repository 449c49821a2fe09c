/** Credibility histograms: a score of exactly 1 (a common credibility) counts in the last bin. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binPercents, histogramFigure } from '../../lib/plots/reliability';

test('binPercents: equal bins of [0, 1], the last one closed, as a percentage of the whole group', () => {
  const p = binPercents([0, 0.04, 0.05, 0.5, 0.99, 1, 1, 1.5], 20);
  assert.equal(p.length, 20);
  assert.deepEqual(Array.from(p), [25, 12.5, 0, 0, 0, 0, 0, 0, 0, 0, 12.5, 0, 0, 0, 0, 0, 0, 0, 0, 37.5]);
  assert.deepEqual(Array.from(binPercents([], 4)), [0, 0, 0, 0]);
});

test('histogramFigure draws every value, 1 included: the bars of a group add up to 100 %', () => {
  const values = [1, 1, 1, 0.2, 0.95];
  const fig = histogramFigure([{ name: 'correct', values }], { bins: 10 });
  const trace = fig.data[0] as { type: string; x: number[]; y: number[]; width: number };
  assert.equal(trace.type, 'bar');
  assert.equal(
    trace.y.reduce((a, b) => a + b, 0),
    100,
  );
  assert.equal(trace.y[9], 80);
  assert.ok(Math.abs(trace.x[9] - 0.95) < 1e-12 && trace.width === 0.1);
});
