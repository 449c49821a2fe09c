/**
 * Worker thread of parallel crafting (started by `craftOnWorkers` in ./parallel.ts; not an entry
 * point of its own): starts the main thread's backend, rebuilds the model from its artifacts and
 * the attack from its name and options, then attacks every batch it is sent (a query attack through
 * its plan, replying each image's queries too).
 */
import * as tf from '@tensorflow/tfjs';
import { modelInWorker } from '../workers/model';
import { serveWorker } from '../workers/serve';
import { attackFromSpec } from './attack';
import type { CraftBatchMessage, CraftWorkerData, CraftWorkerReply } from './parallel';
import { logitsFn } from './utils';
import { answerPlanSync, tensorQueryFn } from './query';

serveWorker<CraftWorkerData, CraftBatchMessage, CraftWorkerReply>(
  'craftAdversarial with workers > 1',
  async (d, reply) => {
    const model = await modelInWorker(d);
    const attack = attackFromSpec(d.attack);
    const fn = logitsFn(model);
    const handle = (m: CraftBatchMessage) => {
      const progress = (fraction: number) => reply({ type: 'progress', start: m.start, fraction });
      if (attack.plan) {
        const batch = { images: m.images, n: m.count, height: m.shape[0], width: m.shape[1], channels: m.shape[2] };
        const r = answerPlanSync(attack.plan(batch, progress), tensorQueryFn(fn), batch);
        reply({ type: 'batch', start: m.start, images: r.images, queries: r.queries }, [
          r.images.buffer,
          r.queries.buffer,
        ]);
        return;
      }
      const images = tf.tidy(() => {
        const x = tf.tensor4d(m.images, [m.count, ...m.shape]);
        return attack.run(fn, x, progress).dataSync() as Float32Array;
      });
      const copy = new Float32Array(images);
      reply({ type: 'batch', start: m.start, images: copy }, [copy.buffer]);
    };
    return { handle };
  },
);
