/**
 * Worker thread of the guided attack (started by `dknnGuidedAttack` with workers > 1; not an entry
 * point of its own): starts the main thread's backend, rebuilds the model and the DkNN layers'
 * sub-model, then optimises every batch it is sent (`guided-optimise.ts`), reporting progress.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { WasmKernelMode } from '../engine/kernels';
import { modelInWorker } from '../workers/model';
import { optimizeGuided, type GuidedBatch, type GuidedSettings } from './guided-optimize';

/** What a guided-attack worker is started with. */
export interface GuidedWorkerData {
  artifacts: tf.io.ModelArtifacts;
  backend: string;
  kernelMode: WasmKernelMode;
  layers: string[];
  centers: Float32Array[];
  settings: GuidedSettings;
}

/** A batch and the replies. */
export interface GuidedBatchMessage {
  id: number;
  batch: GuidedBatch;
}
export interface GuidedWorkerReply {
  type: 'ready' | 'progress' | 'batch' | 'error';
  id?: number;
  step?: number;
  iterates?: Float32Array;
  message?: string;
}

const port = parentPort;
if (port) {
  const reply = (m: GuidedWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  const main = async (): Promise<void> => {
    const d = workerData as GuidedWorkerData;
    const model = await modelInWorker(d);
    const sub = tf.model({
      inputs: model.inputs,
      outputs: d.layers.map((l) => model.getLayer(l).output as tf.SymbolicTensor),
    });
    const centers = d.centers.map((c) => tf.tensor1d(c));
    port.on('message', (m: GuidedBatchMessage) => {
      try {
        const iterates = optimizeGuided(sub, centers, m.batch, d.settings, (step) =>
          reply({ type: 'progress', id: m.id, step }),
        );
        reply({ type: 'batch', id: m.id, iterates }, [iterates.buffer as ArrayBuffer]);
      } catch (e) {
        reply({ type: 'error', message: (e as Error).message });
      }
    });
    reply({ type: 'ready' });
  };
  main().catch((e) => reply({ type: 'error', message: (e as Error).stack ?? String(e) }));
}
