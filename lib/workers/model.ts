/**
 * The start of every model worker (crafting, extraction, guided attack): the main thread's engine
 * backend and kernel mode, then the model rebuilt from its tfjs artifacts.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../engine/backend';
import { setWasmKernelMode, type WasmKernelMode } from '../engine/kernels';
import '../models/standardize'; // registers the custom layer for tf.loadLayersModel

/** What a model worker is started with (besides its own data). */
export interface ModelWorkerData {
  artifacts: tf.io.ModelArtifacts;
  backend: string;
  kernelMode: WasmKernelMode;
}

/** Starts the backend `d.backend` (throws when another starts) and returns the model. */
export async function modelInWorker(d: ModelWorkerData): Promise<tf.LayersModel> {
  const info = await initBackend({ env: d.backend, convolutions: d.kernelMode === 'native' ? 'native' : 'xnnpack' });
  if (info.name !== d.backend) throw new Error(`expected backend ${d.backend}, started ${info.name}`);
  if (d.backend === 'wasm') setWasmKernelMode(d.kernelMode);
  return tf.loadLayersModel(tf.io.fromMemory(d.artifacts));
}

/** The model as tfjs artifacts (topology + weights), to rebuild it in a worker. */
export async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let out: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      out = { ...a, weightData: tf.io.CompositeArrayBuffer.join(a.weightData!) };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out!;
}
