/**
 * Shared helpers of the conv kernel tests (test/backend.test.ts, test/native-conv.test.ts): seeded
 * data, gradients of a conv on the active backend, and their comparison with the cpu backend.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

export type Shape4 = [number, number, number, number];
export type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

export interface Case {
  x: Shape4;
  w: Shape4;
  stride: number | [number, number];
  pad: Pad;
}

/** Seeded uniform [-1, 1) data (LCG). */
export function seeded(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32) * 2 - 1;
  }
  return a;
}

export async function use(name: 'cpu' | 'wasm'): Promise<void> {
  assert.equal(await tf.setBackend(name), true, `backend ${name} should start`);
  if (name === 'cpu') Object.assign(tf.backend(), { firstUse: false }); // no "install tfjs-node" banner
}

export function numDataIds(): number {
  return tf.engine().backend.numDataIds();
}

/**
 * dL/dx and dL/dw of L = Σ conv2d(x, w)·g (g a fixed random weighting) on the active backend,
 * as plain arrays; checks that the computation leaves no tensor or backend buffer behind.
 */
export function convGrads(c: Case, seed: number): { dx: Float32Array; dw: Float32Array } {
  const tensors = tf.memory().numTensors;
  const buffers = numDataIds();
  const xs = seeded(tf.util.sizeFromShape(c.x), seed);
  const ws = seeded(tf.util.sizeFromShape(c.w), seed + 1);
  const out = tf.tidy(() => {
    const x = tf.tensor4d(xs, c.x);
    const w = tf.tensor4d(ws, c.w);
    const yShape = tf.conv2d(x, w, c.stride, c.pad).shape;
    const g = tf.tensor(seeded(tf.util.sizeFromShape(yShape), seed + 2), yShape);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), g));
    const [dx, dw] = tf.grads(f)([x, w]);
    return { dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  });
  assert.equal(tf.memory().numTensors, tensors, 'no engine tensor leaked');
  assert.equal(numDataIds(), buffers, 'no backend buffer leaked');
  return out;
}

/** max |a − b| / max |b|. */
export function relErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  assert.ok(scale > 0, 'reference gradient is not all zeros');
  return diff / scale;
}

export async function compareWithCpu(c: Case, seed = 42): Promise<void> {
  await use('cpu');
  const ref = convGrads(c, seed);
  await use('wasm');
  const got = convGrads(c, seed);
  const ex = relErr(got.dx, ref.dx);
  const ew = relErr(got.dw, ref.dw);
  assert.ok(ex < 1e-4, `dx relative error ${ex} for ${JSON.stringify(c)}`);
  assert.ok(ew < 1e-4, `dw relative error ${ew} for ${JSON.stringify(c)}`);
}

export const MNIST_CASES: [string, Case][] = [
  ['conv1 8x8 s2 SAME 1->64 on 28x28', { x: [3, 28, 28, 1], w: [8, 8, 1, 64], stride: 2, pad: 'same' }],
  ['conv2 6x6 s2 VALID 64->128 on 14x14', { x: [3, 14, 14, 64], w: [6, 6, 64, 128], stride: 2, pad: 'valid' }],
  ['conv3 5x5 s1 VALID 128->128 on 5x5', { x: [3, 5, 5, 128], w: [5, 5, 128, 128], stride: 1, pad: 'valid' }],
];

export const GENERIC_CASES: [string, Case][] = [
  ['3x3 s1 SAME', { x: [3, 8, 8, 3], w: [3, 3, 3, 4], stride: 1, pad: 'same' }],
  ['3x3 s1 VALID', { x: [3, 8, 7, 3], w: [3, 3, 3, 4], stride: 1, pad: 'valid' }],
  ['3x2 s2 SAME, odd sizes', { x: [3, 7, 9, 3], w: [3, 2, 3, 5], stride: 2, pad: 'same' }],
  ['3x2 s2 VALID, odd sizes', { x: [3, 7, 9, 3], w: [3, 2, 3, 5], stride: 2, pad: 'valid' }],
  ['6x6 s2 VALID with an unread last row/column', { x: [3, 15, 15, 2], w: [6, 6, 2, 3], stride: 2, pad: 'valid' }],
  ['4x4 s2 SAME, even input', { x: [3, 10, 10, 2], w: [4, 4, 2, 6], stride: 2, pad: 'same' }],
  ['3x3 s(1,2) SAME, mixed strides', { x: [3, 9, 8, 2], w: [3, 3, 2, 3], stride: [1, 2], pad: 'same' }],
  [
    '3x3 s2 explicit pad',
    {
      x: [3, 8, 7, 3],
      w: [3, 3, 3, 4],
      stride: 2,
      pad: [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ],
    },
  ],
  [
    '3x3 s1 explicit pad',
    {
      x: [3, 6, 6, 2],
      w: [3, 3, 2, 2],
      stride: 1,
      pad: [
        [0, 0],
        [2, 0],
        [1, 1],
        [0, 0],
      ],
    },
  ],
  ['2x2 s3 SAME, stride larger than filter', { x: [3, 9, 10, 2], w: [2, 2, 2, 3], stride: 3, pad: 'same' }],
  ['1x1 s2 VALID, skipped rows/columns', { x: [3, 6, 7, 3], w: [1, 1, 3, 4], stride: 2, pad: 'valid' }],
  ['1x1 s1 VALID (pure GEMM)', { x: [3, 4, 5, 7], w: [1, 1, 7, 9], stride: 1, pad: 'valid' }],
  ['filter covers input, batch 1', { x: [1, 5, 5, 4], w: [5, 5, 4, 3], stride: 1, pad: 'valid' }],
];
