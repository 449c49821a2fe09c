/**
 * The one binary container for stored arrays (activation and adversarial caches, training
 * checkpoints): named typed arrays with a JSON header, and a sha256 over everything before it.
 *
 * Layout: `DKNNART1`, a little-endian uint32 header length, the JSON header (space-padded so the
 * payload starts at a multiple of 8), the arrays (each starting at a multiple of 8 bytes of the
 * payload, zero padding between), then 32 bytes: the sha256 of every byte before them. A reader
 * checks magic, header, sizes and that checksum before it returns anything, so a damaged header
 * or payload (a flipped bit, a zero-filled block, a truncation) is always detected.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { readBytesAt, writeFileAtomic } from './atomic';
import { bytesOf, IO_CHUNK_BYTES } from './keys';

const MAGIC = 'DKNNART1';
const FORMAT = 'dknn-ts-container';
const VERSION = 1;
const PREFIX = MAGIC.length + 4;
const DIGEST = 32;
const MAX_HEADER = 64 << 20;

/** Element types a container stores. */
export type ContainerDtype = 'float32' | 'float64' | 'int32' | 'uint8';
/** A typed array of one of the {@link ContainerDtype}s. */
export type ContainerValues = Float32Array | Float64Array | Int32Array | Uint8Array;

const CTORS = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array } as const;

function dtypeOf(values: ContainerValues): ContainerDtype {
  if (values instanceof Float32Array) return 'float32';
  if (values instanceof Float64Array) return 'float64';
  if (values instanceof Int32Array) return 'int32';
  if (values instanceof Uint8Array) return 'uint8';
  throw new ContainerError(
    `expected a Float32Array, Float64Array, Int32Array or Uint8Array, found ${(values as object)?.constructor?.name}`,
  );
}

/** One named array to store. `shape` defaults to `[values.length]`. */
export interface ContainerArray {
  name: string;
  values: ContainerValues;
  shape?: number[];
}

/** An array as read back. */
export interface StoredArray {
  name: string;
  dtype: ContainerDtype;
  shape: number[];
  values: ContainerValues;
}

interface ArraySpec {
  name: string;
  dtype: ContainerDtype;
  shape: number[];
  /** Byte offset from the start of the payload. */
  offset: number;
  byteLength: number;
}

interface Header {
  format: typeof FORMAT;
  version: typeof VERSION;
  meta: Record<string, unknown>;
  arrays: ArraySpec[];
}

