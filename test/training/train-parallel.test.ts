import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { createMnistCnn } from '../../lib/models/mnist-cnn';
import { shardBounds } from '../../lib/training/parallel';
import { modelTensors, type StoredTensor } from '../../lib/models/weights';
import { trainModel } from '../../lib/training/train';
import type { LabeledImages } from '../../lib/data/types';
import { toyImages } from '../models/helpers';
import type { TrainArgs } from '../../lib/training/types';
import { evaluateAccuracy } from '../../lib/models/predict';
import type { Architecture } from '../../lib/models/metadata';

const architecture: Architecture = { name: 'mnist-cnn', args: { seed: 3 } };
const data = toyImages(60, 1);
const base: TrainArgs = { epochs: 2, batchSize: 20, seed: 5, architecture };

/** Trains a fresh model built from `architecture`; returns its weights and the result. */
async function train(args: TrainArgs, d: LabeledImages = data) {
  const model = createMnistCnn(architecture.args);
  const result = await trainModel(model, d, { ...base, ...args });
  const weights = modelTensors(model);
  model.dispose();
  return { result, weights };
}

/** ‖a − b‖ / ‖a‖ over all weights, and the largest absolute difference. */
function difference(a: StoredTensor[], b: StoredTensor[]): { relative: number; maxAbs: number } {
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  a.forEach((t, i) => {
    assert.equal(t.name, b[i].name);
    for (let j = 0; j < t.values.length; j++) {
      const d = t.values[j] - b[i].values[j];
      num += d * d;
      den += t.values[j] ** 2;
      maxAbs = Math.max(maxAbs, Math.abs(d));
    }
  });
  return { relative: Math.sqrt(num / den), maxAbs };
}

const tmp = mkdtempSync(join(tmpdir(), 'dknn-train-parallel-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});

test('shards cover a batch in order, equal-ish, empty only when the batch is smaller than W', () => {
  assert.deepEqual(
    [0, 1].map((k) => shardBounds(500, 2, k)),
    [
      [0, 250],
      [250, 500],
    ],
  );
  assert.deepEqual(
    [0, 1].map((k) => shardBounds(7, 2, k)),
    [
      [0, 3],
      [3, 7],
    ],
  );
  assert.deepEqual(
    [0, 1, 2].map((k) => shardBounds(2, 3, k)),
    [
      [0, 0],
      [0, 1],
      [1, 2],
    ],
  );
});

test('2 workers learn, agree with 1 worker up to summation order, rerun identically and leak nothing', async () => {
  const before = tf.memory().numTensors;
  const events: number[] = [];
  const two = await train({ workers: 2, onProgress: (e) => events.push(e.done) });
  assert.equal(tf.memory().numTensors, before, 'no tensor outlives trainModel in the main thread');
  assert.deepEqual(two.result.workerTensors, [5], 'the worker holds only its model weights');
  assert.equal(two.result.args.workers, 2);
  assert.equal(two.result.epochs.length, 2);
  assert.equal(two.result.steps.length, 6);
  assert.deepEqual(events, [20, 40, 60, 20, 40, 60]);
  const losses = two.result.steps.map((s) => s.loss);
  assert.ok(losses[5] < losses[0] / 10, `loss fell: ${losses.join(' → ')}`);
  assert.ok(two.result.steps.every((s) => s.accuracy >= 0 && s.accuracy <= 1));

  const one = await train({ workers: 1 });
  assert.equal(one.result.workerTensors, undefined);
  const d = difference(one.weights, two.weights);
  assert.ok(d.relative < 1e-4, `1 vs 2 workers: relative difference ${d.relative} (max abs ${d.maxAbs})`);
  one.result.steps.forEach((s, i) => {
    assert.ok(
      Math.abs(s.loss - two.result.steps[i].loss) <= 1e-4 * Math.max(1, s.loss),
      `step ${i + 1} loss ${s.loss} vs ${two.result.steps[i].loss}`,
    );
    assert.equal(s.accuracy, two.result.steps[i].accuracy);
  });

  const again = await train({ workers: 2 });
  assert.deepEqual(
    difference(two.weights, again.weights),
    { relative: 0, maxAbs: 0 },
    'same seed and workers: identical weights',
  );
  assert.deepEqual(again.result.steps, two.result.steps);
});

test('3 workers with a last batch smaller than W (empty shards) agree with 1 worker', async () => {
  const d61 = toyImages(61, 2); // batches of 20, 20, 20, 1
  const one = await train({ workers: 1, epochs: 1 }, d61);
  const three = await train({ workers: 3, epochs: 1 }, d61);
  assert.equal(three.result.steps.length, 4);
  assert.deepEqual(three.result.workerTensors, [5, 5]);
  const d = difference(one.weights, three.weights);
  assert.ok(d.relative < 1e-4, `1 vs 3 workers: relative difference ${d.relative}`);
});

test('an interrupted 2-worker run resumed from its checkpoint ends with the weights of an uninterrupted one', async () => {
  const straight = await train({ workers: 2, epochs: 3 });
  const ckpt = join(tmp, 'parallel.ckpt');
  const controller = new AbortController();
  const model = createMnistCnn(architecture.args);
  const first = await trainModel(model, data, {
    ...base,
    workers: 2,
    epochs: 3,
    checkpointPath: ckpt,
    signal: controller.signal,
    onProgress: (e) => {
      if (e.stage.startsWith('train epoch 2') && e.done >= 40) controller.abort();
    },
  });
  model.dispose();
  assert.equal(first.interrupted, true);
  assert.equal(first.epochs.length, 1);
  assert.equal(first.steps.length, 3, 'the partial epoch is dropped');

  const resumedModel = createMnistCnn(architecture.args); // the same initial weights: the same run
  const second = await trainModel(resumedModel, data, { ...base, workers: 2, epochs: 3, checkpointPath: ckpt });
  assert.equal(second.resumedFromEpoch, 1);
  assert.equal(second.epochs.length, 3);
  assert.deepEqual(second.steps, straight.result.steps);
  assert.deepEqual(difference(straight.weights, modelTensors(resumedModel)), { relative: 0, maxAbs: 0 });
  assert.ok(evaluateAccuracy(resumedModel, toyImages(40, 7)) >= 0.9);
  resumedModel.dispose();
});

test('workers > 1 without an architecture, or with a bad worker count, is refused', async () => {
  const model = createMnistCnn();
  await assert.rejects(trainModel(model, data, { workers: 2 }), /workers = 2 needs args\.architecture/);
  await assert.rejects(
    trainModel(model, data, { workers: 0, architecture }),
    /workers must be a positive integer, found 0/,
  );
  await assert.rejects(
    trainModel(model, data, { workers: 1.5, architecture }),
    /workers must be a positive integer, found 1\.5/,
  );
  model.dispose();
});

test('a failing worker rejects with its message, and the main thread leaks nothing', async () => {
  const model = createMnistCnn();
  const before = tf.memory().numTensors;
  await assert.rejects(
    trainModel(model, data, { ...base, workers: 2, architecture: { name: 'no-such-net', args: {} } }),
    /trainModel worker 1 failed: createModel: unknown architecture "no-such-net"/,
  );
  await assert.rejects(
    trainModel(model, data, { ...base, workers: 2, architecture: { name: 'mnist-cnn', args: { filters: 8 } } }),
    /trainModel worker 1 failed: the model built from architecture .* has trainable weights Conv2D0\/kernel\[8,8,1,8\]/,
  );
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
