import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rotateImages } from '../../lib/data/transforms';
import { outOfDistribution } from '../../lib/analysis/ood';
import { blobs, fakePrediction } from '../helpers/tiny';
import { oodTable, oodRocFigure, oodCurveFigure } from '../../lib/plots/ood';

/** A 3×4 two-channel image set whose pixel (y, x, c) holds a distinct value. */
function grid(n = 2) {
  const ds = blobs(n, 1);
  const H = 4,
    W = 4,
    C = 2;
  return {
    ...ds,
    height: H,
    width: W,
    channels: C,
    images: Float32Array.from({ length: n * H * W * C }, (_, i) => (i % 97) / 100),
  };
}

test('rotateImages: 0° is the identity, 90° a transpose then a vertical flip, 360° the identity again; shape, labels, names kept', () => {
  const ds = grid();
  const same = rotateImages(ds, 0);
  assert.deepEqual(same.images, ds.images);
  assert.deepEqual(rotateImages(ds, 360).images, ds.images);
  const r = rotateImages(ds, 90);
  const { height: H, width: W, channels: C } = ds;
  for (let i = 0; i < ds.n; i++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < C; c++) {
          const got = r.images[((i * H + y) * W + x) * C + c];
          const want = ds.images[((i * H + x) * W + (W - 1 - y)) * C + c];
          assert.equal(got, want, `image ${i} (${y}, ${x}, ${c})`);
        }
      }
    }
  }
  assert.deepEqual([r.n, r.height, r.width, r.channels], [ds.n, H, W, C]);
  assert.deepEqual(r.labels, ds.labels);
  assert.deepEqual(r.classNames, ds.classNames);
  assert.match(r.name, /rotated 90°/);
  assert.deepEqual(rotateImages(rotateImages(ds, 90), 270).images, ds.images, '90° then 270° is the identity');
  assert.throws(() => rotateImages(ds, NaN), /degrees must be a finite number, found NaN/);
});

test('rotateImages at 45° interpolates inside the range, fills with 0 outside, and keeps a [0, 1] set in [0, 1]', () => {
  const ones = { ...grid(1), images: new Float32Array(32).fill(1), pixelRange: [0, 1] as const };
  const r = rotateImages(ones, 45);
  assert.ok(
    r.images.every((v) => v >= 0 && v <= 1),
    'inside [0, 1]',
  );
  assert.ok(
    r.images.some((v) => v < 1),
    'the corners come from outside the image: filled with 0',
  );
  const center = (1 * 4 + 1) * 2; // pixel (1, 1), well inside
  assert.equal(r.images[center], 1, 'inside, a constant image stays constant');
});

test('outOfDistribution: means and AUROCs by hand, ties counted half', () => {
  const inDist = fakePrediction([
    { pred: 0, cred: 0.9, dnn: 0, dnnConf: 0.99 },
    { pred: 1, cred: 0.5, dnn: 1, dnnConf: 0.8 },
  ]);
  const out = fakePrediction([
    { pred: 2, cred: 0.05, dnn: 2, dnnConf: 0.99 },
    { pred: 0, cred: 0.5, dnn: 0, dnnConf: 0.7 },
  ]);
  const [row] = outOfDistribution(inDist, [{ name: 'letters', prediction: out, parameter: 45 }]);
  assert.equal(row.n, 2);
  assert.equal(row.parameter, 45);
  assert.ok(Math.abs(row.meanCredibility - 0.275) < 1e-12);
  assert.ok(Math.abs(row.meanDnnConfidence - 0.845) < 1e-6);
  assert.equal(row.lowCredibilityShare, 0.5);
  // credibility: pairs (in, out): (0.9, 0.05) 1, (0.9, 0.5) 1, (0.5, 0.05) 1, (0.5, 0.5) ½ → 3.5 / 4.
  assert.equal(row.aurocCredibility, 0.875);
  // softmax: (0.99, 0.99) ½, (0.99, 0.7) 1, (0.8, 0.99) 0, (0.8, 0.7) 1 → 2.5 / 4.
  assert.equal(row.aurocDnnConfidence, 0.625);
  assert.equal(
    outOfDistribution(inDist, [{ name: 'self', prediction: inDist }])[0].aurocCredibility,
    0.5,
    'the set against itself: chance',
  );
  assert.match(
    oodTable([row], { letters: { meanCredibility: 0.06, meanDnnConfidence: 0.33, source: 'paper' } }).html,
    /27\.5 %.*84\.5 %.*6\.0 % \/ 33\.0 % \(paper\)/,
  );
  const roc = oodRocFigure(inDist, out);
  assert.match(String(roc.data[0].name), /DkNN credibility \(AUROC 0\.875\)/);
  assert.deepEqual(oodCurveFigure([row, { ...row, parameter: 0 }]).data[0].x, [0, 45]);
  assert.throws(
    () => outOfDistribution(inDist, [{ name: 'empty', prediction: fakePrediction([]) }]),
    /set empty holds no input/,
  );
});
