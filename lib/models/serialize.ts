import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../util/atomic';

const MAGIC = 'DKNNWTS1';

/** One named float32 array of a weights file. */
export interface StoredTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

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

/** Error for a weights file that is not one, is damaged, or does not fit the model. */
export class WeightsFormatError extends Error {
  override name = 'WeightsFormatError';
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
      throw new WeightsFormatError(`tensor ${t.name}: shape [${t.shape}] needs ${expected} values, found ${t.values.length}`);
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
    throw new WeightsFormatError(`${path}: expected a dknn-ts weights file starting with "${MAGIC}", found ${JSON.stringify(bytes.toString('latin1', 0, Math.min(8, bytes.length)))}`);
  }
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const payloadStart = MAGIC.length + 4 + headerLength;
  if (payloadStart > bytes.length) {
    throw new WeightsFormatError(`${path}: header says ${headerLength} bytes of JSON, but the file has only ${bytes.length - MAGIC.length - 4} after the prefix`);
  }
  let header: WeightsHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', MAGIC.length + 4, payloadStart)) as WeightsHeader;
  } catch (err) {
    throw new WeightsFormatError(`${path}: header is not valid JSON (${(err as Error).message})`);
  }
  const total = header.tensors.reduce((a, t) => a + t.length, 0);
  const payloadBytes = bytes.length - payloadStart;
  if (payloadBytes !== total * 4) {
    throw new WeightsFormatError(`${path}: expected ${total * 4} payload bytes for ${header.tensors.length} tensors, found ${payloadBytes}`);
  }
  const payload = new Uint8Array(bytes.buffer.slice(bytes.byteOffset + payloadStart, bytes.byteOffset + bytes.length));
  const sha = createHash('sha256').update(payload).digest('hex');
  if (sha !== header.payloadSha256) {
    throw new WeightsFormatError(`${path}: payload checksum mismatch: expected sha256 ${header.payloadSha256}, found ${sha}`);
  }
  const floats = new Float32Array(payload.buffer, 0, total);
  const tensors = header.tensors.map((t) => ({ name: t.name, shape: t.shape, values: floats.subarray(t.offset, t.offset + t.length) }));
  return { header, tensors };
}

/** Copies every weight of `model` out of the engine (names are the variables' original names). */
export function modelTensors(model: tf.LayersModel): StoredTensor[] {
  return model.weights.map((w) => {
    const value = w.read();
    return { name: w.originalName, shape: value.shape.slice(), values: new Float32Array(value.dataSync()) };
  });
}

/** Sets `model`'s weights from stored tensors, matched by name; every weight must be present with its shape. */
export function loadModelTensors(model: tf.LayersModel, tensors: StoredTensor[], source = 'weights'): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const w of model.weights) {
    const stored = byName.get(w.originalName);
    if (!stored) {
      throw new WeightsFormatError(`${source}: no tensor named ${w.originalName}; found ${[...byName.keys()].join(', ')}`);
    }
    if (stored.shape.join('x') !== w.shape.join('x')) {
      throw new WeightsFormatError(`${source}: ${w.originalName} expected shape [${w.shape}], found [${stored.shape}]`);
    }
  }
  tf.tidy(() => {
    for (const w of model.weights) {
      const stored = byName.get(w.originalName)!;
      w.write(tf.tensor(stored.values, stored.shape, 'float32'));
    }
  });
}

/** sha256 (hex) of a model's weights, in declaration order: the key of every cache derived from the model. */
export function modelHash(model: tf.LayersModel): string {
  const h = createHash('sha256');
  for (const t of modelTensors(model)) {
    h.update(`${t.name}:${t.shape.join('x')};`);
    h.update(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength));
  }
  return h.digest('hex');
}
