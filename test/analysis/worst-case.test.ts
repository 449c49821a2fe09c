import { test } from 'node:test';
import assert from 'node:assert/strict';
import { worstCaseOverAttacks } from '../../lib/analysis/worst-case';

const run = (name: string, predictions: number[], credibility: number[]) => ({
  name,
  prediction: {
    n: predictions.length,
    predictions: Int32Array.from(predictions),
    credibility: Float64Array.from(credibility),
  },
});

test('an input is robust only when every attack leaves the DkNN right; the kept example is the most credible fooling one', () => {
  const labels = [0, 1, 2, 3, 4];
  const guided = run('guided', [0, 7, 2, 3, 9], [0.5, 0.2, 0.9, 0.4, 0.05]);
  const bim = run('bim', [0, 1, 5, 6, 8], [0.6, 0.3, 0.1, 0.3, 0.3]);
  const w = worstCaseOverAttacks([guided, bim], labels);
  // Input 0: both right → guided's. 1: guided fools. 2: bim fools. 3: bim fools (0.3). 4: both fool, bim more credible.
  assert.deepEqual(Array.from(w.chosen), [0, 0, 1, 1, 1]);
  assert.equal(w.dknnAccuracy, 1 / 5);
  assert.ok(Math.abs(w.meanCredibility - (0.5 + 0.2 + 0.1 + 0.3 + 0.3) / 5) < 1e-7);
  assert.equal(w.credibleShare, 1);
  assert.deepEqual(w.keptFrom, { guided: 2, bim: 3 });
  // Never more accurate than the strongest single attack.
  const single = (r: typeof guided) => r.prediction.predictions.filter((p, i) => p === labels[i]).length / 5;
  assert.ok(w.dknnAccuracy <= Math.min(single(guided), single(bim)));
});

test('worst case: runs on other inputs and an empty list are refused', () => {
  assert.throws(() => worstCaseOverAttacks([], [0]), /expected at least one attack run, found none/);
  assert.throws(
    () => worstCaseOverAttacks([run('a', [0, 1], [1, 1])], [0, 1, 2]),
    /run "a" covers 2 inputs, the labels 3/,
  );
});
