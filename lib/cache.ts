/**
 * A small artefact cache (activations, …) under `<repo>/.cache/` (overridable): float32 arrays
 * stored under a key that is the sha256 of what they were computed from.
 *
 * File `<dir>/<kind>/<key>.f32`: `DKNNF32\0`, a little-endian uint32 header length, a JSON header
 * `{ format, version, key, length, meta }` (space-padded to a multiple of 8 bytes), then `length`
 * little-endian float32 values. Writes are atomic (temp file, fsync, rename: a reader never sees a
 * half-written file) and chunked, as are reads (Node refuses single I/O calls over 2 GiB). A read
 * whose magic, header, key or length does not match is a miss (`undefined`), never an error.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './notebook';
import { IO_CHUNK_BYTES, writeFileAtomic } from './util/atomic';

const MAGIC = 'DKNNF32\0';
const FORMAT = 'dknn-ts-float32';
const VERSION = 1;

/** Options shared by the cache functions. */
export interface CacheOptions {
  /** Cache folder. Default {@link defaultCacheDir}() = `<repo>/.cache`. */
  dir?: string;
  /** Sub-folder grouping one kind of artefact. Default `'float32'`. */
  kind?: string;
}

/** The header stored in front of a cached array. */
export interface CachedFloat32Header {
  format: typeof FORMAT;
  version: typeof VERSION;
  /** The cache key (sha256 hex). */
  key: string;
  /** Number of float32 values. */
  length: number;
  /** What the values were computed from (usually the key's parts) and anything worth knowing. */
  meta: Record<string, unknown>;
}

/** `<repo>/.cache`. */
export function defaultCacheDir(): string {
  return join(repoRoot(), '.cache');
}

function canonical(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cacheKey: ${path} is ${value}; expected a finite number`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => canonical(v, `${path}[${i}]`));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v, `${path}.${k}`);
    }
    return out;
  }
  const what = ArrayBuffer.isView(value) ? `${value.constructor.name} (hash it first)` : typeof value;
  throw new Error(`cacheKey: ${path} is a ${what}; expected JSON data (null, boolean, finite number, string, array, plain object)`);
}

/**
 * JSON with object keys sorted at every level (undefined members dropped), so that equal data
 * always gives the same text. Throws on non-finite numbers, typed arrays, functions and class instances.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value, 'parts'));
}

/** sha256 (hex) of {@link canonicalJson}(parts): key order does not matter, every value does. */
export function cacheKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(parts), 'utf8').digest('hex');
}

function checkKey(key: string): void {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`cache key must be 64 lower-case hex digits (see cacheKey), found ${JSON.stringify(key)}`);
}

/** Path of the file holding `key`. */
export function cachePath(key: string, options: CacheOptions = {}): string {
  checkKey(key);
  return join(options.dir ?? defaultCacheDir(), options.kind ?? 'float32', `${key}.f32`);
}

function readFully(fd: number, target: Uint8Array, position: number): boolean {
  for (let off = 0; off < target.byteLength; ) {
    const len = Math.min(IO_CHUNK_BYTES, target.byteLength - off);
    const got = readSync(fd, target, off, len, position + off);
    if (got === 0) return false;
    off += got;
  }
  return true;
}

/**
 * The header of a cached array, or undefined when there is no readable entry for `key`
 * (missing file, wrong magic, unreadable header, or a header naming another key).
 */
export function readCachedHeader(key: string, options: CacheOptions = {}): CachedFloat32Header | undefined {
  const path = cachePath(key, options);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return readHeader(fd, key)?.header;
  } finally {
    closeSync(fd);
  }
}

function readHeader(fd: number, key: string): { header: CachedFloat32Header; payloadStart: number; fileBytes: number } | undefined {
  const fileBytes = fstatSync(fd).size;
  const prefix = Buffer.alloc(MAGIC.length + 4);
  if (fileBytes < prefix.length || !readFully(fd, prefix, 0)) return undefined;
  if (prefix.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
  const headerBytes = prefix.readUInt32LE(MAGIC.length);
  const payloadStart = prefix.length + headerBytes;
  if (payloadStart > fileBytes || headerBytes > 1 << 24) return undefined;
  const json = Buffer.alloc(headerBytes);
  if (!readFully(fd, json, prefix.length)) return undefined;
  let header: CachedFloat32Header;
  try {
    header = JSON.parse(json.toString('utf8')) as CachedFloat32Header;
  } catch {
    return undefined;
  }
  if (header?.format !== FORMAT || header.version !== VERSION || header.key !== key || !Number.isSafeInteger(header.length)) return undefined;
  return { header, payloadStart, fileBytes };
}

/**
 * The cached array for `key`, or undefined when there is none or it does not match: wrong magic or
 * header, another key, a length other than `expectedLength`, or a file size that disagrees with its
 * header. Reads in chunks (works beyond 2 GiB). With `into` (at least `expectedLength` values) the
 * values are read into it and a view of its first `expectedLength` values is returned.
 */
export function readCachedFloat32(key: string, expectedLength: number, options: CacheOptions & { into?: Float32Array } = {}): Float32Array | undefined {
  if (!Number.isSafeInteger(expectedLength) || expectedLength < 0) {
    throw new RangeError(`expectedLength must be an integer ≥ 0, found ${expectedLength}`);
  }
  if (options.into && options.into.length < expectedLength) {
    throw new RangeError(`into holds ${options.into.length} values, expected at least ${expectedLength}`);
  }
  const path = cachePath(key, options);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const h = readHeader(fd, key);
    if (!h || h.header.length !== expectedLength || h.fileBytes !== h.payloadStart + 4 * expectedLength) return undefined;
    const values = options.into ? options.into.subarray(0, expectedLength) : new Float32Array(expectedLength);
    const ok = readFully(fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength), h.payloadStart);
    return ok ? values : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Stores `values` under `key` atomically (parent folders created; an existing entry is replaced)
 * with `meta` in the header, and returns the file path. `meta` should hold what the key was
 * computed from, so that a cache file says what it is.
 */
export function writeCachedFloat32(key: string, values: Float32Array, meta: Record<string, unknown>, options: CacheOptions = {}): string {
  const path = cachePath(key, options);
  const header: CachedFloat32Header = { format: FORMAT, version: VERSION, key, length: values.length, meta };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - ((MAGIC.length + 4 + json.length) % 8)) % 8;
  const prefix = Buffer.alloc(MAGIC.length + 4);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length + pad, MAGIC.length);
  writeFileAtomic(path, prefix, json, Buffer.alloc(pad, 0x20), values);
  return path;
}

/** sha256 (hex) of a typed array's bytes, hashed in chunks (e.g. the images an artefact came from). */
export function sha256Of(values: ArrayBufferView): string {
  const h = createHash('sha256');
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  for (let off = 0; off < bytes.byteLength; off += IO_CHUNK_BYTES) h.update(bytes.subarray(off, Math.min(bytes.byteLength, off + IO_CHUNK_BYTES)));
  return h.digest('hex');
}
