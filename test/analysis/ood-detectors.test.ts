import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { credibilityScore, energyScore, knnDistanceScore, maxSoftmaxScore } from '../../lib/analysis/ood-scores';
import { fitMahalanobis, mahalanobisScore, symmetricEigen } from '../../lib/analysis/mahalanobis';
import { odinScore, permutedPixels, tuneOdin } from '../../lib/analysis/odin';
import { fitOodDetectors, OOD_DETECTORS } from '../../lib/analysis/ood-detectors';
import { DkNN } from '../../lib/dknn/dknn';
import { predictLogits } from '../../lib/models/predict';
import { blobs, fakePrediction, tinyModel } from '../helpers/tiny';

test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});

const close = (got: number, want: number, what: string, tol = 1e-9) =>
  assert.ok(Math.abs(got - want) <= tol, `${what}: ${got} vs ${want}`);

test('MSP and energy from logits, by hand; higher = more in-distribution', () => {
  const logits = { values: [0, Math.log(3), 5, 5], dim: 2 };
  const msp = maxSoftmaxScore(logits);
  close(msp[0], 3 / 4, 'softmax of (0, ln 3) is (1/4, 3/4)');
  close(msp[1], 1 / 2, 'equal logits');
  const e = energyScore(logits);
  close(e[0], Math.log(4), '−E = log(1 + 3)');
  close(e[1], 5 + Math.log(2), '−E = log(2·e⁵)');
  close(energyScore(logits, { temperature: 2 })[0], 2 * Math.log(1 + Math.sqrt(3)), 'T = 2');
  close(maxSoftmaxScore(logits, { temperature: 2 })[0], Math.sqrt(3) / (1 + Math.sqrt(3)), 'MSP at T = 2');
  // No overflow on large logits.
  close(maxSoftmaxScore({ values: [1000, 0], dim: 2 })[0], 1, 'large logit');
  close(energyScore({ values: [1000, 1000], dim: 2 })[0], 1000 + Math.log(2), 'large logits');
  assert.throws(() => maxSoftmaxScore({ values: [1, 2, 3], dim: 2 }), /whole number of rows of 2 values, found 3/);
  assert.throws(() => energyScore(logits, { temperature: 0 }), /temperature: expected a finite number > 0, found 0/);
  assert.throws(
    () => maxSoftmaxScore({ values: [1, NaN], dim: 2 }),
    /logits\[0\]\[1\]: expected a finite number, found NaN/,
  );
});

test('KNN score: minus the k-th neighbor distance of the DkNN layer; credibility as it is', () => {
  // fakePrediction: squared distances 0.1, 0.2, 0.3 for the neighbors given, Infinity where missing.
  const p = fakePrediction(
    [
      { pred: 0, cred: 0.9, dnn: 0, dnnConf: 0.8, neighbors: [1, 2, 3] },
      { pred: 1, cred: 0.05, dnn: 1, dnnConf: 0.99, neighbors: [4, -1, -1] },
    ],
    3,
  );
  const s = knnDistanceScore(p, { layer: 'hidden', k: 2 });
  close(s[0], -Math.sqrt(0.2), 'k = 2', 1e-7);
  assert.equal(s[1], -Infinity, 'a missing neighbor is as far as can be');
  close(knnDistanceScore(p, { layer: 'hidden', k: 1 })[1], -Math.sqrt(0.1), 'k = 1', 1e-7);
  assert.deepEqual(Array.from(credibilityScore(p)), [0.9, 0.05]);
  assert.throws(
    () => knnDistanceScore(p, { layer: 'ReLU5', k: 1 }),
    /searched no layer "ReLU5"; its layers are hidden/,
  );
  assert.throws(
    () => knnDistanceScore(p, { layer: 'hidden', k: 4 }),
    /k must be an integer in 1…3 \(the DkNN's k\), found 4/,
  );
});

test('symmetricEigen: the eigenpairs of small symmetric matrices', () => {
  const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
  const order = [...values.keys()].sort((a, b) => values[a] - values[b]);
  close(values[order[0]], 1, 'λ₁', 1e-12);
  close(values[order[1]], 3, 'λ₂', 1e-12);
  // The eigenvector of 3 is ±(1, 1)/√2.
  close(Math.abs(vectors[0 * 2 + order[1]]), Math.SQRT1_2, 'v₂ x', 1e-12);
  close(vectors[0 * 2 + order[1]] * vectors[1 * 2 + order[1]], 0.5, 'v₂ x·y', 1e-12);
  // A 4×4 matrix is rebuilt from V Λ Vᵀ.
  const a = [4, 1, 0.5, 0, 1, 3, 0.2, 0.1, 0.5, 0.2, 2, 0.3, 0, 0.1, 0.3, 1];
  const e = symmetricEigen(a, 4);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += e.vectors[i * 4 + k] * e.values[k] * e.vectors[j * 4 + k];
      close(s, a[i * 4 + j], `A[${i}][${j}]`, 1e-10);
    }
  }
});

