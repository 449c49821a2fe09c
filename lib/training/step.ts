/**
 * One Adam step of `trainModel` on the batch in its staging buffers: on this thread alone, or
 * data-parallel with a {@link GradientPool} (shard 0 here, the others on the workers, combined in
 * shard order weighted by shard size: the gradient of the batch's mean loss).
 */
import * as tf from '@tensorflow/tfjs';
import type { LabeledImages } from '../data/types';
import { createRng, type Rng } from '../util/random';
import { shardBounds, shardGradients, type GradientPool } from './parallel';

/** The loss and the correct count of one step's batch. */
export interface StepResult {
  loss: number;
  correct: number;
}

/** What a step needs: the model and its variables, the optimizer, the data's shape and classes, the pool if any. */
export interface Stepper {
  model: tf.LayersModel;
  vars: tf.Variable[];
  optimizer: tf.Optimizer;
  data: LabeledImages & { numClasses: number };
  /** Staging buffers of one batch (the pool's shared ones when there is a pool). */
  x: Float32Array;
  y: Int32Array;
  pool?: GradientPool;
  workers: number;
}

/** Copies images `perm[start … start + size)` of the data into the staging buffers, then augments them (seeded by the step). */
export function fillBatch(
  s: Stepper,
  perm: ArrayLike<number>,
  start: number,
  size: number,
  augment?: { fn: (images: Float32Array, n: number, shape: [number, number, number], rng: Rng) => void; seed: number },
): void {
  const { data } = s;
  const pixels = data.height * data.width * data.channels;
  for (let i = 0; i < size; i++) {
    const src = perm[start + i];
    s.x.set(data.images.subarray(src * pixels, (src + 1) * pixels), i * pixels);
    s.y[i] = data.labels[src];
  }
  if (augment)
    augment.fn(s.x.subarray(0, size * pixels), size, [data.height, data.width, data.channels], createRng(augment.seed));
}

/** One Adam step on the `size` staged images (see the module comment). */
export async function adamStep(s: Stepper, stepId: number, size: number): Promise<StepResult> {
  return s.pool ? parallelStep(s, s.pool, stepId, size) : localStep(s, size);
}

async function localStep(s: Stepper, size: number): Promise<StepResult> {
  const { model, data } = s;
  const pixels = data.height * data.width * data.channels;
  const x = tf.tensor4d(s.x.subarray(0, size * pixels), [size, data.height, data.width, data.channels]);
  const y = tf.tensor1d(s.y.subarray(0, size), 'int32');
  let correctT: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor2D;
    correctT = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')));
    return tf.losses.softmaxCrossEntropy(tf.oneHot(y, data.numClasses), logits) as tf.Scalar;
  }, s.vars);
  s.optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
  const loss = (await value.data())[0];
  const correct = (await correctT!.data())[0];
  tf.dispose([x, y, value, correctT!, ...Object.values(grads)]);
  return { loss, correct };
}

async function parallelStep(s: Stepper, pool: GradientPool, stepId: number, size: number): Promise<StepResult> {
  const { vars, workers } = s;
  pool.publishWeights(vars, stepId);
  const others = pool.dispatch(stepId, size);
  const layout = pool.layout;
  const [, mainEnd] = shardBounds(size, workers, 0);
  const main =
    mainEnd > 0
      ? shardGradients(s.model, vars, layout, s.data, pool.x, pool.y, mainEnd, pool.mainGrads)
      : { loss: 0, correct: 0 };
  const shards = [main, ...(await others)];
  // Combined in place in shard 0's buffer, shard by shard in a fixed order (deterministic).
  const sum = pool.mainGrads;
  let loss = 0;
  let correct = 0;
  for (let k = 0; k < workers; k++) {
    const [a, b] = shardBounds(size, workers, k);
    const w = (b - a) / size;
    if (k === 0) {
      if (w === 0) sum.fill(0);
      else for (let i = 0; i < sum.length; i++) sum[i] *= w;
    } else if (w > 0) {
      const g = pool.shardGrads(k);
      for (let i = 0; i < sum.length; i++) sum[i] += w * g[i];
    }
    loss += w * shards[k].loss;
    correct += shards[k].correct;
  }
  const named = vars.map((v, i) => ({
    name: v.name,
    tensor: tf.tensor(sum.slice(layout[i].offset, layout[i].offset + layout[i].length), layout[i].shape, 'float32'),
  }));
  s.optimizer.applyGradients(named);
  tf.dispose(named.map((g) => g.tensor));
  return { loss, correct };
}
