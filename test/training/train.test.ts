import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createMnistCnn } from '../../lib/models/mnist-cnn';
import { trainModel } from '../../lib/training/train';
import { modelHash, modelTensors } from '../../lib/models/weights';
import { toyImages } from '../models/helpers';
import { initBackend } from '../../lib/engine/backend';
import { evaluateAccuracy } from '../../lib/models/predict';

const tmp = mkdtempSync(join(tmpdir(), 'dknn-train-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});

test('the MNIST CNN has the reference layers, no conv bias and unit-norm filters', () => {
  const model = createMnistCnn({ seed: 7 });
  assert.deepEqual(
    model.layers.map((l) => l.name),
    ['Conv2D0', 'ReLU1', 'Conv2D2', 'ReLU3', 'Conv2D4', 'ReLU5', 'Flatten6', 'logits'],
  );
  const shapes = Object.fromEntries(model.layers.map((l) => [l.name, (l.outputShape as number[]).slice(1)]));
  assert.deepEqual(shapes.ReLU1, [14, 14, 64]);
  assert.deepEqual(shapes.ReLU3, [5, 5, 128]);
  assert.deepEqual(shapes.ReLU5, [1, 1, 128]);
  assert.deepEqual(shapes.logits, [10]);
  assert.deepEqual(
    model.weights.map((w) => w.originalName),
    ['Conv2D0/kernel', 'Conv2D2/kernel', 'Conv2D4/kernel', 'logits/kernel', 'logits/bias'],
  );
  for (const t of modelTensors(model)) {
    if (t.name.endsWith('bias')) {
      assert.ok(
        t.values.every((v) => v === 0),
        'dense bias starts at 0',
      );
      continue;
    }
    const out = t.shape[t.shape.length - 1];
    for (let u = 0; u < out; u += 17) {
      let s = 0;
      for (let j = u; j < t.values.length; j += out) s += t.values[j] ** 2;
      assert.ok(Math.abs(Math.sqrt(s) - 1) < 1e-4, `${t.name} unit ${u} has norm ${Math.sqrt(s)}`);
    }
  }
  const again = createMnistCnn({ seed: 7 });
  const other = createMnistCnn({ seed: 8 });
  assert.equal(modelHash(model), modelHash(again), 'same seed, same weights');
  assert.notEqual(modelHash(model), modelHash(other), 'another seed, other weights');
  [model, again, other].forEach((m) => m.dispose());
});

test('training learns a separable toy task without leaking tensors', async () => {
  const data = toyImages(80, 1);
  const model = createMnistCnn({ seed: 3 });
  const before = tf.memory().numTensors;
  const events: number[] = [];
  const result = await trainModel(model, data, {
    epochs: 2,
    batchSize: 20,
    seed: 5,
    onProgress: (e) => events.push(e.done),
  });
  assert.equal(tf.memory().numTensors, before, 'no tensor outlives trainModel');
  assert.equal(result.epochs.length, 2);
  assert.equal(result.steps.length, 8);
  assert.deepEqual(events.slice(0, 4), [20, 40, 60, 80]);
  assert.ok(
    result.steps[7].loss < result.steps[0].loss,
    `loss fell: ${result.steps[0].loss} → ${result.steps[7].loss}`,
  );
  assert.ok(evaluateAccuracy(model, toyImages(40, 2)) >= 0.9);
  model.dispose();
});

test('an interrupted run resumed from its checkpoint ends with the same weights as an uninterrupted one', async () => {
  const data = toyImages(60, 4);
  const straight = createMnistCnn({ seed: 9 });
  await trainModel(straight, data, { epochs: 3, batchSize: 20, seed: 11 });

  const ckpt = join(tmp, 'resume.ckpt');
  const interrupted = createMnistCnn({ seed: 9 });
  const controller = new AbortController();
  const first = await trainModel(interrupted, data, {
    epochs: 3,
    batchSize: 20,
    seed: 11,
    checkpointPath: ckpt,
    signal: controller.signal,
    onProgress: (e) => {
      if (e.stage.startsWith('train epoch 2') && e.done >= 40) controller.abort();
    },
  });
  assert.equal(first.interrupted, true);
  assert.equal(first.epochs.length, 1, 'only the finished epoch is recorded');
  interrupted.dispose();

  const notices: string[] = [];
  const onNotice = (m: string) => notices.push(m);
  const resumed = createMnistCnn({ seed: 9 });
  const second = await trainModel(resumed, data, {
    epochs: 3,
    batchSize: 20,
    seed: 11,
    checkpointPath: ckpt,
    onNotice,
  });
  assert.equal(second.resumedFromEpoch, 1);
  assert.match(
    notices.join('\n'),
    /resuming from checkpoint \S+resume\.ckpt: 1 epoch\(s\) done, continuing at epoch 2 of 3/,
  );
  assert.equal(second.epochs.length, 3);
  const a = modelTensors(straight);
  const b = modelTensors(resumed);
  for (let i = 0; i < a.length; i++) {
    let maxDiff = 0;
    for (let j = 0; j < a[i].values.length; j++) maxDiff = Math.max(maxDiff, Math.abs(a[i].values[j] - b[i].values[j]));
    assert.ok(maxDiff <= 1e-6, `${a[i].name} differs by ${maxDiff}`);
  }
  const fresh = createMnistCnn({ seed: 9 });
  const third = await trainModel(fresh, data, { epochs: 1, batchSize: 10, seed: 11, checkpointPath: ckpt, onNotice });
  assert.equal(third.resumedFromEpoch, 0, 'another batch size is another run: it starts fresh');
  assert.match(notices.at(-1)!, /checkpoint \S+ is another run's \(options\.batchSize 20 → 10\): starting fresh/);
  const seeded = createMnistCnn({ seed: 10 });
  const fourth = await trainModel(seeded, data, { epochs: 1, batchSize: 10, seed: 11, checkpointPath: ckpt, onNotice });
  assert.equal(fourth.resumedFromEpoch, 0, 'other initial weights (init seed) are another run');
  assert.match(notices.at(-1)!, /is another run's \(initialWeights \w+… → \w+…\)/);
  fresh.dispose();
  seeded.dispose();
  straight.dispose();
  resumed.dispose();
});

test('bad training arguments are refused with what was expected and found', async () => {
  const model = createMnistCnn();
  const data = toyImages(4, 1);
  await assert.rejects(trainModel(model, { ...data, n: 5 }, {}), /expected 5×28×28×1 = 3920 pixel values, found 3136/);
  await assert.rejects(trainModel(model, data, { epochs: 0 }), /epochs must be a positive integer, found 0/);
  await assert.rejects(trainModel(model, data, { batchSize: 2.5 }), /batchSize must be a positive integer, found 2.5/);
  model.dispose();
});

test('early stopping keeps the weights of the best validation epoch and stops after `patience` epochs without improvement', async () => {
  const data = toyImages(60, 3);
  const validation = toyImages(20, 4);
  const model = createMnistCnn({ seed: 3, filters: 4 });
  // Learning rate 0 after the first epochs would be ideal; instead: a tiny patience on a task learned at once.
  const result = await trainModel(model, data, {
    epochs: 8,
    batchSize: 20,
    learningRate: 0.01,
    earlyStopping: { data: validation, patience: 1 },
  });
  const es = result.earlyStopping!;
  assert.ok(es, 'early stopping reported');
  assert.equal(es.validationAccuracy.length, result.epochs.length);
  assert.equal(es.bestAccuracy, Math.max(...es.validationAccuracy));
  assert.equal(
    es.bestEpoch,
    es.validationAccuracy.indexOf(es.bestAccuracy) + 1,
    'the first epoch reaching the best accuracy',
  );
  if (es.stopped)
    assert.equal(result.epochs.length, es.bestEpoch + 1, 'stopped one epoch (the patience) after the best');
  assert.equal(evaluateAccuracy(model, validation), es.bestAccuracy, "the model ends with the best epoch's weights");
  await assert.rejects(
    trainModel(model, data, { epochs: 1, earlyStopping: { data: validation, patience: 0 } }),
    /earlyStopping.patience must be a positive integer, found 0/,
  );
  model.dispose();
});
