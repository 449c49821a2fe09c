import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactCache } from '../../lib/artifacts/cache';
import { cacheKey, canonicalJson, sha256Of } from '../../lib/artifacts/keys';

const dir = mkdtempSync(join(tmpdir(), 'dknn-cache-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function cache(): { cache: ArtifactCache; warnings: string[] } {
  const warnings: string[] = [];
  return { cache: new ArtifactCache({ dir, onWarning: (m) => warnings.push(m) }), warnings };
}

test('cacheKey is the sha256 of a canonical JSON: key order does not matter, values do', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, 'x'], c: null }, u: undefined }),
    '{"a":{"c":null,"d":[1,"x"]},"b":1}',
  );
  const key = cacheKey({ b: 1, a: 2 });
  assert.equal(key, createHash('sha256').update('{"a":2,"b":1}').digest('hex'));
  assert.equal(cacheKey({ a: 2, b: 1 }), key);
  assert.notEqual(cacheKey({ a: 2, b: 2 }), key);
  assert.notEqual(cacheKey({ a: '2', b: 1 }), key);
  assert.throws(() => cacheKey({ a: NaN }), /parts.a is NaN; expected a finite number/);
  assert.throws(() => cacheKey({ a: new Float32Array(2) }), /parts.a is a Float32Array \(hash it first\)/);
  assert.throws(() => cacheKey({ a: [new Date()] }), /parts.a\[0\] is a object/);
});

test('a written array reads back equal, with its metadata and inputs', () => {
  const { cache: c, warnings } = cache();
  const parts = { what: 'roundtrip' };
  const values = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i) * 1e3);
  const path = c.write({ kind: 'things', parts }, { values, meta: { n: 1001 } });
  assert.equal(path, join(dir, 'things', `${cacheKey(parts)}.bin`));
  assert.equal(c.path({ kind: 'things', parts }), path);
  const hit = c.read({ kind: 'things', parts }, { length: 1001 });
  assert.deepEqual(hit?.values, values);
  assert.equal(hit?.meta.n, 1001);
  assert.deepEqual(hit?.meta.parts, parts);
  const into = new Float32Array(2000);
  const view = c.read({ kind: 'things', parts }, { length: 1001, into });
  assert.equal(view?.values.buffer, into.buffer, "read into the caller's array");
  assert.deepEqual(view?.values, values);
  assert.deepEqual(readdirSync(join(dir, 'things')), [`${cacheKey(parts)}.bin`], 'no temp file left behind');
  assert.deepEqual(warnings, []);
});

test('a missing entry is a silent miss; a damaged, foreign or wrong-length entry is a miss with one warning naming the file', () => {
  const { cache: c, warnings } = cache();
  const parts = { what: 'miss' };
  assert.equal(c.read({ kind: 'things', parts }, { length: 10 }), undefined, 'nothing written yet');
  assert.deepEqual(warnings, []);
  const path = c.write({ kind: 'things', parts }, { values: new Float32Array(10).fill(1) })!;
  assert.equal(c.read({ kind: 'things', parts }, { length: 11 }), undefined, 'wrong length');
  assert.match(warnings.pop()!, new RegExp(`${path}: expected 11 float32 values, found 10`));
  const other = { what: 'other' };
  writeFileSync(c.path({ kind: 'things', parts: other })!, readFileSync(path));
  assert.equal(c.read({ kind: 'things', parts: other }, { length: 10 }), undefined, 'made from other inputs');
  assert.match(warnings.pop()!, /made from other inputs than its key says/);
  const bytes = readFileSync(path);
  for (const at of [20, bytes.length - 40, bytes.length - 1]) {
    const damaged = Buffer.from(bytes);
    damaged[at] ^= 0x01;
    writeFileSync(path, damaged);
    assert.equal(c.read({ kind: 'things', parts }, { length: 10 }), undefined, `bit flipped at byte ${at}`);
    assert.ok(String(warnings.pop()).includes(path), 'the warning names the file');
  }
  writeFileSync(
    path,
    Buffer.concat([bytes.subarray(0, bytes.length - 44), Buffer.alloc(40), bytes.subarray(bytes.length - 4)]),
  );
  assert.equal(c.read({ kind: 'things', parts }, { length: 10 }), undefined, 'payload zero-filled');
  assert.match(warnings.pop()!, /checksum mismatch \(the file is damaged\)/);
  c.write({ kind: 'things', parts }, { values: new Float32Array(10).fill(2) });
  assert.deepEqual(
    c.read({ kind: 'things', parts }, { length: 10 })?.values,
    new Float32Array(10).fill(2),
    'rewriting repairs it',
  );
  assert.deepEqual(warnings, []);
});

test('caching can be turned off; bad kinds and an empty folder name are refused', () => {
  const off = new ArtifactCache({ dir: false });
  assert.equal(off.path({ kind: 'things', parts: { a: 1 } }), null);
  assert.equal(off.write({ kind: 'things', parts: { a: 1 } }, { values: new Float32Array(2) }), null);
  assert.equal(off.read({ kind: 'things', parts: { a: 1 } }, { length: 2 }), undefined);
  assert.throws(() => new ArtifactCache({ dir: '' }), /cache dir: expected a folder path or false, found ''/);
  assert.throws(
    () => cache().cache.path({ kind: '../up', parts: {} }),
    /cache kind must be lower-case letters, digits and dashes, found "..\/up"/,
  );
});

test('an empty array round-trips and sha256Of hashes the bytes of a view', () => {
  const { cache: c } = cache();
  c.write({ kind: 'things', parts: { what: 'empty' } }, { values: new Float32Array(0) });
  assert.deepEqual(c.read({ kind: 'things', parts: { what: 'empty' } }, { length: 0 })?.values, new Float32Array(0));
  const a = Float32Array.from([1, 2, 3, 4]);
  assert.equal(
    sha256Of(a.subarray(1, 3)),
    createHash('sha256')
      .update(new Uint8Array(a.buffer, 4, 8))
      .digest('hex'),
  );
});