/** A container that is not one, is damaged, or does not hold what was expected. */
export class ContainerError extends Error {
  override name = 'ContainerError';
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/**
 * Writes `arrays` and `meta` (JSON data) to `path` atomically, with the checksum. Returns `path`.
 * @throws ContainerError on duplicate names or a shape that does not match its values.
 */
export function writeContainer(
  path: string,
  content: { arrays: ContainerArray[]; meta: Record<string, unknown> },
): string {
  const { arrays, meta } = content;
  let offset = 0;
  const names = new Set<string>();
  const specs = arrays.map((a): ArraySpec => {
    if (names.has(a.name)) throw new ContainerError(`${path}: array name ${JSON.stringify(a.name)} given twice`);
    names.add(a.name);
    const shape = a.shape ?? [a.values.length];
    const count = shape.reduce((x, y) => x * y, 1);
    if (count !== a.values.length)
      throw new ContainerError(
        `${path}: array ${a.name} has shape [${shape}] = ${count} values, found ${a.values.length}`,
      );
    const spec = { name: a.name, dtype: dtypeOf(a.values), shape, offset, byteLength: a.values.byteLength };
    offset = align8(offset + a.values.byteLength);
    return spec;
  });
  const header: Header = { format: FORMAT, version: VERSION, meta, arrays: specs };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerBytes = align8(PREFIX + json.length) - PREFIX;
  const prefix = Buffer.alloc(PREFIX);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(headerBytes, MAGIC.length);
  const parts: Uint8Array[] = [prefix, json, Buffer.alloc(headerBytes - json.length, 0x20)];
  arrays.forEach((a, i) => {
    parts.push(bytesOf(a.values));
    const pad = align8(specs[i].byteLength) - specs[i].byteLength;
    if (pad > 0) parts.push(new Uint8Array(pad));
  });
  const h = createHash('sha256');
  for (const p of parts)
    for (let o = 0; o < p.byteLength; o += IO_CHUNK_BYTES)
      h.update(p.subarray(o, Math.min(p.byteLength, o + IO_CHUNK_BYTES)));
  writeFileAtomic(path, ...parts, h.digest());
  return path;
}

/** Options of {@link readContainer}. */
export interface ReadContainerOptions {
  /** Read these arrays into the given typed arrays (same dtype, at least as long); the result's values are views of them. */
  into?: Record<string, ContainerValues | undefined>;
}

/** What {@link readContainer} returns. */
export interface ContainerContent {
  meta: Record<string, unknown>;
  arrays: StoredArray[];
  /** The array named `name`. @throws ContainerError when there is none. */
  get(name: string): StoredArray;
}

function readFully(
  at: { path: string; fd: number },
  target: Uint8Array,
  position: number,
  hash: ReturnType<typeof createHash> | null,
): boolean {
  for (let off = 0; off < target.byteLength;) {
    const len = Math.min(IO_CHUNK_BYTES, target.byteLength - off);
    let got: number;
    try {
      got = readBytesAt(at.fd, target, { path: at.path, offset: off, length: len, position: position + off });
    } catch (err) {
      throw new ContainerError((err as Error).message, { cause: err });
    }
    if (got === 0) return false;
    hash?.update(target.subarray(off, off + got));
    off += got;
  }
  return true;
}

function checkSpec(path: string, s: unknown, i: number, payloadBytes: number): ArraySpec {
  const a = s as ArraySpec;
  const bad = (why: string) => new ContainerError(`${path}: header array ${i} ${why}`);
  if (a === null || typeof a !== 'object') throw bad('is not an object');
  if (typeof a.name !== 'string') throw bad(`has no name (found ${JSON.stringify(a.name)})`);
  if (!Object.prototype.hasOwnProperty.call(CTORS, a.dtype))
    throw bad(`has dtype ${JSON.stringify(a.dtype)}, expected one of ${Object.keys(CTORS).join(', ')}`);
  if (!Array.isArray(a.shape) || !a.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw bad(`has shape ${JSON.stringify(a.shape)}, expected non-negative integers`);
  const count = a.shape.reduce((x, y) => x * y, 1);
  if (a.byteLength !== count * CTORS[a.dtype].BYTES_PER_ELEMENT)
    throw bad(`(${a.name}) has ${a.byteLength} bytes for shape [${a.shape}] of ${a.dtype}`);
  if (!Number.isSafeInteger(a.offset) || a.offset < 0 || a.offset % 8 !== 0 || a.offset + a.byteLength > payloadBytes) {
    throw bad(`(${a.name}) lies at bytes ${a.offset}…${a.offset + a.byteLength} of a ${payloadBytes}-byte payload`);
  }
  return a;
}

/** Reads and checks the prefix and the JSON header (hashing them); returns the header and where the payload starts. */
function readHeader(path: string, fd: number, fileBytes: number, hash: Hash): { header: Header; payloadStart: number } {
  const prefix = Buffer.alloc(Math.min(PREFIX, fileBytes));
  readFully({ path, fd }, prefix, 0, hash);
  if (fileBytes < PREFIX + DIGEST || prefix.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw new ContainerError(
      `${path}: expected a dknn-ts container starting with "${MAGIC}", found ${JSON.stringify(prefix.toString('latin1', 0, Math.min(MAGIC.length, fileBytes)))}`,
    );
  }
  const headerBytes = prefix.readUInt32LE(MAGIC.length);
  if (headerBytes > MAX_HEADER || PREFIX + headerBytes + DIGEST > fileBytes) {
    throw new ContainerError(`${path}: header of ${headerBytes} bytes does not fit a ${fileBytes}-byte file`);
  }
  const json = Buffer.alloc(headerBytes);
  readFully({ path, fd }, json, PREFIX, hash);
  let header: Header;
  try {
    header = JSON.parse(json.toString('utf8')) as Header;
  } catch (err) {
    throw new ContainerError(`${path}: header is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (header === null || typeof header !== 'object' || header.format !== FORMAT || header.version !== VERSION) {
    throw new ContainerError(
      `${path}: expected header format ${FORMAT} version ${VERSION}, found ${JSON.stringify(header?.format)} ${JSON.stringify(header?.version)}`,
    );
  }
  if (!Array.isArray(header.arrays))
    throw new ContainerError(`${path}: header has no array list (found ${JSON.stringify(header.arrays)})`);
  if (header.meta === null || typeof header.meta !== 'object' || Array.isArray(header.meta))
    throw new ContainerError(`${path}: header meta is not an object`);
  return { header, payloadStart: PREFIX + headerBytes };
}

/** Reads every array of the payload (hashing every byte, gaps included), into the caller's arrays where given. */
function readArrays(
  path: string,
  fd: number,
  specs: ArraySpec[],
  at: { payloadStart: number; payloadBytes: number },
  hash: Hash,
  options: ReadContainerOptions,
): StoredArray[] {
  const arrays: StoredArray[] = [];
  let pos = 0;
  for (const s of specs) {
    if (s.offset < pos) throw new ContainerError(`${path}: header arrays overlap at ${s.name}`);
    if (s.offset > pos) readFully({ path, fd }, new Uint8Array(s.offset - pos), at.payloadStart + pos, hash);
    const Ctor = CTORS[s.dtype];
    const count = s.byteLength / Ctor.BYTES_PER_ELEMENT;
    const into = options.into?.[s.name];
    let values: ContainerValues;
    if (into) {
      if (!(into instanceof Ctor) || into.length < count) {
        throw new ContainerError(
          `${path}: array ${s.name} is ${count} ${s.dtype} values; the array given to read it into is a ${into.constructor.name} of ${into.length}`,
        );
      }
      values = into.subarray(0, count);
    } else {
      values = new Ctor(count);
    }
    readFully({ path, fd }, bytesOf(values), at.payloadStart + s.offset, hash);
    arrays.push({ name: s.name, dtype: s.dtype, shape: s.shape, values });
    pos = s.offset + s.byteLength;
  }
  if (at.payloadBytes > pos)
    readFully({ path, fd }, new Uint8Array(at.payloadBytes - pos), at.payloadStart + pos, hash);
  return arrays;
}

/**
 * Reads and verifies a container written by {@link writeContainer}.
 * @throws ContainerError naming the file and what is wrong (missing, not a container, damaged
 *   header, checksum mismatch, truncation), never returning damaged values.
 */
export function readContainer(path: string, options: ReadContainerOptions = {}): ContainerContent {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new ContainerError(
      `${path}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      {
        cause: err,
      },
    );
  }
  try {
    const fileBytes = fstatSync(fd).size;
    const hash = createHash('sha256');
    const { header, payloadStart } = readHeader(path, fd, fileBytes, hash);
    const payloadBytes = fileBytes - payloadStart - DIGEST;
    const specs = header.arrays.map((s, i) => checkSpec(path, s, i, payloadBytes));
    const expectedEnd = specs.length ? align8(specs[specs.length - 1].offset + specs[specs.length - 1].byteLength) : 0;
    if (expectedEnd !== payloadBytes)
      throw new ContainerError(
        `${path}: expected ${expectedEnd} payload bytes, found ${payloadBytes} (truncated or extended)`,
      );
    const arrays = readArrays(path, fd, specs, { payloadStart, payloadBytes }, hash, options);
    const stored = Buffer.alloc(DIGEST);
    readFully({ path, fd }, stored, payloadStart + payloadBytes, null);
    const actual = hash.digest();
    if (!actual.equals(stored)) {
      throw new ContainerError(
        `${path}: checksum mismatch (the file is damaged): stored sha256 ${stored.toString('hex')}, computed ${actual.toString('hex')}`,
      );
    }
    return {
      meta: header.meta,
      arrays,
      get(name: string): StoredArray {
        const a = arrays.find((x) => x.name === name);
        if (!a)
          throw new ContainerError(
            `${path}: no array named ${JSON.stringify(name)}; found ${arrays.map((x) => x.name).join(', ') || 'none'}`,
          );
        return a;
      },
    };
  } finally {
    closeSync(fd);
  }
}
