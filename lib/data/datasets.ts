/**
 * Loaders for the image data sets shipped in the repository's `data/` folder (MNIST, notMNIST,
 * GTSRB), with SHA-256 verification against `data/SHA256SUMS`. Shapes, class counts and class
 * names come from the files.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ChecksumError, readSha256Sums, sha256Bytes } from './checksum';
import { IdxArray, IdxFormatError, parseIdx } from './idx';
import { gather, seededPermutation } from './split';
import type { ImageDataset } from './types';

/** Options shared by the loaders. */
export interface LoadOptions {
  /** Folder holding `mnist/`, `notmnist/` and `SHA256SUMS`. Default {@link dataDir}(). */
  dataDir?: string;
  /** Check every file against SHA256SUMS before parsing. Default true. */
  verify?: boolean;
}

/** MNIST file names relative to the data dir. */
export const MNIST_FILES = Object.freeze({
  trainImages: 'mnist/train-images-idx3-ubyte.gz',
  trainLabels: 'mnist/train-labels-idx1-ubyte.gz',
  testImages: 'mnist/t10k-images-idx3-ubyte.gz',
  testLabels: 'mnist/t10k-labels-idx1-ubyte.gz',
});

/** notMNIST file names relative to the data dir. */
export const NOTMNIST_FILES = Object.freeze({
  images: 'notmnist/t10k-images-idx3-ubyte.gz',
  labels: 'notmnist/t10k-labels-idx1-ubyte.gz',
});

/** Class names of MNIST ('0'..'9'). */
export const MNIST_CLASS_NAMES: readonly string[] = Object.freeze(Array.from({ length: 10 }, (_, i) => String(i)));
/** Class names of notMNIST ('A'..'J'). */
export const NOTMNIST_CLASS_NAMES: readonly string[] = Object.freeze(Array.from('ABCDEFGHIJ'));

const SUMS_FILE = 'SHA256SUMS';
const GREY_28 = { height: 28, width: 28, channels: 1 } as const;

/** The data folders looked for: the repository's `data/`, an installed package's `datasets/`. */
const DATA_FOLDERS = ['data', 'datasets'];

function findUp(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    for (const f of DATA_FOLDERS) if (existsSync(join(dir, f, SUMS_FILE))) return join(dir, f);
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * The data folder: `$DKNN_DATA_DIR` if set, else the nearest `data/` (the repository's) or
 * `datasets/` (an installed package's) containing SHA256SUMS found walking up from this module's
 * folder (works from `lib/` sources, `lib/dist/` and `node_modules/dknn-ts/dist/`), then from
 * the working directory.
 * @throws Error when no such folder exists.
 */
export function dataDir(): string {
  const env = process.env['DKNN_DATA_DIR'];
  if (env) return resolve(env);
  const here = typeof __dirname === 'string' ? __dirname : null;
  for (const start of here ? [here, process.cwd()] : [process.cwd()]) {
    const found = findUp(start);
    if (found) return found;
  }
  throw new Error(
    `dataDir: no data/${SUMS_FILE} found above ${here ?? '(unknown module dir)'} or ${process.cwd()}; set DKNN_DATA_DIR`,
  );
}

/** Number of examples of each class. */
export function classCounts(ds: Pick<ImageDataset, 'labels' | 'numClasses'>): number[] {
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (const l of ds.labels) counts[l]!++;
  return counts;
}

interface FileLoad {
  array: IdxArray;
  sha256: string;
}

async function loadFile(dir: string, rel: string, sums: Map<string, string> | null): Promise<FileLoad> {
  const path = join(dir, rel);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const folder = rel.split('/')[0];
    throw new Error(
      `${rel} is not in the data folder ${dir}: point dataDir (the loader's option) or the DKNN_DATA_DIR ` +
        `environment variable to a folder holding ${folder}/ and SHA256SUMS, such as the dknn-ts repository's data/ ` +
        `(the installed package carries MNIST, notMNIST and the pretrained models only)`,
      { cause: e },
    );
  }
  const sha256 = sha256Bytes(bytes);
  if (sums) {
    const expected = sums.get(rel);
    if (expected === undefined) {
      throw new ChecksumError(path, null, sha256, `${path}: no SHA-256 listed for ${rel} in ${join(dir, SUMS_FILE)}`);
    }
    if (expected !== sha256) throw new ChecksumError(path, expected, sha256);
  }
  return { array: parseIdx(bytes, { source: path }), sha256 };
}

interface PairSpec {
  name: string;
  images: string;
  labels: string;
  classNames: readonly string[];
  /** Expected image shape. */
  height: number;
  width: number;
  channels: number;
}

async function loadPair(dir: string, spec: PairSpec, sums: Map<string, string> | null): Promise<ImageDataset> {
  const [img, lab] = await Promise.all([loadFile(dir, spec.images, sums), loadFile(dir, spec.labels, sums)]);
  const imgPath = join(dir, spec.images);
  const labPath = join(dir, spec.labels);
  const { dims, dtype } = img.array;
  const { height, width, channels } = spec;
  const shapeOk = channels === 1 ? dims.length === 3 || (dims.length === 4 && dims[3] === 1) : dims.length === 4 && dims[3] === channels;
  if (dtype !== 'uint8' || !shapeOk || dims[1] !== height || dims[2] !== width) {
    const want = channels === 1 ? `[N, ${height}, ${width}]` : `[N, ${height}, ${width}, ${channels}]`;
    throw new IdxFormatError(imgPath, `expected uint8 images of shape ${want}, found ${dtype} [${dims.join(', ')}]`);
  }
  if (lab.array.dtype !== 'uint8' || lab.array.dims.length !== 1) {
    throw new IdxFormatError(labPath, `expected uint8 labels of shape [N], found ${lab.array.dtype} [${lab.array.dims.join(', ')}]`);
  }
  const n = dims[0]!;
  if (lab.array.dims[0] !== n) {
    throw new IdxFormatError(labPath, `expected ${n} labels (one per image in ${imgPath}), found ${lab.array.dims[0]}`);
  }
  const labels = lab.array.data as Uint8Array;
  const numClasses = spec.classNames.length;
  const bad = labels.findIndex((l) => l >= numClasses);
  if (bad >= 0) {
    throw new IdxFormatError(labPath, `label ${bad} is ${labels[bad]}, expected < ${numClasses}`);
  }
  const pixels = img.array.data as Uint8Array;
  const images = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) images[i] = pixels[i]! / 255;
  return {
    name: spec.name,
    images,
    labels,
    n,
    height,
    width,
    channels,
    numClasses,
    classNames: [...spec.classNames],
    pixelRange: [0, 1],
    checksums: { [spec.images]: img.sha256, [spec.labels]: lab.sha256 },
  };
}

const cache = new Map<string, Promise<unknown>>();

function memo<T>(key: string, load: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit) return hit as Promise<T>;
  const p = load();
  cache.set(key, p);
  p.catch(() => {
    if (cache.get(key) === p) cache.delete(key);
  });
  return p;
}

