import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, IdxFormatError } from '../../lib/data/idx';
import { MNIST_FILES, NOTMNIST_FILES, classCounts, clearDatasetCache, dataDir, loadGtsrb, loadMnist, loadNotMnist } from '../../lib/data/datasets';
import { splitByGroup, subset } from '../../lib/data/split';
import { ImageDataset } from '../../lib/data/types';

const REPO_DATA = resolve(__dirname, '../../data');

function pixelStats(ds: ImageDataset): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of ds.images) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / ds.images.length };
}

test('dataDir finds the repository data folder from any working directory; DKNN_DATA_DIR overrides', () => {
  const saved = process.env['DKNN_DATA_DIR'];
  const cwd = process.cwd();
  try {
    delete process.env['DKNN_DATA_DIR'];
    assert.equal(dataDir(), REPO_DATA);
    process.chdir(tmpdir());
    assert.equal(dataDir(), REPO_DATA);
    process.env['DKNN_DATA_DIR'] = '/some/where';
    assert.equal(dataDir(), '/some/where');
  } finally {
    process.chdir(cwd);
    if (saved === undefined) delete process.env['DKNN_DATA_DIR'];
    else process.env['DKNN_DATA_DIR'] = saved;
  }
});

test('MNIST loads with the documented counts, shapes, pixel range and checksums', async () => {
  const { train, test: t10k } = await loadMnist();
  for (const [ds, n, name] of [[train, 60000, 'mnist-train'], [t10k, 10000, 'mnist-test']] as const) {
    assert.equal(ds.name, name);
    assert.equal(ds.n, n);
    assert.equal(ds.height, 28);
    assert.equal(ds.width, 28);
    assert.equal(ds.channels, 1);
    assert.equal(ds.numClasses, 10);
    assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.ok(ds.images instanceof Float32Array);
    assert.ok(ds.labels instanceof Uint8Array);
    assert.equal(ds.images.length, n * 28 * 28);
    assert.equal(ds.labels.length, n);
    const s = pixelStats(ds);
    assert.equal(s.min, 0);
    assert.equal(s.max, 1);
    assert.ok(Math.abs(s.mean - 0.1307) < 0.003, `mean pixel ${s.mean}`);
  }
  assert.deepEqual(classCounts(train), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual(classCounts(t10k), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.deepEqual(Array.from(train.labels.subarray(0, 10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  assert.deepEqual(Array.from(t10k.labels.subarray(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  // pixel scaling is exactly value / 255: the first training image's row 14 has known ink
  const px = train.images[0 * 784 + 14 * 28 + 14]! * 255;
  assert.ok(Math.abs(px - Math.round(px)) < 1e-4);
  assert.deepEqual(train.checksums, {
    [MNIST_FILES.trainImages]: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
    [MNIST_FILES.trainLabels]: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
  });
  assert.equal(t10k.checksums[MNIST_FILES.testImages], '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6');
});

test('loading is memoized per data dir', async () => {
  const a = await loadMnist();
  const b = await loadMnist({ dataDir: REPO_DATA });
  assert.equal(a, b);
  clearDatasetCache();
  const c = await loadNotMnist();
  assert.equal(await loadNotMnist(), c);
  clearDatasetCache();
  assert.notEqual(await loadNotMnist(), c);
});

test('notMNIST: 10000 letters, 1000 per class, A..J, pixels in [0, 1]', async () => {
  const ds = await loadNotMnist();
  assert.equal(ds.name, 'notmnist');
  assert.equal(ds.n, 10000);
  assert.deepEqual(ds.classNames, ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J']);
  assert.deepEqual(classCounts(ds), new Array(10).fill(1000));
  const s = pixelStats(ds);
  assert.equal(s.min, 0);
  assert.equal(s.max, 1);
  assert.ok(Math.abs(s.mean - 108.8 / 255) < 0.005, `mean pixel ${s.mean}`);
  assert.deepEqual(Object.keys(ds.checksums).sort(), [NOTMNIST_FILES.images, NOTMNIST_FILES.labels].sort());
});

test('content validation: counts, label range and image size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dknn-ds-'));
  const write = (rel: string, bytes: Uint8Array): void => writeFileSync(join(dir, rel), gzipSync(bytes));
  const images = (n: number, h = 28, w = 28): Uint8Array => encodeIdx({ dtype: 'uint8', dims: [n, h, w], data: new Uint8Array(n * h * w).fill(255) });
  const labels = (xs: number[]): Uint8Array => encodeIdx({ dtype: 'uint8', dims: [xs.length], data: Uint8Array.from(xs) });
  const load = () => loadNotMnist({ dataDir: dir, verify: false });
  try {
    mkdirSync(join(dir, 'notmnist'));
    write(NOTMNIST_FILES.images, images(3));
    write(NOTMNIST_FILES.labels, labels([0, 9, 4]));
    const ok = await load();
    assert.equal(ok.n, 3);
    assert.deepEqual(Array.from(ok.labels), [0, 9, 4]);
    assert.ok(ok.images.every((v) => v === 1));
    clearDatasetCache();

    write(NOTMNIST_FILES.labels, labels([0, 1]));
    await assert.rejects(load(), (e: unknown) => e instanceof IdxFormatError && /expected 3 labels \(one per image in .*\), found 2/.test(e.message));
    write(NOTMNIST_FILES.labels, labels([0, 12, 1]));
    await assert.rejects(load(), (e: unknown) => e instanceof IdxFormatError && /label 1 is 12, expected < 10/.test(e.message));
    write(NOTMNIST_FILES.labels, labels([0, 1, 2]));
    write(NOTMNIST_FILES.images, images(3, 28, 27));
    await assert.rejects(load(), (e: unknown) => e instanceof IdxFormatError && /expected uint8 images of shape \[N, 28, 28\], found uint8 \[3, 28, 27\]/.test(e.message));
    // a missing SHA256SUMS is an error when verifying
    await assert.rejects(loadNotMnist({ dataDir: dir }), /SHA256SUMS: cannot read the checksum list \(ENOENT\); every data folder needs its SHA256SUMS/);
  } finally {
    clearDatasetCache();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GTSRB loads with its shapes, 43 named classes, per-image tracks, and a track split shares no track', async () => {
  const { train, test: testSet } = await loadGtsrb();
  assert.deepEqual([train.n, train.height, train.width, train.channels, train.numClasses], [39209, 32, 32, 3, 43]);
  assert.deepEqual([testSet.n, testSet.height, testSet.width, testSet.channels], [12630, 32, 32, 3]);
  assert.equal(train.classNames[0], 'Speed limit (20km/h)');
  assert.equal(train.classNames.length, 43);
  assert.deepEqual(classCounts(train).slice(0, 3), [210, 2220, 2250]);
  assert.deepEqual(classCounts(testSet).slice(0, 3), [60, 720, 750]);
  assert.equal(new Set(train.labels.subarray(0, 1000)).size, 43, 'shuffled: the first 1,000 training images cover every class (the files are sorted by class)');
  assert.equal(train.images.length, 39209 * 32 * 32 * 3);
  assert.ok(train.images.every((v) => v >= 0 && v <= 1));
  assert.deepEqual(train.pixelRange, [0, 1]);
  assert.ok(train.groups && train.groups.length === train.n);
  const tracks = new Set(train.groups);
  assert.ok(tracks.size > 1000 && tracks.size < 1500, `${tracks.size} tracks of ~30 frames`);
  const { train: part, validation } = splitByGroup(train, { validationFraction: 0.1, seed: 7 });
  assert.equal(part.n + validation.n, train.n);
  assert.ok(Math.abs(validation.n / train.n - 0.1) < 0.01, `validation holds ${validation.n} images`);
  const inVal = new Set(validation.groups);
  assert.ok(part.groups!.every((g) => !inVal.has(g)), 'no track on both sides');
  assert.deepEqual(splitByGroup(train, { validationFraction: 0.1, seed: 7 }).validation.labels, validation.labels, 'seeded');
  const sub = subset(train, { start: 100, end: 200 });
  assert.deepEqual(Array.from(sub.groups!), Array.from(train.groups.subarray(100, 200)), 'subsets carry their groups');
  assert.throws(() => splitByGroup(testSet), /gtsrb-test has no groups/);
});
