/**
 * Models on disk in the ecosystem's format: a tfjs LayersModel folder (`model.json` + `weights.bin`)
 * that plain `tf.loadLayersModel` reads. What dknn-ts knows about a model lives in the model's
 * `userDefinedMetadata.dknn`: the DkNN layers, the zoo architecture it was built from (if any), the
 * training record, and a sha256 over everything loaded back (topology, weights manifest, metadata
 * and weight bytes), verified by {@link loadModel}.
 *
 * Both files are written to temp files first and then renamed, weights first: a failed save (disk
 * full, I/O error) leaves the previous model whole, and a death between the two renames leaves a
 * model.json whose checksum does not match the weights, which {@link loadModel} refuses. A model
 * without a checksum (saved elsewhere) loads, with one warning that it is unverified.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FileIoError, readFileBytes, writeFilesAtomic } from '../artifacts/atomic';
import { canonicalJson } from '../artifacts/keys';
import './standardize'; // registers the custom layer for tf.loadLayersModel
import { ModelFormatError, modelTensors } from './weights';
import { dknnMetadata, setDknnMetadata, type DkNNModelMetadata, type Architecture } from './metadata';

/** File names inside a saved model folder. */
export const MODEL_JSON = 'model.json';
export const MODEL_WEIGHTS = 'weights.bin';

/** A model with what is known about it. */
export interface SavedModel {
  model: tf.LayersModel;
  /** The zoo architecture, or null for a model built elsewhere. */
  architecture: Architecture | null;
  /** The record stored with the weights ({} when none). */
  record: Record<string, unknown>;
  /** The DkNN layers recorded with the model, or null. */
  dknnLayers: string[] | null;
  /** The model.json read. */
  path: string;
  format: 'tfjs-layers';
}

/** @throws ModelFormatError naming the first weight holding a NaN or an infinity (such a model is never saved). */
export function checkFiniteWeights(model: tf.LayersModel): void {
  for (const t of modelTensors(model)) {
    const bad = t.values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new ModelFormatError(
        `refusing to save a model with non-finite weights: ${t.name}[${bad}] is ${t.values[bad]}`,
      );
  }
}

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: { dknn?: DkNNModelMetadata & { sha256?: string } } & Record<string, unknown>;
}

function checksum(json: ModelJson, weights: Uint8Array): string {
  const meta = json.userDefinedMetadata ?? {};
  const dknn = { ...(meta.dknn ?? {}) };
  delete dknn.sha256;
  const covered = canonicalJson({
    modelTopology: json.modelTopology,
    weightsManifest: json.weightsManifest,
    userDefinedMetadata: { ...meta, dknn },
  } as Record<string, unknown>);
  return createHash('sha256').update(covered, 'utf8').update('\n').update(weights).digest('hex');
}

/** Where a model's model.json is, for a folder or a file path. */
function modelJsonPath(path: string): string {
  return existsSync(path) && statSync(path).isDirectory() ? join(path, MODEL_JSON) : path;
}

/**
 * Saves `model` as a tfjs LayersModel folder `dir` (model.json + weights.bin), with `meta` merged
 * into its dknn metadata and the checksum. Returns the model.json path.
 */
export async function saveModel(dir: string, model: tf.LayersModel, meta: DkNNModelMetadata = {}): Promise<string> {
  checkFiniteWeights(model);
  setDknnMetadata(model, meta);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightSpecs || artifacts.weightData === undefined)
    throw new ModelFormatError('saveModel: tfjs returned no weights for the model');
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
  const json: ModelJson = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [MODEL_WEIGHTS], weights: artifacts.weightSpecs }],
    userDefinedMetadata: { ...(artifacts.userDefinedMetadata ?? {}), dknn: dknnMetadata(model) },
  };
  json.userDefinedMetadata!.dknn = { ...json.userDefinedMetadata!.dknn, sha256: checksum(json, weights) };
  const path = join(dir, MODEL_JSON);
  writeFilesAtomic([
    { path: join(dir, MODEL_WEIGHTS), parts: [weights] },
    { path, parts: [`${JSON.stringify(json)}\n`] },
  ]);
  return path;
}

const WEIGHT_DTYPES = ['float32', 'int32'];

/** @throws ModelFormatError naming the file, the field, what was expected and what was found. */
function fieldError(path: string, field: string, expected: string, found: unknown): ModelFormatError {
  return new ModelFormatError(
    `${path}: ${field}: expected ${expected}, found ${JSON.stringify(found) ?? String(found)}`,
  );
}