async function loadSums(dir: string, verify: boolean): Promise<Map<string, string> | null> {
  return verify ? readSha256Sums(join(dir, SUMS_FILE)) : null;
}

/**
 * Loads MNIST (60000 train / 10000 test digits). Results are memoized per data dir and verify
 * flag, so repeated calls share the same (treat-as-immutable) arrays.
 * @throws ChecksumError when verification fails; IdxFormatError for malformed files.
 */
export async function loadMnist(options?: LoadOptions): Promise<{ train: ImageDataset; test: ImageDataset }> {
  const dir = resolve(options?.dataDir ?? dataDir());
  const verify = options?.verify ?? true;
  return memo(`mnist|${dir}|${verify}`, async () => {
    const sums = await loadSums(dir, verify);
    const [train, test] = await Promise.all([
      loadPair(dir, { name: 'mnist-train', images: MNIST_FILES.trainImages, labels: MNIST_FILES.trainLabels, classNames: MNIST_CLASS_NAMES, ...GREY_28 }, sums),
      loadPair(dir, { name: 'mnist-test', images: MNIST_FILES.testImages, labels: MNIST_FILES.testLabels, classNames: MNIST_CLASS_NAMES, ...GREY_28 }, sums),
    ]);
    return { train, test };
  });
}

/**
 * Loads the 10000-image notMNIST sample (letters A..J as labels 0..9, 1000 each), used as
 * out-of-distribution data. Memoized like {@link loadMnist}.
 * @throws ChecksumError when verification fails; IdxFormatError for malformed files.
 */
export async function loadNotMnist(options?: LoadOptions): Promise<ImageDataset> {
  const dir = resolve(options?.dataDir ?? dataDir());
  const verify = options?.verify ?? true;
  return memo(`notmnist|${dir}|${verify}`, async () => {
    const sums = await loadSums(dir, verify);
    return loadPair(dir, { name: 'notmnist', images: NOTMNIST_FILES.images, labels: NOTMNIST_FILES.labels, classNames: NOTMNIST_CLASS_NAMES, ...GREY_28 }, sums);
  });
}

/** GTSRB file names relative to the data dir. */
export const GTSRB_FILES = Object.freeze({
  trainImages: 'gtsrb/gtsrb-train-images-idx4-ubyte.gz',
  trainLabels: 'gtsrb/gtsrb-train-labels-idx1-ubyte.gz',
  trainMeta: 'gtsrb/gtsrb-train-meta.csv',
  testImages: 'gtsrb/gtsrb-test-images-idx4-ubyte.gz',
  testLabels: 'gtsrb/gtsrb-test-labels-idx1-ubyte.gz',
  signNames: 'gtsrb/gtsrb-signnames.csv',
});

