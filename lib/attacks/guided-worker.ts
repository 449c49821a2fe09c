/**
 * Worker thread of the guided attack (started by `dknnGuidedAttack` with workers > 1; not an entry
 * point of its own): starts the main thread's backend, rebuilds the model and the DkNN layers'
 * sub-model, then optimizes every batch it is sent (`guided-optimize.ts`), reporting progress.
 */
import * as tf from '@tensorflow/tfjs';
import { modelInWorker, type ModelWorkerData } from '../workers/model';
import { serveWorker } from '../workers/serve';
import { optimizeGuided, type GuidedBatch, type GuidedSettings } from './guided-optimize';

/** What a guided-attack worker is started with. */
export interface GuidedWorkerData extends ModelWorkerData {
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

serveWorker<GuidedWorkerData, GuidedBatchMessage, GuidedWorkerReply>(
  'dknnGuidedAttack with workers > 1',
  async (d, reply) => {
    const model = await modelInWorker(d);
    const sub = tf.model({
      inputs: model.inputs,
      outputs: d.layers.map((l) => model.getLayer(l).output as tf.SymbolicTensor),
    });
    const centers = d.centers.map((c) => tf.tensor1d(c));
    const handle = (m: GuidedBatchMessage) => {
      const iterates = optimizeGuided(sub, centers, m.batch, d.settings, (step) =>
        reply({ type: 'progress', id: m.id, step }),
      );
      reply({ type: 'batch', id: m.id, iterates }, [iterates.buffer as ArrayBuffer]);
    };
    return { handle };
  },
);
