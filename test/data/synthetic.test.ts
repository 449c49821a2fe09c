import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianClusters } from '../../lib/data/synthetic';

test('gaussianClusters: seeded, centred on its centers, ReLU clipping on request, queries from the same centers', () => {
  const a = gaussianClusters(400, 8, 4, 7, { spread: 0.1 });
  assert.deepEqual(gaussianClusters(400, 8, 4, 7, { spread: 0.1 }).x, a.x);
  assert.notDeepEqual(gaussianClusters(400, 8, 4, 8, { spread: 0.1 }).x, a.x);
  // Every point lies within a few spreads of one of the centers.
  for (let r = 0; r < 400; r++) {
    let best = Infinity;
    for (let c = 0; c < 4; c++) {
      let d = 0;
      for (let j = 0; j < 8; j++) d += (a.x[r * 8 + j] - a.centers[c * 8 + j]) ** 2;
      best = Math.min(best, d);
    }
    assert.ok(Math.sqrt(best) < 0.1 * 8, `point ${r} is ${Math.sqrt(best)} from the nearest center`);
  }
  const q = gaussianClusters(10, 8, 4, 9, { spread: 0.1, centers: a.centers });
  assert.equal(q.centers, a.centers);
  const relu = gaussianClusters(400, 8, 4, 7, { spread: 0.1, relu: true });
  assert.ok(relu.x.every((v) => v >= 0));
  assert.deepEqual(relu.x, a.x.map((v) => Math.max(0, v)));
  assert.throws(() => gaussianClusters(0, 8, 4, 1), /rows must be a positive integer, found 0/);
  assert.throws(() => gaussianClusters(5, 8, 4, 1, { centers: new Float32Array(3) }), /centers must hold clusters × dim = 32 values, found 3/);
});