/** Splits one CSV line (double-quoted fields may hold commas and doubled quotes). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

async function loadCsv(dir: string, rel: string, sums: Map<string, string> | null, columns: string[]): Promise<string[][]> {
  const path = join(dir, rel);
  const bytes = await readFile(path);
  if (sums) {
    const expected = sums.get(rel);
    const sha256 = sha256Bytes(bytes);
    if (expected === undefined) throw new ChecksumError(path, null, sha256, `${path}: no SHA-256 listed for ${rel} in ${join(dir, SUMS_FILE)}`);
    if (expected !== sha256) throw new ChecksumError(path, expected, sha256);
  }
  const lines = bytes.toString('utf8').split(/\r?\n/).filter((l) => l !== '');
  const header = parseCsvLine(lines[0] ?? '');
  const idx = columns.map((c) => header.indexOf(c));
  const missing = columns.filter((_, i) => idx[i] < 0);
  if (missing.length) throw new IdxFormatError(path, `expected CSV columns ${columns.join(', ')}, missing ${missing.join(', ')} (found ${header.join(', ')})`);
  return lines.slice(1).map((l) => {
    const f = parseCsvLine(l);
    return idx.map((i) => f[i]);
  });
}

/**
 * Loads GTSRB (the full official train 39,209 / test 12,630 images, 32×32 RGB, 43 classes named
 * by `gtsrb-signnames.csv`); the training images carry their track (`groups`: the frames of one
 * physical sign), so that validation splits can keep tracks apart, and come in a fixed shuffled
 * order (seeded permutation 0 of the files' class-sorted order). Memoized like {@link loadMnist}.
 * @throws ChecksumError when verification fails; IdxFormatError for malformed files.
 */
export async function loadGtsrb(options?: LoadOptions): Promise<{ train: ImageDataset; test: ImageDataset }> {
  const dir = resolve(options?.dataDir ?? dataDir());
  const verify = options?.verify ?? true;
  return memo(`gtsrb|${dir}|${verify}`, async () => {
    const sums = await loadSums(dir, verify);
    const names = await loadCsv(dir, GTSRB_FILES.signNames, sums, ['ClassId', 'SignName']);
    const classNames = names.map(([id, name], i) => {
      if (Number(id) !== i) throw new IdxFormatError(join(dir, GTSRB_FILES.signNames), `row ${i + 1}: expected ClassId ${i}, found ${JSON.stringify(id)}`);
      return name;
    });
    const rgb = { height: 32, width: 32, channels: 3 };
    const [train, test, meta] = await Promise.all([
      loadPair(dir, { name: 'gtsrb-train', images: GTSRB_FILES.trainImages, labels: GTSRB_FILES.trainLabels, classNames, ...rgb }, sums),
      loadPair(dir, { name: 'gtsrb-test', images: GTSRB_FILES.testImages, labels: GTSRB_FILES.testLabels, classNames, ...rgb }, sums),
      loadCsv(dir, GTSRB_FILES.trainMeta, sums, ['index', 'class_id', 'track_id']),
    ]);
    const metaPath = join(dir, GTSRB_FILES.trainMeta);
    if (meta.length !== train.n) throw new IdxFormatError(metaPath, `expected ${train.n} rows (one per training image), found ${meta.length}`);
    const groups = new Int32Array(train.n);
    const trackIds = new Map<string, number>();
    meta.forEach(([index, classId, track], row) => {
      if (Number(index) !== row || Number(classId) !== train.labels[row]) {
        throw new IdxFormatError(metaPath, `row ${row + 1}: index ${index} class ${classId} does not match image ${row} of class ${train.labels[row]}`);
      }
      const key = `${classId}/${track}`;
      if (!trackIds.has(key)) trackIds.set(key, trackIds.size);
      groups[row] = trackIds.get(key)!;
    });
    train.groups = groups;
    train.checksums[GTSRB_FILES.trainMeta] = sha256Bytes(await readFile(metaPath));
    train.checksums[GTSRB_FILES.signNames] = sha256Bytes(await readFile(join(dir, GTSRB_FILES.signNames)));
    // The files hold the training images sorted by class, track and frame: returned in one fixed
    // seeded order instead, so that the first N images (a quick run's kNN database) are a fair sample.
    return { train: gather(train, seededPermutation(train.n, 0), { name: 'gtsrb-train' }), test };
  });
}

/** Forgets memoized data sets (frees their memory once no caller holds them). */
export function clearDatasetCache(): void {
  cache.clear();
}
