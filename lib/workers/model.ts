/**
 * The start of every worker that runs a model (extraction, crafting, the guided attack, training):
 * the main thread's engine backend and kernel mode ({@link EngineWorkerData}), then the model, rebuilt
 * from its tfjs artifacts ({@link ModelWorkerData}) or, for training, from its architecture.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../engine/backend';
import { setWasmKernelMode, wasmKernelMode, type WasmKernelMode } from '../engine/kernels';
import '../models/standardize'; // registers the custom layer for tf.loadLayersModel

/** The engine a worker must start: the main thread's backend and kernel mode (same values on every thread). */
export interface EngineWorkerData {
  backend: string;
  kernelMode: WasmKernelMode;
}

/** What a worker running a copy of a model is started with (besides its own data). */
export interface ModelWorkerData extends EngineWorkerData {
  artifacts: tf.io.ModelArtifacts;
}

/** This thread's engine, for a worker to start the same. */
export function engineWorkerData(): EngineWorkerData {
  return { backend: tf.getBackend(), kernelMode: wasmKernelMode() };
}

/** This thread's engine and `model` (its current weights), for a worker to run a copy of it. */
export async function modelWorkerData(model: tf.LayersModel): Promise<ModelWorkerData> {
  return { artifacts: await modelArtifacts(model), ...engineWorkerData() };
}

/** Starts the backend and kernels of `d` in this worker. @throws when another backend starts. */
export async function startEngine(d: EngineWorkerData): Promise<void> {
  const info = await initBackend({ env: d.backend, convolutions: d.kernelMode === 'native' ? 'native' : 'xnnpack' });
  if (info.name !== d.backend) throw new Error(`expected backend ${d.backend}, started ${info.name}`);
  if (d.backend === 'wasm') setWasmKernelMode(d.kernelMode);
}

/** Starts the engine of `d` and returns its model. */
export async function modelInWorker(d: ModelWorkerData): Promise<tf.LayersModel> {
  await startEngine(d);
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
