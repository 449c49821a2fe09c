/**
 * Reader (and writer) for the IDX binary array format used by MNIST.
 *
 * Layout (all integers big-endian): two zero bytes, a type-code byte, a byte with the number of
 * dimensions D, then D int32 dimension sizes, then the row-major payload. Gzip-compressed input
 * (magic 1f 8b) is detected and decompressed with a bounded output size.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';

/** Element types an IDX file can hold. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** Typed array matching an {@link IdxDtype}. */
export type IdxTypedArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX array: element type, dimension sizes (row-major) and the flat data. */
export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  data: IdxTypedArray;
}

/** Options for {@link parseIdx} and {@link readIdxFile}. */
export interface IdxParseOptions {
  /** Name of the data's origin (e.g. the file name), used in error messages. */
  source?: string;
  /** Refuse arrays with more elements than this before allocating anything. Default 2e8. */
  maxElements?: number;
}

/** Thrown for any malformed IDX input (bad magic, bad dims, truncation, trailing bytes, corrupt gzip). */
export class IdxFormatError extends Error {
  override readonly name = 'IdxFormatError';
  /** The `source` the error refers to (file name or '<buffer>'). */
  readonly source: string;
  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super(`${source}: ${message}`, options);
    this.source = source;
  }
}

/** Type code byte for each dtype (IDX spec). */
export const IDX_TYPE_CODES: Readonly<Record<IdxDtype, number>> = Object.freeze({
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
});

/** Bytes per element for each dtype. */
export const IDX_ELEMENT_BYTES: Readonly<Record<IdxDtype, number>> = Object.freeze({
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
});

/** Largest number of dimensions accepted. */
export const IDX_MAX_DIMS = 16;

/** Default for {@link IdxParseOptions.maxElements}. */
export const IDX_DEFAULT_MAX_ELEMENTS = 2e8;

const DTYPE_BY_CODE = new Map<number, IdxDtype>(
  (Object.keys(IDX_TYPE_CODES) as IdxDtype[]).map((d) => [IDX_TYPE_CODES[d], d]),
);
const TYPE_CODE_LIST = (Object.keys(IDX_TYPE_CODES) as IdxDtype[])
  .map((d) => `${hex(IDX_TYPE_CODES[d])} ${d}`)
  .join(', ');
/** Compressed bytes inflated (with sync flush) to find the header, tried in turn. */
const GZIP_HEADER_PREFIXES = [1024, 65536];

interface Header {
  dtype: IdxDtype;
  dims: number[];
  headerBytes: number;
  elements: number;
  payloadBytes: number;
}

function hex(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}

function fmtDims(dims: number[]): string {
  return `[${dims.join(', ')}]`;
}

function resolveOptions(options: IdxParseOptions | undefined): { source: string; maxElements: number } {
  const source = options?.source ?? '<buffer>';
  const maxElements = options?.maxElements ?? IDX_DEFAULT_MAX_ELEMENTS;
  if (typeof maxElements !== 'number' || Number.isNaN(maxElements) || maxElements < 0) {
    throw new RangeError(`parseIdx: maxElements must be a non-negative number, got ${String(maxElements)}`);
  }
  return { source, maxElements };
}

/**
 * Parses the header. Returns null when `bytes` is too short but `complete` is false (more data may
 * follow); throws IdxFormatError for anything invalid.
 */
