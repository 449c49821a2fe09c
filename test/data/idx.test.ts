import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  IdxArray,
  IdxDtype,
  IdxFormatError,
  encodeIdx,
  parseIdx,
  readIdxFile,
  readIdxFileSync,
} from '../../lib/data/idx';
import { createRng } from '../../lib/util/random';

/** Asserts that fn throws an IdxFormatError whose message matches every pattern. */
function throwsIdx(fn: () => unknown, ...patterns: (RegExp | string)[]): IdxFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, 'expected an IdxFormatError, nothing was thrown');
  assert.ok(caught instanceof IdxFormatError, `expected IdxFormatError, got ${String(caught)}`);
  assert.equal(caught.name, 'IdxFormatError');
  for (const p of patterns) {
    if (typeof p === 'string') assert.ok(caught.message.includes(p), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(p)}`);
    else assert.match(caught.message, p);
  }
  return caught;
}

/** Parses and asserts the outcome is a consistent array or an IdxFormatError (nothing else). */
function parseOrFormatError(bytes: Uint8Array): IdxArray | null {
  try {
    const a = parseIdx(bytes, { source: 'fuzz', maxElements: 1e6 });
    assert.equal(a.data.length, a.dims.reduce((p, d) => p * d, 1));
    return a;
  } catch (e) {
    assert.ok(e instanceof IdxFormatError, `expected IdxFormatError, got ${e instanceof Error ? e.stack : String(e)}`);
    return null;
  }
}

function bytes(...xs: number[]): Uint8Array {
  return Uint8Array.from(xs);
}

const SAMPLES: Record<IdxDtype, number[]> = {
  uint8: [0, 1, 127, 128, 254, 255],
  int8: [-128, -1, 0, 1, 126, 127],
  int16: [-32768, -2, 0, 258, 1000, 32767],
  int32: [-2147483648, -65536, 0, 16909060, 2, 2147483647],
  float32: [-1.5, 0, 3.140000104904175, 1e-38, -Infinity, 65504],
  float64: [Math.PI, -0, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -1e-300],
};

const CTORS = {
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

test('round trip of every dtype, raw and gzip, 1-3 dims', () => {
  for (const dtype of Object.keys(SAMPLES) as IdxDtype[]) {
    for (const dims of [[6], [2, 3], [3, 1, 2]]) {
      const data = CTORS[dtype].from(SAMPLES[dtype]);
      const enc = encodeIdx({ dtype, dims, data });
      assert.equal(enc.length, 4 + 4 * dims.length + 6 * data.BYTES_PER_ELEMENT);
      for (const input of [enc, gzipSync(enc)]) {
        const out = parseIdx(input);
        assert.equal(out.dtype, dtype);
        assert.deepEqual(out.dims, dims);
        assert.ok(out.data instanceof CTORS[dtype], `${dtype}: wrong array type`);
        assert.deepEqual(Array.from(out.data), Array.from(data));
      }
    }
  }
});

test('hand-built big-endian buffers decode to the right values', () => {
  // int16 [2]: 0x0102 = 258, 0xfffe = -2
  let a = parseIdx(bytes(0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe));
  assert.equal(a.dtype, 'int16');
  assert.deepEqual(Array.from(a.data), [258, -2]);
  // int32 [1]: 0x01020304
  a = parseIdx(bytes(0, 0, 0x0c, 1, 0, 0, 0, 1, 1, 2, 3, 4));
  assert.deepEqual(Array.from(a.data), [16909060]);
  // float32 [1]: 0x3fc00000 = 1.5
  a = parseIdx(bytes(0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0));
  assert.deepEqual(Array.from(a.data), [1.5]);
  // float64 [1]: 0xc000000000000000 = -2
  a = parseIdx(bytes(0, 0, 0x0e, 1, 0, 0, 0, 1, 0xc0, 0, 0, 0, 0, 0, 0, 0));
  assert.deepEqual(Array.from(a.data), [-2]);
  // int8 [2, 1]: 0xff = -1, 0x80 = -128
  a = parseIdx(bytes(0, 0, 0x09, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0x80));
  assert.deepEqual(a.dims, [2, 1]);
  assert.deepEqual(Array.from(a.data), [-1, -128]);
  // uint8 with a zero-size dimension: empty but valid
  a = parseIdx(bytes(0, 0, 0x08, 2, 0, 0, 0, 0, 0, 0, 0, 5));
  assert.deepEqual(a.dims, [0, 5]);
  assert.equal(a.data.length, 0);
});

test('result never aliases the input buffer', () => {
  const enc = encodeIdx({ dtype: 'uint8', dims: [3], data: bytes(1, 2, 3) });
  const out = parseIdx(enc);
  enc[enc.length - 1] = 99;
  assert.deepEqual(Array.from(out.data), [1, 2, 3]);
});

test('bad magic: non-zero leading bytes, unknown type code', () => {
  throwsIdx(() => parseIdx(bytes(0x50, 0x4b, 3, 4, 0, 0), { source: 'x.zip' }), 'x.zip:', 'bad magic', '0x00 0x00', 'found 0x50 0x4b 0x03 0x04');
  throwsIdx(() => parseIdx(bytes(0, 1, 8, 1, 0, 0, 0, 0)), 'bad magic', 'found 0x00 0x01 0x08 0x01');
  throwsIdx(() => parseIdx(bytes(0, 0, 0x07, 1, 0, 0, 0, 0)), 'unknown IDX type code 0x07', '0x08 uint8', '0x0e float64');
  throwsIdx(() => parseIdx(bytes(0, 0, 0x0a, 1, 0, 0, 0, 0)), 'unknown IDX type code 0x0a');
  // messages default to '<buffer>' as the source
  throwsIdx(() => parseIdx(bytes(1)), '<buffer>: bad magic');
});

test('zero and too many dimensions', () => {
  throwsIdx(() => parseIdx(bytes(0, 0, 8, 0, 1, 2), { source: 'z.idx' }), 'z.idx:', 'zero dimensions', 'expected 1..16');
  const many = new Uint8Array(4 + 4 * 17);
  many[2] = 8;
  many[3] = 17;
  throwsIdx(() => parseIdx(many), 'too many dimensions', 'is 17', 'expected 1..16');
  throwsIdx(() => parseIdx(bytes(0, 0, 8, 255)), 'too many dimensions', 'is 255');
});

test('truncated header', () => {
  throwsIdx(() => parseIdx(new Uint8Array(0), { source: 'empty.idx' }), 'empty.idx:', 'truncated header', 'expected at least 4 bytes', 'found 0');
  throwsIdx(() => parseIdx(bytes(0, 0, 8)), 'truncated header', 'found 3');
  throwsIdx(() => parseIdx(bytes(0, 0, 8, 3, 0, 0, 0, 1, 0, 0)), 'truncated header', 'expected 16 bytes', 'found 10');
});

test('truncated payload and trailing bytes name expected and found sizes', () => {
  const enc = encodeIdx({ dtype: 'uint8', dims: [2, 3, 4], data: new Uint8Array(24) });
  throwsIdx(
    () => parseIdx(enc.subarray(0, 16 + 20), { source: 'cut.idx' }),
    'cut.idx:',
    'truncated payload',
    'expected 24 bytes of payload after the 16-byte header',
    'found 20',
    '[2, 3, 4]',
  );
  const longer = new Uint8Array(enc.length + 5);
  longer.set(enc);
  throwsIdx(() => parseIdx(longer), 'trailing bytes', 'expected 24 bytes of payload after the 16-byte header', 'found 29', '5 bytes too many');
  // dims product vs payload for a multi-byte type: [3] float64 needs 24 bytes
  const f = encodeIdx({ dtype: 'float64', dims: [3], data: new Float64Array(3) });
  throwsIdx(() => parseIdx(f.subarray(0, f.length - 1)), 'expected 24 bytes of payload after the 8-byte header', 'found 23', '8-byte float64');
  // the same through gzip
  throwsIdx(() => parseIdx(gzipSync(enc.subarray(0, 30))), 'truncated payload', 'found 14');
  throwsIdx(() => parseIdx(gzipSync(longer)), 'trailing bytes', '5 bytes too many');
});

test('negative dimension', () => {
  throwsIdx(() => parseIdx(bytes(0, 0, 8, 2, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfb)), 'negative size -5 for dimension 1');
});

test('absurd dims are refused before allocating, quickly', () => {
  const h = new Uint8Array(4 + 16);
  h[2] = 0x0e;
  h[3] = 4;
  const dv = new DataView(h.buffer);
  for (let i = 0; i < 4; i++) dv.setInt32(4 + 4 * i, 2 ** 30, false);
  const t0 = performance.now();
  throwsIdx(() => parseIdx(h, { source: 'huge.idx' }), 'huge.idx:', 'more than maxElements = 200000000', 'refusing to allocate');
  throwsIdx(() => parseIdx(gzipSync(h)), 'refusing to allocate');
  // maximal int32 dims with a payload attached
  const big = new Uint8Array(4 + 8 + 100);
  big[2] = 8;
  big[3] = 2;
  new DataView(big.buffer).setInt32(4, 0x7fffffff, false);
  new DataView(big.buffer).setInt32(8, 0x7fffffff, false);
  throwsIdx(() => parseIdx(big), 'refusing to allocate');
  assert.ok(performance.now() - t0 < 500, 'rejection was slow');
  // custom maxElements
  const enc = encodeIdx({ dtype: 'uint8', dims: [10, 10], data: new Uint8Array(100) });
  throwsIdx(() => parseIdx(enc, { maxElements: 99 }), 'hold 100.0 elements, more than maxElements = 99');
  assert.equal(parseIdx(enc, { maxElements: 100 }).data.length, 100);
  assert.throws(() => parseIdx(enc, { maxElements: -1 }), RangeError);
});

test('gzip bombs: output is bounded by the header, garbage is refused after a short prefix', () => {
  // Header claims 1000 bytes, the stream inflates to 20 MB.
  const head = encodeIdx({ dtype: 'uint8', dims: [1000], data: new Uint8Array(1000) });
  const bomb = gzipSync(Buffer.concat([head, Buffer.alloc(20 * 2 ** 20)]), { level: 9 });
  throwsIdx(() => parseIdx(bomb, { source: 'bomb.gz' }), 'bomb.gz:', 'trailing bytes', 'expected 1000 bytes of payload', 'more than');
  // Non-IDX content inflating to 20 MB: rejected on the first kilobyte of output.
  const junk = gzipSync(Buffer.alloc(20 * 2 ** 20, 0xff), { level: 9 });
  throwsIdx(() => parseIdx(junk), 'bad magic', 'found 0xff 0xff 0xff 0xff');
});

test('corrupt gzip', () => {
  const enc = encodeIdx({ dtype: 'int32', dims: [50], data: Int32Array.from({ length: 50 }, (_, i) => i * 7919) });
  const gz = Buffer.from(gzipSync(enc));
  const crc = Buffer.from(gz);
  crc[crc.length - 6]! ^= 0x01; // CRC32 of the trailer
  throwsIdx(() => parseIdx(crc, { source: 'crc.gz' }), 'crc.gz:', 'corrupt gzip data');
  throwsIdx(() => parseIdx(gz.subarray(0, gz.length - 3)), 'corrupt gzip data');
  throwsIdx(() => parseIdx(bytes(0x1f, 0x8b)), 'corrupt gzip data');
  throwsIdx(() => parseIdx(bytes(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff)), 'corrupt gzip data');
});

test('every truncation of a valid file throws IdxFormatError (raw and gzip)', () => {
  const files = [
    encodeIdx({ dtype: 'uint8', dims: [4, 3, 2], data: Uint8Array.from({ length: 24 }, (_, i) => i) }),
    encodeIdx({ dtype: 'float64', dims: [5], data: Float64Array.from([1, 2, 3, 4, 5]) }),
  ];
  for (const f of files) {
    for (let cut = 0; cut < f.length; cut++) throwsIdx(() => parseIdx(f.subarray(0, cut)));
    const gz = gzipSync(f);
    for (let cut = 0; cut < gz.length; cut++) {
      // Cutting only part of the 8-byte trailer can still leave a readable stream in some zlib
      // versions; whatever happens, it must be a full result or an IdxFormatError.
      const r = parseOrFormatError(gz.subarray(0, cut));
      if (cut < gz.length - 8) assert.equal(r, null, `gzip cut at ${cut} of ${gz.length} parsed`);
    }
  }
});

test('random bytes and random corruption never throw anything but IdxFormatError', () => {
  const rng = createRng(42);
  const prefixes = [[], [0, 0], [0, 0, 8], [0, 0, 8, 1], [0, 0, 0x0c, 2], [0, 0, 0x0e, 3], [0x1f, 0x8b, 8]];
  for (let trial = 0; trial < 3000; trial++) {
    const len = rng.int(64);
    const buf = new Uint8Array(len);
    for (let i = 0; i < len; i++) buf[i] = rng.int(256);
    const p = prefixes[rng.int(prefixes.length)]!;
    buf.set(p.slice(0, len));
    // keep declared dims small sometimes so parsing gets past the size check
    if (len > 8 && rng.next() < 0.5) buf[4] = buf[5] = buf[6] = 0;
    parseOrFormatError(buf);
  }
  const good = encodeIdx({ dtype: 'int16', dims: [3, 7], data: Int16Array.from({ length: 21 }, (_, i) => i * 1000 - 9000) });
  for (const base of [good, gzipSync(good)]) {
    for (let trial = 0; trial < 400; trial++) {
      const b = Uint8Array.from(base);
      const flips = 1 + rng.int(3);
      for (let k = 0; k < flips; k++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
      parseOrFormatError(b);
    }
  }
});

test('readIdxFile / readIdxFileSync: real MNIST labels, temp files, errors name the path', async () => {
  const labels = await readIdxFile(join(__dirname, '../../data/mnist/t10k-labels-idx1-ubyte.gz'));
  assert.equal(labels.dtype, 'uint8');
  assert.deepEqual(labels.dims, [10000]);
  assert.deepEqual(Array.from(labels.data.subarray(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);

  const dir = mkdtempSync(join(tmpdir(), 'dknn-idx-'));
  try {
    const enc = encodeIdx({ dtype: 'float32', dims: [2, 2], data: Float32Array.from([1, 2, 3, 4]) });
    const raw = join(dir, 'a.idx');
    const gz = join(dir, 'a.idx.gz');
    writeFileSync(raw, enc);
    writeFileSync(gz, gzipSync(enc));
    assert.deepEqual(Array.from(readIdxFileSync(raw).data), [1, 2, 3, 4]);
    assert.deepEqual(Array.from((await readIdxFile(gz)).data), [1, 2, 3, 4]);
    const bad = join(dir, 'bad.idx');
    writeFileSync(bad, enc.subarray(0, 10));
    await assert.rejects(readIdxFile(bad), (e: unknown) => e instanceof IdxFormatError && e.message.startsWith(`${bad}: truncated`));
    assert.throws(() => readIdxFileSync(bad, { source: 'nice-name' }), /^IdxFormatError: nice-name: truncated/);
    // a file larger than any array within maxElements is refused before being read
    const bigFile = join(dir, 'big.idx');
    writeFileSync(bigFile, encodeIdx({ dtype: 'uint8', dims: [100000], data: new Uint8Array(100000) }));
    assert.throws(() => readIdxFileSync(bigFile, { maxElements: 1000 }), /file is 100008 bytes, larger than any IDX array within maxElements = 1000/);
    await assert.rejects(readIdxFile(bigFile, { maxElements: 1000 }), IdxFormatError);
    // missing files are file-system errors, not format errors
    await assert.rejects(readIdxFile(join(dir, 'missing.idx')), { code: 'ENOENT' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
