import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerError, readContainer, writeContainer } from '../../lib/artifacts/container';

const dir = mkdtempSync(join(tmpdir(), 'dknn-container-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('named arrays of every dtype round-trip with their shapes and the metadata', () => {
  const path = join(dir, 'a.bin');
  const f32 = Float32Array.from([1.5, -2, 3]);
  const i32 = Int32Array.from([7, -8]);
  const u8 = Uint8Array.from([1, 2, 3, 4, 5]);
  const f64 = Float64Array.from([Math.PI]);
  writeContainer(path, {
    arrays: [
      { name: 'f', values: f32 },
      { name: 'i', values: i32, shape: [1, 2] },
      { name: 'u', values: u8 },
      { name: 'd', values: f64 },
    ],
    meta: { what: 'test', n: 3 },
  });
  const c = readContainer(path);
  assert.deepEqual(c.meta, { what: 'test', n: 3 });
  assert.deepEqual(c.get('f').values, f32);
  assert.deepEqual(c.get('i').values, i32);
  assert.deepEqual(c.get('i').shape, [1, 2]);
  assert.deepEqual(c.get('u').values, u8);
  assert.deepEqual(c.get('d').values, f64);
  assert.throws(() => c.get('nope'), /no array named "nope"; found f, i, u, d/);
  const into = new Float32Array(10);
  assert.equal(readContainer(path, { into: { f: into } }).get('f').values.buffer, into.buffer);
  assert.throws(
    () => readContainer(path, { into: { f: new Float32Array(2) } }),
    /array f is 3 float32 values; the array given to read it into is a Float32Array of 2/,
  );
});

test('every single-bit flip, in the header, the payload or the checksum, is detected', () => {
  const path = join(dir, 'b.bin');
  writeContainer(path, {
    arrays: [{ name: 'v', values: Float32Array.from({ length: 7 }, (_, i) => i) }],
    meta: { k: 'x' },
  });
  const bytes = readFileSync(path);
  for (let at = 0; at < bytes.length; at++) {
    const damaged = Buffer.from(bytes);
    damaged[at] ^= 1 << (at % 8);
    writeFileSync(path, damaged);
    assert.throws(
      () => readContainer(path),
      (e: Error) => e instanceof ContainerError && e.message.startsWith(path),
      `flip at byte ${at}`,
    );
  }
});

test('truncation, junk, malformed headers and shape mismatches are ContainerErrors naming the file', () => {
  const path = join(dir, 'c.bin');
  writeContainer(path, { arrays: [{ name: 'v', values: new Float32Array(4) }], meta: {} });
  truncateSync(path, readFileSync(path).length - 1);
  assert.throws(() => readContainer(path), /lies at bytes 0…16 of a 15-byte payload/);
  writeFileSync(path, 'hello world, not a container at all');
  assert.throws(() => readContainer(path), /expected a dknn-ts container starting with "DKNNART1", found "hello wo"/);
  assert.throws(() => readContainer(join(dir, 'missing.bin')), /missing.bin: cannot open \(ENOENT\)/);
  assert.throws(
    () => writeContainer(path, { arrays: [{ name: 'v', values: new Float32Array(4), shape: [3] }], meta: {} }),
    /array v has shape \[3\] = 3 values, found 4/,
  );
  assert.throws(
    () =>
      writeContainer(path, {
        arrays: [
          { name: 'v', values: new Float32Array(1) },
          { name: 'v', values: new Float32Array(1) },
        ],
        meta: {},
      }),
    /array name "v" given twice/,
  );
  const header = (json: string) => {
    const j = Buffer.from(json);
    const pad = (8 - ((12 + j.length) % 8)) % 8;
    const p = Buffer.alloc(12);
    p.write('DKNNART1', 0, 'latin1');
    p.writeUInt32LE(j.length + pad, 8);
    writeFileSync(path, Buffer.concat([p, j, Buffer.alloc(pad, 0x20), Buffer.alloc(32)]));
  };
  header('{"format":"dknn-ts-container","version":1,"meta":{},"arrays":null}');
  assert.throws(() => readContainer(path), /header has no array list \(found null\)/);
  header(
    '{"format":"dknn-ts-container","version":1,"meta":{},"arrays":[{"name":"constructor","dtype":"toString","shape":[1],"offset":0,"byteLength":4}]}',
  );
  assert.throws(() => readContainer(path), /header array 0 has dtype "toString"/);
  header('{"format":"other","version":1}');
  assert.throws(() => readContainer(path), /expected header format dknn-ts-container version 1, found "other" 1/);
  header('{not json');
  assert.throws(() => readContainer(path), /header is not valid JSON/);
});
