import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChecksumError,
  Sha256SumsFormatError,
  parseSha256Sums,
  readSha256Sums,
  sha256Bytes,
  sha256File,
  verifyBytes,
  verifyFile,
} from '../../lib/data/checksum';
import { loadNotMnist } from '../../lib/data/datasets';

const DATA = join(__dirname, '../../data');
const LABELS = 'notmnist/t10k-labels-idx1-ubyte.gz';
const LABELS_SHA = '1fa03836e01c862542f8eb83463bb951bebec6fcb3efa28dad748c6b38a9021b';

test('sha256 of known inputs', async () => {
  assert.equal(sha256Bytes(new Uint8Array(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(sha256Bytes(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(await sha256File(join(DATA, LABELS)), LABELS_SHA);
});

test('parseSha256Sums: text and binary mode, blank lines, errors', () => {
  const h = 'a'.repeat(64);
  const m = parseSha256Sums(`${h}  dir/x.gz\n\n${'B'.repeat(64)} *y with space.bin\r\n# comment\n`);
  assert.deepEqual([...m], [
    ['dir/x.gz', h],
    ['y with space.bin', 'b'.repeat(64)],
  ]);
  assert.throws(() => parseSha256Sums(`${h}  a\nnot a line\n`, { source: 'S' }), (e: unknown) =>
    e instanceof Sha256SumsFormatError && /^S:2: expected "<64 hex digits> {2}<path>", found "not a line"/.test(e.message));
  assert.throws(() => parseSha256Sums(`${'a'.repeat(63)}  a`), Sha256SumsFormatError);
  assert.throws(() => parseSha256Sums(`${h}  a\n${'c'.repeat(64)}  a`), /listed twice/);
});

test('the repository SHA256SUMS lists all thirteen data files (MNIST, notMNIST, GTSRB) and the three ONNX fixtures', async () => {
  const sums = await readSha256Sums(join(DATA, 'SHA256SUMS'));
  assert.equal(sums.size, 16);
  assert.equal(sums.get('gtsrb/gtsrb-train-images-idx4-ubyte.gz'), '451744cc4dae71f48878156a7d0ed0e0b0d537f2ce0471ad6271ece3b709301d', 'the checksum of the shared dataset README');
  assert.equal(sums.get(LABELS), LABELS_SHA);
  assert.equal(sums.get('mnist/train-images-idx3-ubyte.gz'), '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609');
});

test('verifyFile / verifyBytes accept the right hash and report a flipped byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dknn-sum-'));
  try {
    const copy = join(dir, 'labels.gz');
    copyFileSync(join(DATA, LABELS), copy);
    assert.equal(await verifyFile(copy, LABELS_SHA.toUpperCase()), LABELS_SHA);
    const b = readFileSync(copy);
    b[100]! ^= 0x01;
    writeFileSync(copy, b);
    const actual = sha256Bytes(b);
    await assert.rejects(verifyFile(copy, LABELS_SHA), (e: unknown) => {
      assert.ok(e instanceof ChecksumError);
      assert.equal(e.name, 'ChecksumError');
      assert.equal(e.file, copy);
      assert.equal(e.expected, LABELS_SHA);
      assert.equal(e.actual, actual);
      assert.ok(e.message.includes(copy) && e.message.includes(`expected ${LABELS_SHA}`) && e.message.includes(`found ${actual}`));
      return true;
    });
    assert.throws(() => verifyBytes(b, LABELS_SHA, 'mem'), /^ChecksumError: mem: SHA-256 mismatch/);
    assert.equal(verifyBytes(b, actual, 'mem'), actual);
    assert.throws(() => verifyBytes(b, 'xyz', 'mem'), RangeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loaders refuse a data dir whose file does not match SHA256SUMS (unless verify: false)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dknn-sum-'));
  try {
    mkdirSync(join(dir, 'notmnist'));
    copyFileSync(join(DATA, 'SHA256SUMS'), join(dir, 'SHA256SUMS'));
    copyFileSync(join(DATA, 'notmnist/t10k-images-idx3-ubyte.gz'), join(dir, 'notmnist/t10k-images-idx3-ubyte.gz'));
    const b = readFileSync(join(DATA, LABELS));
    b[b.length - 5]! ^= 0x80; // inside the gzip trailer (ISIZE): the hash changes
    writeFileSync(join(dir, LABELS), b);
    await assert.rejects(loadNotMnist({ dataDir: dir }), (e: unknown) =>
      e instanceof ChecksumError && e.file === join(dir, LABELS) && e.expected === LABELS_SHA && e.message.includes(LABELS_SHA));
    // without verification the damage surfaces as a format error instead
    await assert.rejects(loadNotMnist({ dataDir: dir, verify: false }), { name: 'IdxFormatError', message: /corrupt gzip data/ });
    // a file missing from SHA256SUMS is refused too
    writeFileSync(join(dir, 'SHA256SUMS'), readFileSync(join(DATA, 'SHA256SUMS'), 'utf8').split('\n').filter((l) => !l.includes(LABELS)).join('\n'));
    await assert.rejects(loadNotMnist({ dataDir: dir }), (e: unknown) => e instanceof ChecksumError && e.expected === null && /no SHA-256 listed/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
