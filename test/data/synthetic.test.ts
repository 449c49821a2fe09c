import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianClusters } from '../../lib/data/synthetic';

test('gaussianClusters: seeded, centered on its centers, ReLU clipping on request, queries from the same centers', () => {
  const a = gaussianClusters({ rows: 400, dim: 8, clusters: 4, seed: 7, spread: 0.1 });
  assert.deepEqual(gaussianClusters({ rows: 400, dim: 8, clusters: 4, seed: 7, spread: 0.1 }).x, a.x);
  assert.notDeepEqual(gaussianClusters({ rows: 400, dim: 8, clusters: 4, seed: 8, spread: 0.1 }).x, a.x);
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
  const q = gaussianClusters({ rows: 10, dim: 8, clusters: 4, seed: 9, spread: 0.1, centers: a.centers });
  assert.equal(q.centers, a.centers);
  const relu = gaussianClusters({ rows: 400, dim: 8, clusters: 4, seed: 7, spread: 0.1, relu: true });
  assert.ok(relu.x.every((v) => v >= 0));
  assert.deepEqual(relu.x, a.x.map((v) => Math.max(0, v)));
  assert.throws(() => gaussianClusters({ rows: 0, dim: 8, clusters: 4, seed: 1 }), /rows must be a positive integer, found 0/);
  assert.throws(() => gaussianClusters({ rows: 5, dim: 8, clusters: 4, seed: 1, centers: new Float32Array(3) }), /centers must hold clusters × dim = 32 values, found 3/);
});