function parseHeader(bytes: Uint8Array, source: string, maxElements: number, complete: boolean): Header | null {
  const len = bytes.length;
  if (len >= 1 && bytes[0] !== 0) {
    const found = Array.from(bytes.subarray(0, Math.min(len, 4)), hex).join(' ');
    throw new IdxFormatError(source, `bad magic: expected an IDX header starting 0x00 0x00 <type> <ndims>, found ${found}`);
  }
  if (len >= 2 && bytes[1] !== 0) {
    const found = Array.from(bytes.subarray(0, Math.min(len, 4)), hex).join(' ');
    throw new IdxFormatError(source, `bad magic: expected an IDX header starting 0x00 0x00 <type> <ndims>, found ${found}`);
  }
  if (len >= 3 && !DTYPE_BY_CODE.has(bytes[2]!)) {
    throw new IdxFormatError(source, `bad magic: unknown IDX type code ${hex(bytes[2]!)} in byte 2 (expected one of ${TYPE_CODE_LIST})`);
  }
  if (len < 4) {
    if (!complete) return null;
    throw new IdxFormatError(source, `truncated header: expected at least 4 bytes (magic), found ${len}`);
  }
  const dtype = DTYPE_BY_CODE.get(bytes[2]!)!;
  const ndims = bytes[3]!;
  if (ndims === 0) {
    throw new IdxFormatError(source, `zero dimensions in header: byte 3 (ndims) is 0, expected 1..${IDX_MAX_DIMS}`);
  }
  if (ndims > IDX_MAX_DIMS) {
    throw new IdxFormatError(source, `too many dimensions in header: byte 3 (ndims) is ${ndims}, expected 1..${IDX_MAX_DIMS}`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (len < headerBytes) {
    if (!complete) return null;
    throw new IdxFormatError(
      source,
      `truncated header: expected ${headerBytes} bytes (4 magic + ${ndims} int32 dimension sizes), found ${len}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const dims: number[] = [];
  let elements = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getInt32(4 + 4 * i, false);
    if (d < 0) {
      throw new IdxFormatError(source, `negative size ${d} for dimension ${i} in header (expected >= 0)`);
    }
    dims.push(d);
    elements *= d;
  }
  if (elements > maxElements) {
    throw new IdxFormatError(
      source,
      `dims ${fmtDims(dims)} hold ${elements.toPrecision(4)} elements, more than maxElements = ${maxElements}; refusing to allocate`,
    );
  }
  const payloadBytes = elements * IDX_ELEMENT_BYTES[dtype];
  return { dtype, dims, headerBytes, elements, payloadBytes };
}

function payloadMessage(h: Header, found: string): string {
  return (
    `expected ${h.payloadBytes} bytes of payload after the ${h.headerBytes}-byte header ` +
    `(dims ${fmtDims(h.dims)} of ${IDX_ELEMENT_BYTES[h.dtype]}-byte ${h.dtype}), found ${found}`
  );
}

function decodePayload(bytes: Uint8Array, h: Header, copy: boolean): IdxTypedArray {
  const off = bytes.byteOffset + h.headerBytes;
  const n = h.elements;
  switch (h.dtype) {
    case 'uint8': {
      const v = new Uint8Array(bytes.buffer, off, n);
      return copy ? v.slice() : v;
    }
    case 'int8': {
      const v = new Int8Array(bytes.buffer, off, n);
      return copy ? v.slice() : v;
    }
    default: {
      const dv = new DataView(bytes.buffer, off, h.payloadBytes);
      if (h.dtype === 'int16') {
        const out = new Int16Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, false);
        return out;
      }
      if (h.dtype === 'int32') {
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, false);
        return out;
      }
      if (h.dtype === 'float32') {
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, false);
        return out;
      }
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, false);
      return out;
    }
  }
}

/** Parses uncompressed IDX bytes; `owned` means the buffer is private so 1-byte data may be a view. */
function parseRaw(bytes: Uint8Array, source: string, maxElements: number, owned: boolean): IdxArray {
  const h = parseHeader(bytes, source, maxElements, true)!;
  const found = bytes.length - h.headerBytes;
  if (found < h.payloadBytes) {
    throw new IdxFormatError(source, `truncated payload: ${payloadMessage(h, String(found))}`);
  }
  if (found > h.payloadBytes) {
    throw new IdxFormatError(
      source,
      `trailing bytes: ${payloadMessage(h, `${found} (${found - h.payloadBytes} bytes too many)`)}`,
    );
  }
  return { dtype: h.dtype, dims: h.dims, data: decodePayload(bytes, h, !owned) };
}

function gzipError(source: string, err: unknown): IdxFormatError {
  const msg = err instanceof Error ? err.message : String(err);
  return new IdxFormatError(source, `corrupt gzip data: ${msg}`, { cause: err });
}

function isBufferTooLarge(err: unknown): boolean {
  return err instanceof RangeError && (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
}

function parseGzip(bytes: Uint8Array, source: string, maxElements: number): IdxArray {
  // Phase 1: inflate a short prefix to read the header, so the size of the full output is known
  // (and bounded by maxElements) before inflating everything.
  let header: Header | null = null;
  let smallOutput = 0;
  for (const n of GZIP_HEADER_PREFIXES) {
    const prefix = bytes.subarray(0, Math.min(n, bytes.length));
    let out: Buffer;
    try {
      out = gunzipSync(prefix, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (err) {
      throw gzipError(source, err);
    }
    header = parseHeader(out, source, maxElements, false);
    if (header !== null) break;
    if (prefix.length === bytes.length) {
      smallOutput = out.length;
      break;
    }
  }
  let limit: number;
  if (header === null) {
    if (smallOutput === 0 && bytes.length > GZIP_HEADER_PREFIXES[GZIP_HEADER_PREFIXES.length - 1]!) {
      throw new IdxFormatError(
        source,
        `gzip stream yields no complete IDX header within its first ${GZIP_HEADER_PREFIXES.at(-1)} compressed bytes`,
      );
    }
    limit = 4 + 4 * IDX_MAX_DIMS;
  } else {
    limit = header.headerBytes + header.payloadBytes;
  }
  // Allow a little slack so that a few trailing bytes are reported exactly.
  const maxOutputLength = Math.min(limit + 1024, bufferConstants.MAX_LENGTH);
  if (limit > bufferConstants.MAX_LENGTH) {
    throw new IdxFormatError(source, `decompressed size ${limit} exceeds the largest possible buffer (${bufferConstants.MAX_LENGTH} bytes)`);
  }
  let full: Buffer;
  try {
    full = gunzipSync(bytes, { maxOutputLength });
  } catch (err) {
    if (isBufferTooLarge(err) && header !== null) {
      throw new IdxFormatError(
        source,
        `trailing bytes: ${payloadMessage(header, `more than ${maxOutputLength - header.headerBytes} after decompression`)}`,
        { cause: err },
      );
    }
    throw gzipError(source, err);
  }
  return parseRaw(full, source, maxElements, true);
}

/**
 * Parses an IDX array from bytes (raw or gzip-compressed, detected by the 1f 8b magic).
 * The result never aliases `bytes`.
 * @throws IdxFormatError naming `options.source` for any malformed input.
 */
export function parseIdx(bytes: Uint8Array, options?: IdxParseOptions): IdxArray {
  const { source, maxElements } = resolveOptions(options);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return parseGzip(bytes, source, maxElements);
  }
  return parseRaw(bytes, source, maxElements, false);
}

/** Serializes an array to uncompressed IDX bytes (inverse of {@link parseIdx}). */
export function encodeIdx(array: IdxArray): Uint8Array {
  const { dtype, dims, data } = array;
  const code = IDX_TYPE_CODES[dtype];
  if (code === undefined) throw new RangeError(`encodeIdx: unknown dtype ${String(dtype)}`);
  if (dims.length < 1 || dims.length > IDX_MAX_DIMS) {
    throw new RangeError(`encodeIdx: expected 1..${IDX_MAX_DIMS} dims, got ${dims.length}`);
  }
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0x7fffffff) throw new RangeError(`encodeIdx: bad dimension ${d}`);
    n *= d;
  }
  if (n !== data.length) {
    throw new RangeError(`encodeIdx: dims ${fmtDims(dims)} hold ${n} elements but data has ${data.length}`);
  }
  const headerBytes = 4 + 4 * dims.length;
  const size = IDX_ELEMENT_BYTES[dtype];
  const out = new Uint8Array(headerBytes + n * size);
  const dv = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => dv.setInt32(4 + 4 * i, d, false));
  for (let i = 0; i < n; i++) {
    const p = headerBytes + i * size;
    const v = data[i]!;
    switch (dtype) {
      case 'uint8':
        dv.setUint8(p, v);
        break;
      case 'int8':
        dv.setInt8(p, v);
        break;
      case 'int16':
        dv.setInt16(p, v, false);
        break;
      case 'int32':
        dv.setInt32(p, v, false);
        break;
      case 'float32':
        dv.setFloat32(p, v, false);
        break;
      case 'float64':
        dv.setFloat64(p, v, false);
        break;
    }
  }
  return out;
}

function checkFileSize(size: number, source: string, maxElements: number): void {
  // A raw file holds at most the largest header plus maxElements 8-byte elements; gzip adds a
  // small overhead even for incompressible data.
  const limit = (4 + 4 * IDX_MAX_DIMS + maxElements * 8) * 1.01 + 65536;
  if (size > limit) {
    throw new IdxFormatError(
      source,
      `file is ${size} bytes, larger than any IDX array within maxElements = ${maxElements} could be (${Math.floor(limit)} bytes)`,
    );
  }
}

/**
 * Reads and parses an IDX file (raw or .gz). `options.source` defaults to `path`.
 * @throws IdxFormatError for malformed content; file-system errors propagate unchanged.
 */
export async function readIdxFile(path: string, options?: IdxParseOptions): Promise<IdxArray> {
  const { source, maxElements } = resolveOptions({ source: path, ...options });
  checkFileSize((await stat(path)).size, source, maxElements);
  return parseIdx(await readFile(path), { source, maxElements });
}

/** Synchronous variant of {@link readIdxFile}. */
export function readIdxFileSync(path: string, options?: IdxParseOptions): IdxArray {
  const { source, maxElements } = resolveOptions({ source: path, ...options });
  checkFileSize(statSync(path).size, source, maxElements);
  return parseIdx(readFileSync(path), { source, maxElements });
}
