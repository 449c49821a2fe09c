import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/engine/backend';
import { exactIndexFactory } from '../../lib/knn/exact/exact';
import { compareIndexes } from '../../lib/dknn/compare';
import { lshIndexFactory } from '../../lib/knn/lsh/lsh';
import { blobs, tinyModel } from '../knn/dknn-fixtures';

test('compareIndexes: an identical index agrees everywhere; a lossy LSH shows its misses, recall and credibility changes', async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
  const model = tinyModel(5);
  const data = { train: blobs(150, 1), calib: blobs(45, 2), eval: blobs(60, 3) };
  const seen: string[] = [];
  const { runs, rows } = await compareIndexes(model, {
    data,
    configs: [
      { key: 'exact', label: 'exact (auto)', index: 'exact' },
      { key: 'exact-js', label: 'exact (js)', index: exactIndexFactory({ backend: 'js' }) },
      // One table, many bits: tiny buckets, so neighbors go missing.
      {
        key: 'lsh',
        label: 'LSH l 1',
        index: lshIndexFactory({
          parameters: { family: 'cross-polytope', distance: 'euclidean-squared', l: 1, hashBits: 7, seed: 3 },
        }),
      },
    ],
    layers: ['flat', 'hidden', 'logits'],
    k: 10,
    cacheDir: false,
    onRun: (r) => seen.push(r.key),
  });
  assert.deepEqual(seen, ['exact', 'exact-js', 'lsh']);
  assert.deepEqual(
    runs.map((r) => r.info.index),
    ['exact', 'exact', 'lsh'],
  );
  for (const r of rows.slice(0, 2)) {
    assert.equal(r.agreement.identicalFraction, 1);
    assert.equal(r.agreement.maxCredibilityChange, 0);
    assert.deepEqual(r.recall, [1, 1, 1]);
    assert.equal(r.missingNeighbors, 0);
  }
  const lsh = rows[2];
  assert.ok(lsh.missingNeighbors > 0);
  assert.ok(
    lsh.recall.every((x) => x < 1),
    `recall ${lsh.recall}`,
  );
  assert.ok(lsh.agreement.maxCredibilityChange > 0);
  assert.equal(lsh.agreement.n, 60);
  // Accuracy and credibility are those of each run's own predictions.
  let correct = 0;
  for (let i = 0; i < 60; i++) if (runs[2].prediction.predictions[i] === data.eval.labels[i]) correct++;
  assert.equal(lsh.accuracy, correct / 60);
  assert.ok(rows.every((r) => r.buildSeconds >= 0 && r.querySeconds > 0 && r.seconds >= r.querySeconds));
  await assert.rejects(
    () => compareIndexes(model, { data, configs: [] }),
    /expected at least one index config \(the first is the reference\), found none/,
  );
  await assert.rejects(
    () =>
      compareIndexes(model, {
        data,
        configs: [
          { key: 'a', label: '', index: 'exact' },
          { key: 'a', label: '', index: 'exact' },
        ],
      }),
    /keys must be unique, found "a" twice/,
  );
  model.dispose();
});