test('Mahalanobis: class means, shared covariance and its pseudo-inverse, by hand', () => {
  // 1-D: class 0 at 0 and 2 (mean 1), class 1 at 4 and 6 (mean 5); shared variance (1+1+1+1)/4 = 1.
  const m = fitMahalanobis({ values: [0, 2, 4, 6], dim: 1 }, [0, 0, 1, 1]);
  assert.deepEqual(m.classes, [0, 1]);
  assert.deepEqual(m.counts, [2, 2]);
  const s = mahalanobisScore(m, { values: [1, 3, 10], dim: 1 });
  close(s[0], 0, 'at a class mean');
  close(s[1], -4, 'halfway: (3 − 1)² / 1');
  close(s[2], -25, 'far: (10 − 5)² / 1');
  // 2-D, one class, covariance [[2, 1], [1, 2]]: inverse [[2, −1], [−1, 2]] / 3.
  const r3 = Math.sqrt(3);
  const full = fitMahalanobis({ values: [r3, r3, -r3, -r3, 1, -1, -1, 1], dim: 2 }, [0, 0, 0, 0]);
  assert.equal(full.rank, 2);
  const f = mahalanobisScore(full, { values: [1, 0, 1, 1, 1, -1], dim: 2 });
  close(f[0], -2 / 3, '(1, 0)', 1e-6);
  close(f[1], -2 / 3, '(1, 1)', 1e-6);
  close(f[2], -2, '(1, −1)', 1e-6);
  // A unit that never varies (a dead ReLU): the pseudo-inverse ignores it instead of dividing by 0.
  const dead = fitMahalanobis({ values: [0, 0, 2, 0, 4, 0, 6, 0], dim: 2 }, [0, 0, 1, 1]);
  assert.equal(dead.rank, 1);
  const d = mahalanobisScore(dead, { values: [3, 0, 3, 7], dim: 2 });
  close(d[0], -4, 'as in 1-D', 1e-9);
  close(d[1], -4, 'the dead unit is ignored', 1e-9);
  assert.throws(
    () => fitMahalanobis({ values: [1, 2], dim: 1 }, [0]),
    /labels: expected 2 labels \(one per row\), found 1/,
  );
  assert.throws(
    () => fitMahalanobis({ values: [1], dim: 1 }, [-1]),
    /labels\[0\]: expected a class index ≥ 0, found -1/,
  );
  assert.throws(
    () => mahalanobisScore(m, { values: [1, 2], dim: 2 }),
    /expected rows of 1 features \(as fitted\), found dim 2/,
  );
});

/** A 1×2×1 "image" model whose logits are the two pixels. */
function identityModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.flatten({ inputShape: [1, 2, 1] }));
  m.add(tf.layers.dense({ units: 2, useBias: false, weights: [tf.tensor2d([1, 0, 0, 1], [2, 2])], name: 'logits' }));
  return m;
}

const pairs = (values: number[]) => ({
  images: Float32Array.from(values),
  n: values.length / 2,
  height: 1,
  width: 2,
  channels: 1,
});

test('ODIN: the step raises the predicted class, then the tempered softmax; by hand on a linear model', () => {
  const model = identityModel();
  // x = (0.5, 0.2): ŷ = 0; the loss −log softmax(x/T)₀ falls as x₀ rises and x₁ falls, so
  // x̃ = (0.5 + ε, 0.2 − ε) and the score is 1 / (1 + exp(−(0.3 + 2ε) / T)).
  const data = pairs([0.5, 0.2, 0.1, 0.4]);
  const s = odinScore(model, data, { temperature: 10, epsilon: 0.01 });
  close(s[0], 1 / (1 + Math.exp(-(0.3 + 0.02) / 10)), 'input 0', 1e-6);
  close(s[1], 1 / (1 + Math.exp(-(0.3 + 0.02) / 10)), 'input 1 (ŷ = 1)', 1e-6);
  close(odinScore(model, data, { temperature: 1, epsilon: 0 })[0], 1 / (1 + Math.exp(-0.3)), 'ε = 0: the MSP', 1e-6);
  assert.throws(
    () => odinScore(model, data, { temperature: -1, epsilon: 0 }),
    /ODIN temperature: expected a finite number > 0, found -1/,
  );
  assert.throws(
    () => odinScore(model, data, { temperature: 1, epsilon: -0.1 }),
    /ODIN epsilon: expected a finite number ≥ 0, found -0.1/,
  );
  model.dispose();
});

