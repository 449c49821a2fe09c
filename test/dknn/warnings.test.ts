/**
 * What the probe of issue 29 saw accepted without a word (W5, W7, W15): a k beyond the smallest
 * class, a class list longer than the model's outputs, a calibration set of a single class.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/engine/backend';
import { DkNN } from '../../lib/dknn/dknn';
import { blobs, tinyModel } from '../helpers/tiny';

const LAYERS = ['hidden', 'logits'];
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});

async function fitWarnings(
  k: number,
  train = blobs(300, 1),
  options: { numClasses?: number; pValueResolution?: number } = {},
) {
  const warnings: string[] = [];
  const d = new DkNN(tinyModel(3), {
    layers: LAYERS,
    k,
    cacheDir: false,
    onWarning: (m) => warnings.push(m),
    ...options,
  });
  await d.fit(train);
  return { d, warnings };
}

test('k above the smallest class gets a warning naming the class and its count (W5: k = 299 of 300)', async () => {
  const { warnings } = await fitWarnings(299);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(
    warnings[0],
    /fit: k = 299 is more than the 100 training points of class \d \(and more than half of all 300\)/,
  );
  const mid = await fitWarnings(101);
  assert.match(
    mid.warnings.join('\n'),
    /k = 101 is more than the 100 training points of class \d: at least 1 neighbors per layer of an input of that class disagree/,
  );
  assert.deepEqual((await fitWarnings(100)).warnings, [], 'k = the smallest class is allowed without a word');
  // the smallest class decides: drop most of class 2
  const train = blobs(300, 1);
  const keep = [...train.labels.keys()].filter((i) => train.labels[i] !== 2 || i % 10 === 0);
  const uneven = {
    ...train,
    n: keep.length,
    labels: Uint8Array.from(keep.map((i) => train.labels[i])),
    images: Float32Array.from(keep.flatMap((i) => [...train.images.subarray(i * 16, i * 16 + 16)])),
  };
  const small = keep.filter((i) => train.labels[i] === 2).length;
  const u = await fitWarnings(small + 1, uneven);
  assert.match(u.warnings.join('\n'), new RegExp(`the ${small} training points of class 2`));
});

test('a class list longer than the model outputs is named (W7: 44 sign names beside 43 logits)', async () => {
  const train = { ...blobs(120, 1), numClasses: 4, classNames: ['a', 'b', 'c', 'd'] };
  const { warnings } = await fitWarnings(5, train);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0], /fit: blobs-1 has 4 classes \(its class names\) but the model outputs 3 logits/);
  assert.deepEqual(
    (await fitWarnings(5, train, { numClasses: 4 })).warnings,
    [],
    'numClasses given: the caller decided',
  );
  assert.deepEqual((await fitWarnings(5)).warnings, []);
});

test('calibration on a single class is named (W15), and the warning goes with a mixed calibration set', async () => {
  const { d, warnings } = await fitWarnings(5, blobs(300, 1), { pValueResolution: 0.1 });
  const calib = blobs(90, 2);
  const one = [...calib.labels.keys()].filter((i) => calib.labels[i] === 1);
  await d.calibrate({
    ...calib,
    n: one.length,
    labels: Uint8Array.from(one.map((i) => calib.labels[i])),
    images: Float32Array.from(one.flatMap((i) => [...calib.images.subarray(i * 16, i * 16 + 16)])),
  });
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0], /calibrate: every one of the 30 calibration points is of class 1/);
  assert.deepEqual(d.info().warnings, warnings);
  await d.calibrate(calib);
  assert.deepEqual(d.info().warnings, [], 'a calibration set of every class clears it');
});
