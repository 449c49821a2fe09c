import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheKey, cachePath, canonicalJson, readCachedFloat32, readCachedHeader, sha256Of, writeCachedFloat32 } from '../lib/cache';

const dir = mkdtempSync(join(tmpdir(), 'dknn-cache-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('cacheKey is the sha256 of a canonical JSON: key order does not matter, values do', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null }, u: undefined }), '{"a":{"c":null,"d":[1,"x"]},"b":1}');
  const key = cacheKey({ b: 1, a: 2 });
  assert.equal(key, createHash('sha256').update('{"a":2,"b":1}').digest('hex'));
  assert.equal(cacheKey({ a: 2, b: 1 }), key);
  assert.notEqual(cacheKey({ a: 2, b: 2 }), key);
  assert.notEqual(cacheKey({ a: '2', b: 1 }), key);
  assert.throws(() => cacheKey({ a: NaN }), /parts.a is NaN; expected a finite number/);
  assert.throws(() => cacheKey({ a: new Float32Array(2) }), /parts.a is a Float32Array \(hash it first\)/);
  assert.throws(() => cacheKey({ a: [new Date()] }), /parts.a\[0\] is a object/);
});

test('a written array reads back equal, with its metadata in the header', () => {
  const key = cacheKey({ what: 'roundtrip' });
  const values = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i) * 1e3);
  const path = writeCachedFloat32(key, values, { what: 'roundtrip', n: 1001 }, { dir });
  assert.equal(path, cachePath(key, { dir }));
  assert.equal(path, join(dir, 'float32', `${key}.f32`));
  assert.deepEqual(readCachedFloat32(key, 1001, { dir }), values);
  assert.deepEqual(readCachedHeader(key, { dir })?.meta, { what: 'roundtrip', n: 1001 });
  // Into a caller's (larger) array.
  const into = new Float32Array(2000);
  const view = readCachedFloat32(key, 1001, { dir, into });
  assert.equal(view?.buffer, into.buffer);
  assert.deepEqual(view, values);
  assert.deepEqual(readdirSync(join(dir, 'float32')), [`${key}.f32`], 'no temp file left behind');
});

test('a missing file, another length, another key or a damaged file is a miss, not an error', () => {
  const key = cacheKey({ what: 'miss' });
  assert.equal(readCachedFloat32(key, 10, { dir }), undefined, 'nothing written yet');
  const path = writeCachedFloat32(key, new Float32Array(10).fill(1), {}, { dir });
  assert.equal(readCachedFloat32(key, 11, { dir }), undefined, 'wrong length');
  assert.equal(readCachedFloat32(key, 10, { dir, kind: 'other' }), undefined, 'other kind folder');
  // A file holding another key's entry under this name.
  const other = cacheKey({ what: 'other' });
  writeFileSync(cachePath(other, { dir }), readFileSync(path));
  assert.equal(readCachedFloat32(other, 10, { dir }), undefined, 'header names another key');
  // Truncated payload, bad magic.
  truncateSync(path, readFileSync(path).length - 4);
  assert.equal(readCachedFloat32(key, 10, { dir }), undefined, 'truncated');
  writeFileSync(path, 'not a cache file at all');
  assert.equal(readCachedFloat32(key, 10, { dir }), undefined, 'bad magic');
  assert.equal(readCachedHeader(key, { dir }), undefined);
  // Rewriting repairs it.
  writeCachedFloat32(key, new Float32Array(10).fill(2), {}, { dir });
  assert.deepEqual(readCachedFloat32(key, 10, { dir }), new Float32Array(10).fill(2));
  assert.throws(() => readCachedFloat32('abc', 10, { dir }), /cache key must be 64 lower-case hex digits/);
});

test('an empty array round-trips and sha256Of hashes the bytes of a view', () => {
  const key = cacheKey({ what: 'empty' });
  writeCachedFloat32(key, new Float32Array(0), {}, { dir });
  assert.deepEqual(readCachedFloat32(key, 0, { dir }), new Float32Array(0));
  const a = Float32Array.from([1, 2, 3, 4]);
  assert.equal(sha256Of(a.subarray(1, 3)), createHash('sha256').update(new Uint8Array(a.buffer, 4, 8)).digest('hex'));
  assert.ok(existsSync(join(dir, 'float32')));
});
