/**
 * Worker thread of parallel crafting (started by `craftOnWorkers` in ./parallel.ts; not an entry
 * point of its own): starts the main thread's backend, rebuilds the model from its artifacts and
 * the attack from its name and options, then attacks every batch it is sent.
 */
import * as tf from '@tensorflow/tfjs';
import { modelInWorker } from '../workers/model';
import { serveWorker } from '../workers/serve';
import { attackFromSpec } from './attack';
import type { CraftBatchMessage, CraftWorkerData, CraftWorkerReply } from './parallel';
import { logitsFn } from './utils';

serveWorker<CraftWorkerData, CraftBatchMessage, CraftWorkerReply>(
  'craftAdversarial with workers > 1',
  async (d, reply) => {
    const model = await modelInWorker(d);
    const attack = attackFromSpec(d.attack);
    const fn = logitsFn(model);
    const handle = (m: CraftBatchMessage) => {
      const images = tf.tidy(() => {
        const x = tf.tensor4d(m.images, [m.count, ...m.shape]);
        return attack
          .run(fn, x, (fraction) => reply({ type: 'progress', start: m.start, fraction }))
          .dataSync() as Float32Array;
      });
      const copy = new Float32Array(images);
      reply({ type: 'batch', start: m.start, images: copy }, [copy.buffer]);
    };
    return { handle };
  },
);
