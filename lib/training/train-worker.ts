/**
 * Worker thread of data-parallel training (started by `GradientPool` in ./parallel.ts; not an
 * entry point of its own). Starts the same backend as the main thread, builds its own copy of the
 * model from the architecture, then for every step message: loads the shared weights, computes
 * the gradient of the mean loss on its shard of the shared batch, writes it into its shared
 * gradient buffer and replies with the shard's loss and correct count.
 */
import * as tf from '@tensorflow/tfjs';
import { startEngine } from '../workers/model';
import { serveWorker } from '../workers/serve';
import { shardGradients, type GradientWorkerData, type StepMessage, type WorkerReply } from './parallel';
import { createModel } from '../models/zoo';

serveWorker<GradientWorkerData, StepMessage, WorkerReply>('trainModel: workers > 1', async (d, reply) => {
  await startEngine(d);
  const model = createModel(d.architecture);
  const found = model.trainableWeights.map((w) => `${w.originalName}[${w.shape.join(',')}]`).join(' ');
  const expected = d.layout.map((s) => `${s.name}[${s.shape.join(',')}]`).join(' ');
  if (found !== expected) {
    throw new Error(
      `the model built from architecture ${JSON.stringify(d.architecture)} has trainable weights ${found}, the trained model has ${expected}`,
    );
  }
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const weights = new Float32Array(d.weights);
  const grads = new Float32Array(d.grads);
  const x = new Float32Array(d.x);
  const y = new Int32Array(d.y);
  const control = new Int32Array(d.control);
  const pixels = d.height * d.width * d.channels;

  if (d.warmupImages > 0) {
    // Kernel set-up (XNNPACK operators, buffers) on a zero batch, so that the first real step is warm.
    const n = d.warmupImages;
    shardGradients(model, vars, d.layout, d, new Float32Array(n * pixels), new Int32Array(n), n, grads);
  }
  const ready = { numTensors: tf.memory().numTensors };
  const handle = (m: StepMessage) => {
    if (m.type !== 'step') throw new Error(`unknown message ${JSON.stringify(m)}`);
    const published = Atomics.load(control, 0);
    if (published !== m.step) throw new Error(`step ${m.step}: weights of step ${published} in shared memory`);
    tf.tidy(() => {
      for (let i = 0; i < vars.length; i++) {
        const s = d.layout[i];
        model.trainableWeights[i].write(tf.tensor(weights.slice(s.offset, s.offset + s.length), s.shape, 'float32'));
      }
    });
    const r = shardGradients(
      model,
      vars,
      d.layout,
      d,
      x.subarray(m.start * pixels),
      y.subarray(m.start),
      m.size,
      grads,
    );
    Atomics.store(control, d.index, m.step);
    reply({ type: 'done', step: m.step, loss: r.loss, correct: r.correct, numTensors: tf.memory().numTensors });
  };
  return { handle, ready };
});
