/**
 * Models on disk in the ecosystem's format: a tfjs LayersModel folder (`model.json` + `weights.bin`)
 * that plain `tf.loadLayersModel` reads. What dknn-ts knows about a model lives in the model's
 * `userDefinedMetadata.dknn`: the DkNN layers, the zoo architecture it was built from (if any), the
 * training record, and a sha256 over everything loaded back (topology, weights manifest, metadata
 * and weight bytes), verified by {@link loadModel}.
 *
 * Writes are atomic per file, weights first: an interrupted save leaves a model.json whose
 * checksum does not match the weights, which {@link loadModel} refuses.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../artifacts/atomic';
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
  writeFileAtomic(join(dir, MODEL_WEIGHTS), weights);
  const path = join(dir, MODEL_JSON);
  writeFileAtomic(path, `${JSON.stringify(json)}\n`);
  return path;
}

async function loadTfjs(path: string): Promise<SavedModel> {
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as ModelJson;
  } catch (err) {
    throw new ModelFormatError(
      `${path}: expected a tfjs model.json, ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'found no file' : `found invalid JSON (${(err as Error).message})`}`,
    );
  }
  if (json === null || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelFormatError(
      `${path}: expected a tfjs LayersModel (modelTopology and weightsManifest), found keys ${Object.keys(json ?? {}).join(', ')}`,
    );
  }
  const groups = json.weightsManifest;
  const chunks: Uint8Array[] = [];
  for (const g of groups) {
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights))
      throw new ModelFormatError(`${path}: malformed weightsManifest entry`);
    for (const p of g.paths) {
      if (typeof p !== 'string' || p.includes('..') || p.startsWith('/'))
        throw new ModelFormatError(`${path}: weights path ${JSON.stringify(p)} must be a file name next to model.json`);
      const file = join(dirname(path), p);
      try {
        chunks.push(readFileSync(file));
      } catch {
        throw new ModelFormatError(`${path}: its weights file ${file} is missing`);
      }
    }
  }
  const weights = new Uint8Array(Buffer.concat(chunks));
  const expectedBytes = groups
    .flatMap((g) => g.weights)
    .reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (weights.byteLength !== expectedBytes)
    throw new ModelFormatError(`${path}: expected ${expectedBytes} bytes of weights, found ${weights.byteLength}`);
  const dknn = json.userDefinedMetadata?.dknn;
  if (dknn?.sha256 !== undefined) {
    const actual = checksum(json, weights);
    if (actual !== dknn.sha256)
      throw new ModelFormatError(
        `${path}: checksum mismatch (model.json or ${groups.flatMap((g) => g.paths).join(', ')} damaged or from different saves): stored sha256 ${dknn.sha256}, computed ${actual}`,
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

/**
 * Loads a model saved by {@link saveModel} (a folder or its model.json), or any tfjs LayersModel
 * folder, verifying its checksum. The caller owns the model.
 * @throws ModelFormatError naming the file and what is wrong.
 */
export async function loadModel(path: string): Promise<SavedModel> {
  if (path.endsWith('.dknnw')) {
    throw new ModelFormatError(
      `${path}: the single-file .dknnw format of dknn-ts 0.1 is no longer read; convert it once with dknn-ts at commit ${LAST_DKNNW_READER}: \`(await loadModel(old)).model\` then \`saveModel(folder, model)\``,
    );
  }
  return loadTfjs(modelJsonPath(path));
}
