/**
 * Worker thread of parallel crafting (started by `craftOnWorkers` in ./parallel.ts; not an entry
 * point of its own): starts the main thread's backend, rebuilds the model from its artifacts and
 * the attack from its name and options, then attacks every batch it is sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { modelInWorker } from '../workers/model';
import { attackFromSpec } from './attack';
import type { CraftBatchMessage, CraftWorkerData, CraftWorkerReply } from './parallel';
import { logitsFn } from './utils';

const port = parentPort;
if (!port) throw new Error('craft-worker: must run in a worker thread (started by craftAdversarial with workers > 1)');
const reply = (m: CraftWorkerReply, transfer: ArrayBuffer[] = []) => port!.postMessage(m, transfer);

async function main(): Promise<void> {
  const d = workerData as CraftWorkerData;
  const model = await modelInWorker(d);
  const attack = attackFromSpec(d.attack);
  const fn = logitsFn(model);
  port!.on('message', (m: CraftBatchMessage) => {
    try {
      const images = tf.tidy(() => {
        const x = tf.tensor4d(m.images, [m.count, ...m.shape]);
        return attack
          .run(fn, x, (fraction) => reply({ type: 'progress', start: m.start, fraction }))
          .dataSync() as Float32Array;
      });
      const copy = new Float32Array(images);
      reply({ type: 'batch', start: m.start, images: copy }, [copy.buffer]);
    } catch (e) {
      reply({ type: 'error', message: (e as Error).message });
    }
  });
  reply({ type: 'ready' });
}

main().catch((e) => reply({ type: 'error', message: (e as Error).stack ?? String(e) }));