/** The model.json of `path`, parsed and its fields checked (see {@link fieldError}). */
function readModelJson(path: string): ModelJson {
  let json: ModelJson;
  try {
    json = JSON.parse(readFileBytes(path).toString('utf8')) as ModelJson;
  } catch (err) {
    const missing = err instanceof FileIoError && err.code === 'ENOENT';
    throw new ModelFormatError(
      `${path}: expected a tfjs model.json, ${missing ? 'found no file' : `found ${err instanceof FileIoError ? `an unreadable file (${err.code ?? err.message})` : `invalid JSON (${(err as Error).message})`}`}`,
    );
  }
  if (json === null || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelFormatError(
      `${path}: expected a tfjs LayersModel (modelTopology and weightsManifest), found keys ${Object.keys(json ?? {}).join(', ')}`,
    );
  }
  json.weightsManifest.forEach((g, i) => {
    const at = `weightsManifest[${i}]`;
    if (g === null || typeof g !== 'object') throw fieldError(path, at, 'an object with paths and weights', g);
    if (!Array.isArray(g.paths)) throw fieldError(path, `${at}.paths`, 'an array of file names', g.paths);
    if (!Array.isArray(g.weights)) throw fieldError(path, `${at}.weights`, 'an array of weight entries', g.weights);
    g.paths.forEach((p, j) => {
      if (typeof p !== 'string' || p === '' || p.includes('..') || p.startsWith('/'))
        throw fieldError(path, `${at}.paths[${j}]`, 'a file name next to model.json', p);
    });
    g.weights.forEach((w, j) => {
      const wat = `${at}.weights[${j}]`;
      if (w === null || typeof w !== 'object') throw fieldError(path, wat, 'an object with name, shape and dtype', w);
      const named = typeof w.name === 'string' ? ` (${w.name})` : '';
      if (typeof w.name !== 'string' || w.name === '') throw fieldError(path, `${wat}.name`, 'a weight name', w.name);
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
        throw fieldError(path, `${wat}.shape${named}`, 'an array of non-negative integers', w.shape);
      if (!WEIGHT_DTYPES.includes(w.dtype))
        throw fieldError(path, `${wat}.dtype${named}`, WEIGHT_DTYPES.map((d) => `"${d}"`).join(' or '), w.dtype);
      if (w.quantization !== undefined)
        throw fieldError(path, `${wat}.quantization${named}`, 'none (quantized weights are not read)', w.quantization);
    });
  });
  const sha = json.userDefinedMetadata?.dknn?.sha256;
  if (sha !== undefined && (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)))
    throw fieldError(path, 'userDefinedMetadata.dknn.sha256', '64 hexadecimal digits', sha);
  return json;
}

/** Model files already warned about being unverified (one warning per file and process). */
const unverifiedWarned = new Set<string>();

async function loadTfjs(path: string, onWarning: (message: string) => void): Promise<SavedModel> {
  const json = readModelJson(path);
  const groups = json.weightsManifest;
  const files = groups.flatMap((g) => g.paths.map((p) => join(dirname(path), p)));
  const chunks: Uint8Array[] = [];
  for (const file of files) {
    try {
      chunks.push(readFileBytes(file));
    } catch (err) {
      const code = (err as FileIoError).code;
      throw new ModelFormatError(
        `${path}: its weights file ${file} ${code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? (err as Error).message})`}`,
      );
    }
  }
  const weights = new Uint8Array(Buffer.concat(chunks));
  const expectedBytes = groups
    .flatMap((g) => g.weights)
    .reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (weights.byteLength !== expectedBytes)
    throw new ModelFormatError(
      `${path}: expected ${expectedBytes} bytes of weights, found ${weights.byteLength} in ${files.join(', ')}`,
    );
  const dknn = json.userDefinedMetadata?.dknn;
  if (dknn?.sha256 !== undefined) {
    const actual = checksum(json, weights);
    if (actual !== dknn.sha256)
      throw new ModelFormatError(
        `${path}: checksum mismatch (it or ${files.join(', ')} damaged, or from different saves): stored sha256 ${dknn.sha256}, computed ${actual}`,
      );
  } else if (!unverifiedWarned.has(resolve(path))) {
    unverifiedWarned.add(resolve(path));
    onWarning(
      `${path}: no checksum (userDefinedMetadata.dknn.sha256), so damage to it or its weights cannot be detected: the model is loaded unverified; saveModel adds one`,
    );
  }
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: groups.flatMap((g) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      userDefinedMetadata: json.userDefinedMetadata,
    }),
  );
  const meta = dknnMetadata(model);
  return {
    model,
    architecture: meta.architecture ?? null,
    record: meta.record ?? {},
    dknnLayers: meta.layers ?? null,
    path,
    format: 'tfjs-layers',
  };
}

/** The last commit whose `loadModel` reads the single-file `.dknnw` format of dknn-ts 0.1. */
const LAST_DKNNW_READER = '7fa3e12';

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Told (once per file and process) that a model has no checksum. Default `process.emitWarning`. */
  onWarning?: (message: string) => void;
}

/**
 * Loads a model saved by {@link saveModel} (a folder or its model.json), or any tfjs LayersModel
 * folder, verifying its checksum (a model without one loads with a warning). The caller owns the model.
 * @throws ModelFormatError naming the file and what is wrong (a manifest field: what was expected and found).
 */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<SavedModel> {
  if (path.endsWith('.dknnw')) {
    throw new ModelFormatError(
      `${path}: the single-file .dknnw format of dknn-ts 0.1 is no longer read; convert it once with dknn-ts at commit ${LAST_DKNNW_READER}: \`(await loadModel(old)).model\` then \`saveModel(folder, model)\``,
    );
  }
  return loadTfjs(
    modelJsonPath(path),
    options.onWarning ?? ((m: string) => process.emitWarning(m, 'DkNNModelWarning')),
  );
}
