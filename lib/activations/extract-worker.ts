/**
 * Worker thread of parallel extraction (started by `ActivationPool` in ./activation-workers.ts; not
 * an entry point of its own): starts the main thread's backend, rebuilds the model from its
 * artifacts, then writes the flattened outputs of the asked layers for every batch it is sent into the batch's
 * shared staging slot.
 */
import * as tf from '@tensorflow/tfjs';
import { modelInWorker, type ModelWorkerData } from '../workers/model';
import { serveWorker } from '../workers/serve';
import { extractBatchHere, layersModel, slotLayout } from './batch';
import type { ExtractBatchMessage, ExtractWorkerReply } from './pool';
import type { ImageBatch } from '../data/types';

serveWorker<ModelWorkerData, ExtractBatchMessage, ExtractWorkerReply>(
  'extractActivations with workers > 1',
  async (d, reply) => {
    const model = await modelInWorker(d);
    const subs = new Map<string, tf.LayersModel>();
    const handle = async (m: ExtractBatchMessage) => {
      const key = m.layers.join('\n');
      let sub = subs.get(key);
      if (!sub) {
        sub = layersModel(model, m.layers);
        subs.set(key, sub);
      }
      // The batch is computed as on the main thread, its rows land in the shared slot.
      const pixels = m.shape[0] * m.shape[1] * m.shape[2];
      const images: ImageBatch = {
        images: new Float32Array(m.slot, 0, m.count * pixels),
        n: m.count,
        height: m.shape[0],
        width: m.shape[1],
        channels: m.shape[2],
      };
      const at = slotLayout(m.count, pixels, m.dims).layers;
      const out = m.dims.map((dim, l) => new Float32Array(m.slot, 4 * at[l], m.count * dim));
      await extractBatchHere(sub, images, 0, m.count, out, m.dims, 0);
      reply({ type: 'batch', id: m.id });
    };
    return { handle };
  },
);
