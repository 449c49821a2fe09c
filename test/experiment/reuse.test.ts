import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/engine/backend';
import { setupExperiment } from '../../lib/experiment/experiment';
import { forgetFits, imagesKey } from '../../lib/experiment/reuse';
import { blobs, tinyModel } from '../helpers/tiny';

test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});
test.after(() => forgetFits());

const LAYERS = ['flat', 'hidden', 'logits'];
const setup = (seed = 3) =>
  setupExperiment({
    dataset: { name: 'blobs', train: blobs(60, 1), test: blobs(40, 2) },
    model: tinyModel(seed),
    calibEnd: 15,
    cacheDir: false,
  });

test('a re-run cell reuses the fit and the search; changing what they depend on does not', async () => {
  forgetFits();
  const first = await setup();
  const dknn = await first.fitDkNN({ layers: LAYERS, k: 10 });
  const pred = await first.predict(dknn);

  // The same cells again, in a new experiment (the parameters cell re-run): same data, same weights.
  const again = await setup();
  const dknn2 = await again.fitDkNN({ layers: LAYERS, k: 10, workers: 1 });
  assert.equal(dknn2, dknn, 'the fitted DkNN is reused (threads change no result)');
  assert.equal(await again.predict(dknn2), pred, 'the search is reused');
  assert.deepEqual(
    again.timer.stages.map((s) => s.name).filter((n) => n.includes('reused')),
    [
      'fit and calibrate (reused: fitted earlier in this process)',
      'predict (reused: searched earlier in this process)',
    ],
    'the timings say so',
  );
  const fewer = dknn2.rescore(pred, { k: 4, layers: ['hidden', 'logits'], formula: 'conformal' });
  assert.equal(fewer.n, pred.n, 'a tweak is a re-score of the kept search');

  // Other images, another k, other weights: fitted or searched again.
  const other = await again.predict(dknn2, { data: again.calib });
  assert.notEqual(other, pred);
  assert.notEqual(await again.fitDkNN({ layers: LAYERS, k: 9 }), dknn, 'another k is another fit');
  const otherModel = await setup(4);
  assert.notEqual(await otherModel.fitDkNN({ layers: LAYERS, k: 9 }), dknn, 'other weights, another fit');
});

test('the images key covers pixels, labels and shape', () => {
  const a = blobs(10, 1);
  const b = { ...a, images: a.images.slice() };
  assert.equal(imagesKey(a), imagesKey(b), 'equal content, equal key');
  b.images[3] += 1e-3;
  assert.notEqual(imagesKey(a), imagesKey(b));
  assert.notEqual(imagesKey(a), imagesKey({ ...a, labels: a.labels.map((l) => (l + 1) % 3) }));
  assert.notEqual(imagesKey(a), imagesKey({ ...a, height: 2, width: 8 }));
});
