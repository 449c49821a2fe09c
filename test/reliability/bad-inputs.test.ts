/**
 * Probes of a careful reviewer (issue 11): damaged artefacts, impossible runs and bad input each end
 * in a clear error or a correct result, and nothing damaged is read as valid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { fgsm } from '../../lib/attacks/fgsm';
import { capWorkers, parseCount, parseNumber } from '../../lib/cli/args';
import { loadMnist } from '../../lib/data/datasets';
import { DkNN } from '../../lib/dknn/dknn';
import { ExactIndex } from '../../lib/knn/exact/exact';
import { saveModel } from '../../lib/models/format';
import { createMnistCnn } from '../../lib/models/mnist-cnn';
import { trainModel } from '../../lib/training/train';
import { toyImages } from '../models/helpers';
import { blobs, tinyModel } from '../helpers/tiny';

const root = resolve(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'dknn-reliability-'));
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const LAYERS = ['flat', 'hidden', 'logits'];

test('a damaged activation cache entry (zero-filled, bit flip, NaN) is a miss with one warning naming it, and the results stay right', async () => {
  const cacheDir = join(tmp, 'cache');
  const model = tinyModel(4);
  const train = blobs(80, 1);
  const calib = blobs(30, 2);
  const x = blobs(20, 3);
  const run = async () => {
    const warnings: string[] = [];
    const d = new DkNN(model, {
      layers: LAYERS,
      k: 5,
      cacheDir,
      onWarning: (m) => warnings.push(m),
      formula: 'conformal',
      pValueResolution: 0.1,
    });
    await d.fit(train);
    await d.calibrate(calib);
    return { pred: await d.predict(x), info: d.info(), warnings };
  };
  const first = await run();
  assert.deepEqual(first.info.cache.written, LAYERS);
  const dir = join(cacheDir, 'activations');
  const files = readdirSync(dir);
  const hidden = files.find((f) => readFileSync(join(dir, f)).includes('"layer":"hidden"'))!;
  const original = readFileSync(join(dir, hidden));
  const damages: [string, (b: Buffer) => void][] = [
    ['zero-filled payload', (b) => b.fill(0, b.length - 32 - 400, b.length - 32)],
    [
      'one bit flipped',
      (b) => {
        b[b.length - 100] ^= 0x10;
      },
    ],
    ['a NaN written', (b) => b.writeFloatLE(NaN, b.length - 32 - 8)],
  ];
  for (const [what, damage] of damages) {
    const b = Buffer.from(original);
    damage(b);
    writeFileSync(join(dir, hidden), b);
    const again = await run();
    assert.deepEqual(again.info.cache.hits, ['flat', 'logits'], `${what}: the damaged layer is not a hit`);
    assert.deepEqual(again.info.cache.written, ['hidden'], `${what}: it is recomputed and rewritten`);
    assert.equal(again.warnings.length, 1, `${what}: one warning`);
    assert.ok(again.warnings[0].includes(join(dir, hidden)), `${what}: the warning names the file`);
    assert.deepEqual(again.pred.pValues, first.pred.pValues, `${what}: the same results`);
  }
  model.dispose();
});

test('training stops at a non-finite loss, refuses an empty set, and a model with non-finite weights is never saved', async () => {
  const model = createMnistCnn({ seed: 1, filters: 4 });
  const data = toyImages(40, 2);
  await assert.rejects(
    trainModel(model, data, { epochs: 1, batchSize: 20, learningRate: 1e9 }),
    /the loss became NaN at step \d+ \(epoch 1\): the weights diverged \(learning rate 1000000000 too large\?\)/,
  );
  await assert.rejects(
    trainModel(model, { ...data, n: 0, images: new Float32Array(0), labels: new Uint8Array(0) }),
    /the training set is empty/,
  );
  await assert.rejects(
    saveModel(join(tmp, 'nan-model'), model),
    /refusing to save a model with non-finite weights: Conv2D0\/kernel\[\d+\] is NaN/,
  );
  assert.throws(() => readdirSync(join(tmp, 'nan-model')), /ENOENT/, 'nothing written');
  model.dispose();
});

test('degenerate data is named, not scored: constant layers, k ≥ n, a calibration set too small for the resolution', async () => {
  const model = tinyModel(5);
  const zeros = { ...blobs(50, 1), images: new Float32Array(50 * 16) };
  await assert.rejects(
    new DkNN(model, { layers: LAYERS, k: 5, cacheDir: false }).fit(zeros),
    /layer flat gives the same activations \(all zero\) for all 50 training images/,
  );
  await assert.rejects(
    new DkNN(model, { layers: LAYERS, k: 50, cacheDir: false }).fit(blobs(50, 1)),
    /k = 50 neighbors per layer needs more training points than k .* the training set has 50/,
  );
  const warnings: string[] = [];
  const d = new DkNN(model, {
    layers: LAYERS,
    k: 5,
    cacheDir: false,
    formula: 'conformal',
    onWarning: (m) => warnings.push(m),
  });
  await d.fit(blobs(60, 1));
  await d.calibrate(blobs(1, 2));
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    /calibrate: the conformal p-values divide by 1 calibration score\(s\), so they move in steps of 1\/1 = 1\.00, coarser than the resolution 0\.01 asked for/,
  );
  assert.deepEqual(d.info().warnings, warnings);
  await d.calibrate(blobs(200, 2));
  assert.deepEqual(d.info().warnings, [], 'a large enough calibration set clears it');
  model.dispose();
});

test('an activation cache folder that cannot be written is refused before any extraction', async () => {
  const model = tinyModel(8);
  const t0 = Date.now();
  await assert.rejects(
    new DkNN(model, { layers: LAYERS, k: 5, cacheDir: '/proc/x' }).fit(blobs(60, 1)),
    /cannot create \/proc\/x: ENOENT/,
  );
  assert.ok(Date.now() - t0 < 2000, 'at once, without spinning');
  model.dispose();
});

test("input pixels must be finite and inside the training set's range", async () => {
  const model = tinyModel(6);
  const train = { ...blobs(60, 1), pixelRange: [-5, 5] as const };
  const d = new DkNN(model, { layers: LAYERS, k: 5, cacheDir: false, formula: 'conformal' });
  const bad = (v: number) => {
    const x = blobs(4, 2);
    x.images[2 * 16 + 7] = v;
    return x;
  };
  const nanTrain = blobs(60, 1);
  nanTrain.images[2 * 16 + 7] = NaN;
  await assert.rejects(d.fit(nanTrain), /fit: training image 2, pixel value 7 is NaN; expected finite pixel values$/);
  await d.fit(train);
  await d.calibrate(blobs(30, 3));
  await assert.rejects(
    d.predict(bad(Infinity)),
    /predict: input image 2, pixel value 7 is Infinity; expected finite pixel values in \[-5, 5\]/,
  );
  await assert.rejects(d.predict(bad(NaN)), /predict: input image 2, pixel value 7 is NaN/);
  await assert.rejects(
    d.predict(bad(9)),
    /predict: input image 2, pixel value 7 is 9; expected pixel values in \[-5, 5\] \(the training set's range\)/,
  );
  model.dispose();
});

test("attacks refuse labels outside the model's classes and empty batches, without engine noise", () => {
  const model = tinyModel(7);
  const fn = (x: tf.Tensor) => model.apply(x) as tf.Tensor;
  const x = tf.zeros([2, 4, 4, 1]);
  for (const labels of [
    [0, 12],
    [-1, 0],
  ]) {
    const y = tf.tensor1d(labels, 'int32');
    assert.throws(
      () => fgsm(fn, x, { eps: 0.1, y }),
      new RegExp(
        `y\\[\\d\\] is ${labels.find((l) => l < 0 || l >= 3)}: expected an integer class index in 0…2 \\(the model has 3 outputs\\)`,
      ),
    );
    y.dispose();
  }
  const empty = tf.zeros([0, 4, 4, 1]);
  assert.throws(() => fgsm(fn, empty, { eps: 0.1 }), /x must hold at least one example, found shape \[0, 4, 4, 1\]/);
  tf.dispose([x, empty]);
  model.dispose();
});

test('an index refuses values whose distances would overflow float32', async () => {
  const index = new ExactIndex({ backend: 'js' });
  await index.build(Float32Array.from([0, 1, 1, 0, 1, 1]), { rows: 3, dim: 2 });
  await assert.rejects(
    index.query(Float32Array.from([1e30, 0]), { rows: 1, k: 2 }),
    /queries row 0 has squared norm 1\.00e\+60: its distances would overflow float32/,
  );
});

test('a data folder without SHA256SUMS says so; CLI numbers are parsed strictly; worker counts are capped by the cores', async () => {
  const dir = join(tmp, 'data');
  mkdirSync(join(dir, 'mnist'), { recursive: true });
  await assert.rejects(
    loadMnist({ dataDir: dir }),
    /SHA256SUMS: cannot read the checksum list \(ENOENT\); every data folder needs its SHA256SUMS/,
  );
  for (const raw of ['0x10', '1e1', '', ' 5', '-3', '2.5'])
    assert.throws(() => parseCount('k', raw), /--k must be a non-negative decimal integer/, raw);
  assert.equal(parseCount('k', '75'), 75);
  assert.equal(parseNumber('lr', '1e-3'), 0.001);
  for (const raw of ['', 'abc', 'Infinity', '0x1'])
    assert.throws(() => parseNumber('lr', raw), /--lr must be a finite number/, raw);
  assert.deepEqual(capWorkers(64, 2), {
    workers: 2,
    message: '--workers 64 exceeds the 2 cores of this machine: using 2',
  });
  assert.deepEqual(capWorkers(2, 2), { workers: 2, message: null });
});

test('the CLIs refuse impossible runs before any long work: unwritable output, an empty subset, overwriting the committed model', () => {
  const cli = (script: string, args: string[]) => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [join(root, 'lib', 'dist', 'cli', script), ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
  };
  const out = cli('dknn.js', ['--out', '/proc/nope.json']);
  assert.notEqual(out.status, 0);
  assert.match(out.stderr, /cannot write into \/proc: ENOENT|cannot (create|write)/);
  assert.ok(out.seconds < 20, `failed after ${out.seconds} s, before loading data`);
  assert.match(cli('dknn.js', ['--k', '0x10']).stderr, /--k must be a decimal integer ≥ 1, found "0x10"/);
  assert.match(
    cli('train.js', ['--subset', '0', '--out', join(tmp, 'm')]).stderr,
    /--subset 0 would train on no image/,
  );
  assert.match(
    cli('train.js', ['--subset=', '--out', join(tmp, 'm')]).stderr,
    /--subset must be a non-negative decimal integer, found ""/,
  );
  assert.match(
    cli('train.js', ['--epochs', '1']).stderr,
    /would overwrite the committed pretrained model at .*data\/pretrained\/mnist-cnn; pass --force/,
  );
});

test('npm run train -- --init-from: starts from a saved model (recorded with its hash), refuses another architecture', () => {
  const train = (args: string[]) =>
    spawnSync(process.execPath, [join(root, 'lib', 'dist', 'cli', 'train.js'), ...args], {
      encoding: 'utf8',
      timeout: 300_000,
    });
  const wrong = train([
    '--init-from',
    join(root, 'data', 'pretrained', 'gtsrb-cnn-std'),
    '--subset',
    '10',
    '--out',
    join(tmp, 'init-wrong'),
  ]);
  assert.notEqual(wrong.status, 0);
  assert.match(
    wrong.stderr,
    /--init-from .*gtsrb-cnn-std: expected weights Conv2D0\/kernel\[8,8,1,64\].*found Conv2D0\/kernel\[8,8,3,64\]/,
  );
  // A learning rate of 1e-9 leaves the weights where they started: the committed model's accuracy, not a fresh one's.
  const out = join(tmp, 'init-ok');
  const ok = train([
    '--init-from',
    join(root, 'data', 'pretrained', 'mnist-cnn'),
    '--subset',
    '100',
    '--epochs',
    '1',
    '--batch-size',
    '50',
    '--lr',
    '1e-9',
    '--workers',
    '1',
    '--checkpoint',
    join(tmp, 'init.ckpt'),
    '--out',
    out,
  ]);
  assert.equal(ok.status, 0, ok.stderr);
  const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).userDefinedMetadata.dknn;
  const committed = JSON.parse(readFileSync(join(root, 'data', 'pretrained', 'mnist-cnn', 'model.json'), 'utf8'))
    .userDefinedMetadata.dknn;
  assert.equal(meta.record.train.initFrom.modelHash.length, 64);
  assert.ok(
    Math.abs(meta.record.testAccuracy - committed.record.testAccuracy) < 0.005,
    `accuracy ${meta.record.testAccuracy} vs the committed ${committed.record.testAccuracy}`,
  );
});

test('the CLIs print their options with --help, and name an unknown option before the usage', () => {
  for (const [script, command] of [
    ['dknn.js', 'npm run dknn'],
    ['train.js', 'npm run train'],
  ]) {
    const help = spawnSync(process.execPath, [join(root, 'lib', 'dist', 'cli', script), '--help'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(help.status, 0, script);
    assert.match(help.stdout, new RegExp(`^Usage: ${command} -- \\[options\\]`));
    assert.match(help.stdout, /--workers/);
    const bad = spawnSync(process.execPath, [join(root, 'lib', 'dist', 'cli', script), '--color', 'red'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /Unknown option '--color'[\s\S]*Usage: /);
  }
});
