import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectorVerdict } from '../../lib/analysis/ood-benchmark';
import { detectorAurocFigure, detectorTable, detectorVerdictText, odinTuningText } from '../../lib/plots/ood-detectors';
import { threeDetectors } from '../helpers/ood-detectors';

/** The cells of each body row of an HTML table. */
function cells(html: string): string[][] {
  const body = html.slice(html.indexOf('<tbody>'));
  return [...body.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td>(.*?)<\/td>/g)].map((c) => c[1]));
}

test('detectorTable: detectors × sets then the near and far means, the best of each ranked column in bold, the focus rank last', () => {
  const t = detectorTable(threeDetectors()).html;
  assert.match(
    t,
    /<th>far1<br><small[^>]*>far<\/small><\/th><th>near1<br><small[^>]*>near<\/small><\/th><th>ctrl<br><small[^>]*>control, not ranked<\/small><\/th><th>near mean/,
  );
  const rows = cells(t);
  assert.equal(rows.length, 4);
  // columns: detector, far1, near1, ctrl, near mean, far mean
  assert.deepEqual(rows[0], ['A', '0.833', '<b>1.000</b>', '0.500', '<b>1.000</b>', '0.833']);
  assert.deepEqual(rows[1], ['B', '<b>1.000</b>', '0.500', '0.500', '0.500', '<b>1.000</b>']);
  assert.deepEqual(rows[2], ['<b>DkNN credibility</b>', '0.750', '<b>1.000</b>', '0.500', '<b>1.000</b>', '0.750']);
  assert.deepEqual(rows[3], [
    '<i>rank of DkNN credibility</i>',
    '<i>3 of 3</i>',
    '<i>1 of 3</i>',
    '<i>–</i>',
    '<i>1 of 3</i>',
    '<i>3 of 3</i>',
  ]);
  const fpr = cells(detectorTable(threeDetectors(), { metric: 'fpr95' }).html);
  // far1, FPR@95: a accepts 0.75 of the shifted at threshold 0.6 (1 of 3); b none; credibility all three (threshold 0).
  assert.deepEqual(
    fpr.map((r) => r[1]),
    ['33.3 %', '<b>0.0 %</b>', '100.0 %', '<i>3 of 3</i>'],
  );
});

test('detectorAurocFigure: a line per detector over the parameter, the focus thicker, chance dotted', () => {
  const fig = detectorAurocFigure(threeDetectors(), { xLabel: 'rotation (degrees)' });
  assert.equal(fig.data.length, 4);
  assert.deepEqual(fig.data[0].x, [0, 30, 90]);
  assert.deepEqual(fig.data[1].y, [0.5, 0.5, 1]);
  assert.equal((fig.data[2].line as { width: number }).width, 4);
  assert.equal((fig.data[0].line as { width: number }).width, 2);
  assert.deepEqual(fig.data[3].y, [0.5, 0.5]);
  assert.deepEqual((fig.layout.xaxis as { tickvals: number[] }).tickvals, [0, 30, 90]);
});

test('detectorVerdictText: the numbers of the verdict in words, wins and losses named', () => {
  const text = detectorVerdictText(detectorVerdict(threeDetectors()));
  assert.equal(
    text,
    "Over the far shift (far1), DkNN credibility's mean AUROC is 0.750, rank 3 of 3: 0.250 below the best, B at 1.000. " +
      'The gap comes from the sets where B is ahead: far1 (by 0.250). ' +
      'Over the near shift (near1) its mean AUROC is 1.000, rank 1 of 3. ' +
      'It has the best AUROC (or shares it) on near1 (1.000 against 1.000 for A). ' +
      'It loses on far1 (0.750 against 1.000 for B).',
  );
});

test('odinTuningText: the chosen parameters and how the choice was made', () => {
  const point = (temperature: number, epsilon: number, fpr95: number, auroc: number) => ({
    temperature,
    epsilon,
    fpr95,
    auroc,
  });
  const tied = {
    best: { temperature: 10, epsilon: 0.002 },
    grid: [point(1, 0, 0.1, 0.9), point(10, 0, 0, 0.98), point(10, 0.002, 0, 0.99)],
    validation: { inDist: 750, outDist: 750 },
  };
  assert.equal(
    odinTuningText(tied, { validation: 'the calibration images and their pixel-shuffled copies' }),
    "ODIN's temperature 10 and step 0.002 were chosen on the calibration images and their pixel-shuffled copies, among 3 grid points: " +
      '2 of them shared the lowest FPR@95 there (0.0 %), and the validation AUROC decided between them.',
  );
  const single = {
    ...tied,
    best: { temperature: 1, epsilon: 0 },
    grid: [point(1, 0, 0.05, 0.9), point(10, 0, 0.1, 0.95)],
  };
  assert.equal(
    odinTuningText(single),
    "ODIN's temperature 1 and step 0 were chosen on 750 in-distribution and 750 shifted validation images, among 2 grid points: " +
      'the only one with the lowest FPR@95 there (5.0 %).',
  );
});

test('detectorVerdictText: a gap under 0.0005 is written with its first significant digit (0.0004), not as 0.000', () => {
  const v = detectorVerdict(threeDetectors());
  const near = { ...v, farBest: { ...v.farBest!, far: { ...v.farBest!.far!, auroc: v.focus.far!.auroc + 0.0004 } } };
  assert.match(detectorVerdictText(near), /rank 3 of 3: 0\.0004 below the best, B at 0\.750\./);
  assert.match(detectorVerdictText(v), /rank 3 of 3: 0\.250 below the best/);
});
