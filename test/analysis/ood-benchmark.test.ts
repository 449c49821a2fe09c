import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareDetectors, detectorVerdict, ranks } from '../../lib/analysis/ood-benchmark';
import { oodMetrics } from '../../lib/metrics/detection';
import { threeDetectors } from '../helpers/ood-detectors';

const f = (xs: number[]) => Float64Array.from(xs);

test('ranks: competition ranks, equal values share the best', () => {
  assert.deepEqual(ranks([0.5, 0.9, 0.5, 0.1], 'higher'), [2, 1, 2, 4]);
  assert.deepEqual(ranks([0.5, 0.9, 0.5, 0.1], 'lower'), [2, 4, 2, 1]);
});

test('compareDetectors: a row per detector and set with the four metrics, AUROC ranks and the best per metric', () => {
  const rows = threeDetectors();
  assert.equal(rows.length, 9);
  const at = (d: string, s: string) => rows.find((r) => r.detector === d && r.set === s)!;
  assert.deepEqual(
    {
      auroc: at('a', 'far1').auroc,
      auprIn: at('a', 'far1').auprIn,
      auprOut: at('a', 'far1').auprOut,
      fpr95: at('a', 'far1').fpr95,
    },
    oodMetrics([0.9, 0.8, 0.7, 0.6], [0.75, 0.5, 0.3]),
  );
  assert.equal(at('credibility', 'far1').auroc, 9 / 12);
  assert.equal(at('b', 'near1').auroc, 4 / 8);
  assert.deepEqual(
    ['a', 'b', 'credibility'].map((d) => at(d, 'far1').rank),
    [2, 1, 3],
  );
  assert.deepEqual(
    ['a', 'b', 'credibility'].map((d) => at(d, 'near1').rank),
    [1, 3, 1],
    'a tie shares rank 1',
  );
  assert.deepEqual(
    ['a', 'b', 'credibility'].map((d) => at(d, 'near1').best.auroc),
    [true, false, true],
  );
  assert.deepEqual(
    ['a', 'b', 'credibility'].map((d) => at(d, 'far1').best.fpr95),
    [false, true, false],
    'FPR@95: lower is better',
  );
  assert.equal(at('a', 'ctrl').rank, null, 'a control set is not ranked');
  assert.ok(rows.filter((r) => r.set === 'ctrl').every((r) => !Object.values(r.best).some(Boolean)));
  assert.equal(at('b', 'far1').label, 'B');
  assert.equal(at('b', 'far1').n, 3);
  assert.equal(at('b', 'far1').parameter, 90);
});

test('compareDetectors: a missing detector or a repeated set is named', () => {
  const inDist = { a: f([1, 2]), b: f([1, 2]) };
  assert.throws(
    () => compareDetectors({ inDist, sets: [{ name: 'x', scores: { a: f([0]) } }] }),
    /set x has no scores of detector b/,
  );
  const s = { name: 'x', scores: inDist };
  assert.throws(() => compareDetectors({ inDist, sets: [s, s] }), /set "x" is listed twice/);
  assert.throws(() => compareDetectors({ inDist: {}, sets: [] }), /expected at least one detector, found none/);
});

test('detectorVerdict: means over near and far sets, the far ranking, and where the focus wins and loses', () => {
  const v = detectorVerdict(threeDetectors());
  assert.equal(v.focus.detector, 'credibility');
  assert.equal(v.focus.far!.auroc, 9 / 12);
  assert.equal(v.focus.near!.auroc, 1);
  assert.equal(v.focus.farRank, 3);
  assert.equal(v.farBest!.detector, 'b');
  assert.deepEqual(v.farSets, ['far1']);
  assert.deepEqual(v.nearSets, ['near1']);
  assert.deepEqual(v.wins, [{ set: 'near1', group: 'near', auroc: 1, other: { detector: 'a', label: 'A', auroc: 1 } }]);
  assert.deepEqual(v.losses, [
    { set: 'far1', group: 'far', auroc: 9 / 12, other: { detector: 'b', label: 'B', auroc: 1 } },
  ]);
  assert.deepEqual(
    v.summaries.map((s) => s.wins),
    [1, 1, 1],
  );
  assert.deepEqual(v.farGap, [{ set: 'far1', difference: 1 - 9 / 12 }], 'B minus the credibility on each far set');
  assert.throws(
    () => detectorVerdict(threeDetectors(), { focus: 'energy' }),
    /no rows of detector energy; the rows have a, b, credibility/,
  );
});
