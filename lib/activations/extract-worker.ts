/**
 * Worker thread of parallel extraction (started by `ActivationPool` in ./activation-workers.ts; not
 * an entry point of its own): starts the main thread's backend, rebuilds the model from its
 * artifacts, then writes the flattened outputs of the asked layers for every batch it is sent into the batch's
 * shared staging slot.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { modelInWorker } from '../workers/model';
import { extractBatchHere, layersModel, slotLayout } from './batch';
import type { ExtractBatchMessage, ExtractWorkerData, ExtractWorkerReply } from './pool';
import type { ImageBatch } from '../data/types';

const port = parentPort;
if (!port)
  throw new Error('extract-worker: must run in a worker thread (started by extractActivations with workers > 1)');
const reply = (m: ExtractWorkerReply) => port!.postMessage(m);

async function main(): Promise<void> {
  const d = workerData as ExtractWorkerData;
  const model = await modelInWorker(d);
  const subs = new Map<string, tf.LayersModel>();
  port!.on('message', (m: ExtractBatchMessage) => {
    try {
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
      const out = m.dims.map((d, l) => new Float32Array(m.slot, 4 * at[l], m.count * d));
      extractBatchHere(sub, images, 0, m.count, out, m.dims, 0).then(
        () => reply({ type: 'batch', id: m.id }),
        (e: Error) => reply({ type: 'error', message: e.message }),
      );
    } catch (e) {
      reply({ type: 'error', message: (e as Error).message });
    }
  });
  reply({ type: 'ready' });
}

main().catch((e) => reply({ type: 'error', message: (e as Error).stack ?? String(e) }));
