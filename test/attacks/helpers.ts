/** Shared fixtures of the attack tests: tiny models with known answers and the MNIST CNN on a few real images. */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { loadMnist, dataDir } from '../../lib/data/datasets';
import { toTensors } from '../../lib/data/split';
import { loadModel } from '../../lib/models/format';
import { pretrainedPath } from '../../lib/models/zoo';
import { logitsFn, type ModelFn } from '../../lib/attacks/utils';
import { createRng } from '../../lib/util/random';

/**
 * A 2-class linear model on 2-D points with the decision boundary x₀ + x₁ = 1:
 * logits = [s − 1, 1 − s], s = x₀ + x₁ (class 0 above the line). Its weight tensors are kept alive
 * for the whole test file (call `dispose` in `test.after`).
 */
export function lineModel(): { fn: ModelFn; dispose: () => void } {
  const w = tf.tensor2d([
    [1, -1],
    [1, -1],
  ]);
  const b = tf.tensor1d([-1, 1]);
  return { fn: (x) => tf.add(tf.matMul(x as tf.Tensor2D, w), b), dispose: () => tf.dispose([w, b]) };
}

/** The label {@link lineModel} gives a point. */
export function lineLabel(x0: number, x1: number): number {
  return x0 + x1 - 1 > 1 - x0 - x1 ? 0 : 1;
}

/**
 * A 3-class linear model on 2-D points: class c has weight vector (cos θc, sin θc), θc = 2πc/3,
 * so the classes are three 120° sectors around the origin.
 */
export function sectorModel(): { fn: ModelFn; dispose: () => void } {
  const angles = [0, 1, 2].map((c) => (2 * Math.PI * c) / 3);
  const w = tf.tensor2d([angles.map(Math.cos), angles.map(Math.sin)]);
  return { fn: (x) => tf.matMul(x as tf.Tensor2D, w), dispose: () => w.dispose() };
}

/** n seeded points uniform in [lo, hi)². */
export function points(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: 2 * n }, () => lo + (hi - lo) * rng.next());
}

/** A small seeded convolutional net on 6×6×1 images with 4 classes (untrained; logits out). */
export function tinyCnn(seed: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [6, 6, 1],
      filters: 4,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotNormal({ seed }),
    }),
  );
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }));
  return m;
}

let mnistCache: Promise<{ model: tf.LayersModel; fn: ModelFn; x: tf.Tensor4D; labels: Int32Array }> | undefined;

/**
 * The committed pretrained MNIST CNN and the 40 test images 750…789 (tensor `x`, true `labels`),
 * loaded once per test file: their tensors stay alive, so take leak baselines after the first call.
 */
export function mnistFixture(): Promise<{ model: tf.LayersModel; fn: ModelFn; x: tf.Tensor4D; labels: Int32Array }> {
  mnistCache ??= (async () => {
    const { test } = await loadMnist();
    const { model } = await loadModel(pretrainedPath('mnist-cnn', dataDir()));
    const { xs, ys } = toTensors(test, { start: 750, end: 790 });
    const labels = Int32Array.from(ys.dataSync());
    ys.dispose();
    return { model, fn: logitsFn(model), x: xs, labels };
  })();
  return mnistCache;
}

/** Argmax of `fn(x)` per example. No tensor outlives the call. */
export function predict(fn: ModelFn, x: tf.Tensor): Int32Array {
  const t = tf.tidy(() => tf.argMax(fn(x), -1).toInt());
  const out = Int32Array.from(t.dataSync());
  t.dispose();
  return out;
}

/** Runs `body` and asserts that it leaves the number of live tensors unchanged. */
export async function noLeak<T>(body: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const r = await body();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`tensor leak: ${after - before} tensors left (${before} → ${after})`);
  return r;
}

/** The values of `t` as a Float32Array; disposes `t`. */
export function take(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/** The models every attack test file uses, created in `test.before` and disposed in `test.after`. */
export interface AttackFixtures {
  line: ReturnType<typeof lineModel>;
  sector: ReturnType<typeof sectorModel>;
  cnn: tf.LayersModel;
  /** The tiny CNN as a model function (valid once the fixtures are set up). */
  cnnFn: ModelFn;
}

/**
 * Registers the set-up (wasm or cpu engine, the MNIST fixture, {@link lineModel},
 * {@link sectorModel}, {@link tinyCnn}(cnnSeed)) and tear-down of a test file; the returned object
 * is filled in before its first test runs.
 */
export function attackFixtures(cnnSeed: number): AttackFixtures {
  const fx = { cnnFn: (x: tf.Tensor) => fx.cnn.apply(x) as tf.Tensor } as AttackFixtures;
  test.before(async () => {
    await initBackend({ prefer: ['wasm', 'cpu'] });
    await mnistFixture();
    fx.line = lineModel();
    fx.sector = sectorModel();
    fx.cnn = tinyCnn(cnnSeed);
  });
  test.after(() => {
    fx.line.dispose();
    fx.sector.dispose();
    fx.cnn.dispose();
  });
  return fx;
}
