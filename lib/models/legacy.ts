/**
 * The legacy single-file weights format (`.dknnw`, dknn-ts 0.1): still read (and written, for tests
 * and old tools) so that users who trained with it keep their models. New models are saved in the
 * tfjs LayersModel format (see format.ts).
 *
 * Layout: `DKNNWTS1`, a little-endian uint32 header length, the JSON header, zero padding to 8
 * bytes, then the float32 payload (little-endian). The header holds the payload's sha256 (the
 * header itself is not covered: version 1 files predate that; its structure is validated instead).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../artifacts/atomic';
import { ModelFormatError, type StoredTensor } from './weights';

const MAGIC = 'DKNNWTS1';

/** The JSON header of a weights file (`.dknnw`). */
export interface WeightsHeader {
  format: 'dknn-ts-weights';
  version: 1;
  /** Free-form description of what produced the tensors (architecture, training record, …). */
  meta: Record<string, unknown>;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
  /** sha256 (hex) of the float32 payload. */
  payloadSha256: string;
}

/** A weights file's content: the header and its tensors (views into one buffer). */
export interface WeightsFile {
  header: WeightsHeader;
  tensors: StoredTensor[];
}

/**
 * Writes named float32 arrays and a JSON `meta` record to one file, atomically (temp file + rename):
 * `DKNNWTS1`, a little-endian uint32 header length, the JSON header, zero padding to 8 bytes,
 * then the float32 payload (little-endian). The header holds the payload's sha256.
 */
export function writeWeightsFile(path: string, tensors: StoredTensor[], meta: Record<string, unknown>): void {
  let offset = 0;
  const specs = tensors.map((t) => {
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (expected !== t.values.length) {
      throw new ModelFormatError(
        `tensor ${t.name}: shape [${t.shape}] needs ${expected} values, found ${t.values.length}`,
      );
    }
    const spec = { name: t.name, shape: t.shape, offset, length: t.values.length };
    offset += t.values.length;
    return spec;
  });
  const payload = new Float32Array(offset);
  tensors.forEach((t, i) => payload.set(t.values, specs[i].offset));
  const payloadBytes = new Uint8Array(payload.buffer);
  const header: WeightsHeader = {
    format: 'dknn-ts-weights',
    version: 1,
    meta,
    tensors: specs,
    payloadSha256: createHash('sha256').update(payloadBytes).digest('hex'),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - ((MAGIC.length + 4 + json.length) % 8)) % 8;
  const prefix = Buffer.alloc(MAGIC.length + 4);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length + pad, MAGIC.length);
  writeFileAtomic(path, prefix, json, Buffer.alloc(pad, 0x20), payloadBytes);
}

/** Reads and verifies a file written by {@link writeWeightsFile}. */
export function readWeightsFile(path: string): WeightsFile {
  const bytes = readFileSync(path);
  if (bytes.length < MAGIC.length + 4 || bytes.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw new ModelFormatError(
      `${path}: expected a dknn-ts weights file starting with "${MAGIC}", found ${JSON.stringify(bytes.toString('latin1', 0, Math.min(8, bytes.length)))}`,
    );
  }
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const payloadStart = MAGIC.length + 4 + headerLength;
  if (payloadStart > bytes.length) {
    throw new ModelFormatError(
      `${path}: header says ${headerLength} bytes of JSON, but the file has only ${bytes.length - MAGIC.length - 4} after the prefix`,
    );
  }
  let header: WeightsHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', MAGIC.length + 4, payloadStart)) as WeightsHeader;
  } catch (err) {
    throw new ModelFormatError(`${path}: header is not valid JSON (${(err as Error).message})`);
  }
  const total = checkHeader(path, header);
  const payloadBytes = bytes.length - payloadStart;
  if (payloadBytes !== total * 4) {
    throw new ModelFormatError(
      `${path}: expected ${total * 4} payload bytes for ${header.tensors.length} tensors, found ${payloadBytes}`,
    );
  }
  const payload = new Uint8Array(bytes.buffer.slice(bytes.byteOffset + payloadStart, bytes.byteOffset + bytes.length));
  const sha = createHash('sha256').update(payload).digest('hex');
  if (sha !== header.payloadSha256) {
    throw new ModelFormatError(
      `${path}: payload checksum mismatch: expected sha256 ${header.payloadSha256}, found ${sha}`,
    );
  }
  const floats = new Float32Array(payload.buffer, 0, total);
  const tensors = header.tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    values: floats.subarray(t.offset, t.offset + t.length),
  }));
  return { header, tensors };
}

/** Validates a header's structure (the checksum covers only the payload): returns the float count. */
function checkHeader(path: string, header: WeightsHeader): number {
  const bad = (why: string) => new ModelFormatError(`${path}: malformed header: ${why}`);
  if (header === null || typeof header !== 'object' || header.format !== 'dknn-ts-weights' || header.version !== 1) {
    throw bad(
      `expected format dknn-ts-weights version 1, found ${JSON.stringify(header?.format)} ${JSON.stringify(header?.version)}`,
    );
  }
  if (header.meta === null || typeof header.meta !== 'object')
    throw bad(`meta is ${JSON.stringify(header.meta)}, expected an object`);
  if (!Array.isArray(header.tensors)) throw bad(`tensors is ${JSON.stringify(header.tensors)}, expected an array`);
  if (typeof header.payloadSha256 !== 'string') throw bad('no payloadSha256');
  let offset = 0;
  header.tensors.forEach((t, i) => {
    if (t === null || typeof t !== 'object' || typeof t.name !== 'string') throw bad(`tensor ${i} has no name`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw bad(`tensor ${t.name} has shape ${JSON.stringify(t.shape)}`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.length !== count) throw bad(`tensor ${t.name} has length ${t.length}, its shape [${t.shape}] needs ${count}`);
    if (t.offset !== offset)
      throw bad(`tensor ${t.name} starts at ${t.offset}, expected ${offset} (tensors are stored back to back)`);
    offset += count;
  });
  return offset;
}
