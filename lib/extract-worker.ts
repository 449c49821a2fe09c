/**
 * Worker thread of parallel extraction (started by `ActivationPool` in ./activation-workers.ts; not
 * an entry point of its own): starts the main thread's backend, rebuilds the model from its
 * artifacts, then returns the flattened outputs of the asked layers for every batch it is sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { modelInWorker } from './util/worker-model';
import type { ExtractBatchMessage, ExtractWorkerData, ExtractWorkerReply } from './activation-workers';

const port = parentPort;
if (!port) throw new Error('extract-worker: must run in a worker thread (started by extractActivations with workers > 1)');
const reply = (m: ExtractWorkerReply, transfer: ArrayBuffer[] = []) => port!.postMessage(m, transfer);

async function main(): Promise<void> {
  const d = workerData as ExtractWorkerData;
  const model = await modelInWorker(d);
  const subs = new Map<string, tf.LayersModel>();
  port!.on('message', (m: ExtractBatchMessage) => {
    try {
      const key = m.layers.join('\n');
      let sub = subs.get(key);
      if (!sub) {
        sub = tf.model({ inputs: model.inputs, outputs: m.layers.map((name) => model.getLayer(name).output as tf.SymbolicTensor) });
        subs.set(key, sub);
      }
      const outputs = tf.tidy(() => {
        const y = sub!.predictOnBatch(tf.tensor4d(m.images, [m.count, ...m.shape]));
        return Array.isArray(y) ? y : [y];
      });
      // dataSync returns a copy owned by this thread: transferable without another copy (else copied once).
      const values = outputs.map((o) => {
        const v = o.dataSync() as Float32Array;
        return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v : v.slice();
      });
      tf.dispose(outputs);
      reply({ type: 'batch', id: m.id, values }, values.map((v) => v.buffer as ArrayBuffer));
    } catch (e) {
      reply({ type: 'error', message: (e as Error).message });
    }
  });
  reply({ type: 'ready' });
}

main().catch((e) => reply({ type: 'error', message: (e as Error).stack ?? String(e) }));