test('tuneOdin: every grid point measured on the validation pair; the lowest FPR@95 wins, ties to the earlier point', () => {
  const model = identityModel();
  // In-distribution margins 1 and 0.9; shifted margins 0.2 and 0.8: an overlap-free pair, so FPR@95
  // is 0 everywhere, the AUROC 1 everywhere, and the first grid point is kept.
  const tuning = tuneOdin(model, {
    inDist: pairs([1, 0, 0, 0.9]),
    outDist: pairs([0.2, 0, 0, 0.8]),
    temperatures: [1, 100],
    epsilons: [0, 0.01, 0.1],
  });
  assert.equal(tuning.grid.length, 6);
  assert.deepEqual(tuning.best, { temperature: 1, epsilon: 0 });
  assert.deepEqual(tuning.validation, { inDist: 2, outDist: 2 });
  // Margins overlap (in 1 and 0.1; out 0.5): any grid point gives FPR@95 1, the AUROC 0.5.
  const mixed = tuneOdin(model, {
    inDist: pairs([1, 0, 0.1, 0]),
    outDist: pairs([0.5, 0]),
    temperatures: [1],
    epsilons: [0],
  });
  assert.equal(mixed.grid[0].fpr95, 1);
  close(mixed.grid[0].auroc, 0.5, 'AUROC');
  assert.throws(
    () => tuneOdin(model, { inDist: pairs([]), outDist: pairs([1, 0]) }),
    /expected validation images on both sides, found 0 and 1/,
  );
  model.dispose();
});

test('permutedPixels: each image keeps its pixel values, channels together; same seed same images', () => {
  const data = {
    images: Float32Array.from({ length: 2 * 3 * 3 * 2 }, (_, i) => i),
    n: 2,
    height: 3,
    width: 3,
    channels: 2,
  };
  const a = permutedPixels(data, { seed: 7 });
  const b = permutedPixels(data, { seed: 7 });
  const c = permutedPixels(data, { seed: 8 });
  assert.deepEqual(a.images, b.images);
  assert.notDeepEqual(a.images, data.images);
  assert.notDeepEqual(a.images, c.images);
  for (let i = 0; i < 2; i++) {
    const img = Array.from(a.images.subarray(i * 18, (i + 1) * 18));
    assert.deepEqual(
      [...img].sort((x, y) => x - y),
      Array.from(data.images.subarray(i * 18, (i + 1) * 18)),
    );
    for (let p = 0; p < 9; p++)
      assert.equal(img[2 * p + 1], img[2 * p] + 1, 'the two channels of a pixel move together');
  }
  assert.equal(a.n, 2);
});

test('fitOodDetectors: every detector on a DkNN run, each score what its function gives', async () => {
  const model = tinyModel(3);
  const train = blobs(60, 1);
  const calib = blobs(20, 2);
  const test = blobs(10, 3);
  const dknn = new DkNN(model, { layers: ['hidden', 'logits'], k: 6, cacheDir: false, onWarning: () => {} });
  await dknn.fit(train);
  await dknn.calibrate(calib);
  const pred = await dknn.predict(test);
  const detectors = await fitOodDetectors(model, {
    train,
    validation: calib,
    layer: 'hidden',
    knnK: 4,
    odinGrid: { temperatures: [1, 10], epsilons: [0, 0.01] },
  });
  const scores = await detectors.score(test, pred);
  assert.deepEqual(Object.keys(scores), [...OOD_DETECTORS]);
  for (const d of OOD_DETECTORS) assert.equal(scores[d].length, test.n, d);
  const logits = { values: predictLogits(model, test), dim: 3 };
  assert.deepEqual(scores.msp, maxSoftmaxScore(logits));
  assert.deepEqual(scores.energy, energyScore(logits));
  assert.deepEqual(scores.knn, knnDistanceScore(pred, { layer: 'hidden', k: 4 }));
  assert.deepEqual(scores.credibility, Float64Array.from(pred.credibility));
  assert.deepEqual(scores.odin, odinScore(model, test, detectors.odin.best));
  assert.equal(detectors.mahalanobis.dim, 8);
  assert.equal(detectors.odin.grid.length, 4);
  assert.match(detectors.labels.knn, /KNN \(hidden, k 4\)/);
  await assert.rejects(
    () => detectors.score(calib, pred),
    /expected the DkNN prediction of these 20 images, found one of 10/,
  );
  model.dispose();
});
