/**
 * Artefact keys: the sha256 of a canonical JSON of what an artefact was computed from, so equal
 * inputs always give the same key and a change of any input gives another.
 */
import { createHash } from 'node:crypto';

/** Node refuses single reads/writes over 2 GiB; hashing and I/O go in chunks of at most this. */
export const IO_CHUNK_BYTES = 256 * 1024 * 1024;

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
  throw new Error(
    `cacheKey: ${path} is a ${what}; expected JSON data (null, boolean, finite number, string, array, plain object)`,
  );
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

/** The bytes of a typed array (a view, no copy). */
export function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** sha256 (hex) of a typed array's bytes, hashed in chunks (e.g. the images an artefact came from). */
export function sha256Of(values: ArrayBufferView): string {
  const h = createHash('sha256');
  const bytes = bytesOf(values);
  for (let off = 0; off < bytes.byteLength; off += IO_CHUNK_BYTES)
    h.update(bytes.subarray(off, Math.min(bytes.byteLength, off + IO_CHUNK_BYTES)));
  return h.digest('hex');
}
