/**
 * Tests of lib/backend.ts and the fast wasm conv gradient kernels (lib/kernels/): gradients of
 * conv2d w.r.t. input and filter on wasm must match the cpu backend's.
 *
 *   node --import tsx --test test/backend.test.ts
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, backendOrder, initBackend, NATIVE_MODULE } from '../lib/backend';
import {
  FAST_WASM_KERNELS,
  registerFastWasmKernels,
  setColChunkFloats,
  useStockWasmKernels,
  wasmKernelMode,
} from '../lib/kernels';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  x: Shape4;
  w: Shape4;
  stride: number | [number, number];
  pad: Pad;
}

/** Seeded uniform [-1, 1) data (LCG). */
function seeded(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32) * 2 - 1;
  }
  return a;
}

async function use(name: 'cpu' | 'wasm'): Promise<void> {
  assert.equal(await tf.setBackend(name), true, `backend ${name} should start`);
  if (name === 'cpu') Object.assign(tf.backend(), { firstUse: false }); // no "install tfjs-node" banner
}

function numDataIds(): number {
  return tf.engine().backend.numDataIds();
}

/**
 * dL/dx and dL/dw of L = Σ conv2d(x, w)·g (g a fixed random weighting) on the active backend,
 * as plain arrays; checks that the computation leaves no tensor or backend buffer behind.
 */
function convGrads(c: Case, seed: number): { dx: Float32Array; dw: Float32Array } {
  const tensors = tf.memory().numTensors;
  const buffers = numDataIds();
  const xs = seeded(tf.util.sizeFromShape(c.x), seed);
  const ws = seeded(tf.util.sizeFromShape(c.w), seed + 1);
  const out = tf.tidy(() => {
    const x = tf.tensor4d(xs, c.x);
    const w = tf.tensor4d(ws, c.w);
    const yShape = tf.conv2d(x, w, c.stride, c.pad).shape;
    const g = tf.tensor(seeded(tf.util.sizeFromShape(yShape), seed + 2), yShape);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), g));
    const [dx, dw] = tf.grads(f)([x, w]);
    return { dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  });
  assert.equal(tf.memory().numTensors, tensors, 'no engine tensor leaked');
  assert.equal(numDataIds(), buffers, 'no backend buffer leaked');
  return out;
}

/** max |a − b| / max |b|. */
function relErr(a: Float32Array, b: Float32Array): number {
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

async function compareWithCpu(c: Case, seed = 42): Promise<void> {
  await use('cpu');
  const ref = convGrads(c, seed);
  await use('wasm');
  const got = convGrads(c, seed);
  const ex = relErr(got.dx, ref.dx);
  const ew = relErr(got.dw, ref.dw);
  assert.ok(ex < 1e-4, `dx relative error ${ex} for ${JSON.stringify(c)}`);
  assert.ok(ew < 1e-4, `dw relative error ${ew} for ${JSON.stringify(c)}`);
}

const MNIST_CASES: [string, Case][] = [
  ['conv1 8x8 s2 SAME 1->64 on 28x28', { x: [3, 28, 28, 1], w: [8, 8, 1, 64], stride: 2, pad: 'same' }],
  ['conv2 6x6 s2 VALID 64->128 on 14x14', { x: [3, 14, 14, 64], w: [6, 6, 64, 128], stride: 2, pad: 'valid' }],
  ['conv3 5x5 s1 VALID 128->128 on 5x5', { x: [3, 5, 5, 128], w: [5, 5, 128, 128], stride: 1, pad: 'valid' }],
];

const GENERIC_CASES: [string, Case][] = [
  ['3x3 s1 SAME', { x: [3, 8, 8, 3], w: [3, 3, 3, 4], stride: 1, pad: 'same' }],
  ['3x3 s1 VALID', { x: [3, 8, 7, 3], w: [3, 3, 3, 4], stride: 1, pad: 'valid' }],
  ['3x2 s2 SAME, odd sizes', { x: [3, 7, 9, 3], w: [3, 2, 3, 5], stride: 2, pad: 'same' }],
  ['3x2 s2 VALID, odd sizes', { x: [3, 7, 9, 3], w: [3, 2, 3, 5], stride: 2, pad: 'valid' }],
  ['6x6 s2 VALID with an unread last row/column', { x: [3, 15, 15, 2], w: [6, 6, 2, 3], stride: 2, pad: 'valid' }],
  ['4x4 s2 SAME, even input', { x: [3, 10, 10, 2], w: [4, 4, 2, 6], stride: 2, pad: 'same' }],
  ['3x3 s(1,2) SAME, mixed strides', { x: [3, 9, 8, 2], w: [3, 3, 2, 3], stride: [1, 2], pad: 'same' }],
  ['3x3 s2 explicit pad', { x: [3, 8, 7, 3], w: [3, 3, 3, 4], stride: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] }],
  ['3x3 s1 explicit pad', { x: [3, 6, 6, 2], w: [3, 3, 2, 2], stride: 1, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] }],
  ['2x2 s3 SAME, stride larger than filter', { x: [3, 9, 10, 2], w: [2, 2, 2, 3], stride: 3, pad: 'same' }],
  ['1x1 s2 VALID, skipped rows/columns', { x: [3, 6, 7, 3], w: [1, 1, 3, 4], stride: 2, pad: 'valid' }],
  ['1x1 s1 VALID (pure GEMM)', { x: [3, 4, 5, 7], w: [1, 1, 7, 9], stride: 1, pad: 'valid' }],
  ['filter covers input, batch 1', { x: [1, 5, 5, 4], w: [5, 5, 4, 3], stride: 1, pad: 'valid' }],
];

describe('initBackend', () => {
  test('picks the first backend that starts, recording failed attempts; idempotent', async () => {
    let nativeInstalled = true;
    try {
      require.resolve(NATIVE_MODULE);
    } catch {
      nativeInstalled = false;
    }
    const info = await initBackend({ env: '' }); // '' = ignore $DKNN_BACKEND
    if (nativeInstalled) {
      assert.equal(info.name, 'tensorflow');
      assert.deepEqual(info.attempts, [{ name: 'tensorflow', ok: true }]);
    } else {
      assert.equal(info.name, 'wasm');
      assert.equal(info.attempts.length, 2);
      const [native, wasm] = info.attempts;
      assert.equal(native!.name, 'tensorflow');
      assert.equal(native!.ok, false);
      assert.match(native!.error ?? '', new RegExp(NATIVE_MODULE));
      assert.deepEqual(wasm, { name: 'wasm', ok: true });
      assert.deepEqual(info.customKernels, ['Conv2DBackpropFilter', 'Conv2DBackpropInput']);
      assert.match(info.description, /^wasm \(XNNPACK .*\) with fast Conv2DBackpropFilter\/Conv2DBackpropInput kernels$/);
      assert.equal(tf.getBackend(), 'wasm');
      assert.equal(wasmKernelMode(), 'fast');
    }
    assert.equal(await initBackend({ prefer: ['cpu'] }), info, 'second call returns the same info');
    assert.equal(backendInfo(), info);
  });

  test('backendOrder: DKNN_BACKEND override, prefer list, validation', () => {
    assert.deepEqual(backendOrder({ env: '' }), ['tensorflow', 'wasm', 'cpu']);
    assert.deepEqual(backendOrder({ env: 'cpu' }), ['cpu']);
    assert.deepEqual(backendOrder({ env: ' WASM , cpu ', prefer: ['tensorflow'] }), ['wasm', 'cpu']);
    assert.deepEqual(backendOrder({ env: '', prefer: ['cpu', 'wasm'] }), ['cpu', 'wasm']);
    assert.throws(() => backendOrder({ env: 'gpu' }), /expected one of tensorflow, wasm, cpu, found 'gpu'/);
    assert.throws(() => backendOrder({ env: '', prefer: [] }), /names no backend/);
  });
});

describe('fast wasm conv2d gradients match the cpu backend', () => {
  before(async () => {
    await use('wasm');
    assert.deepEqual(registerFastWasmKernels(), [...FAST_WASM_KERNELS]);
  });

  for (const [name, c] of [...MNIST_CASES, ...GENERIC_CASES]) {
    test(name, async () => compareWithCpu(c));
  }

  test('chunked input gradient (patch matrix split over the batch)', async () => {
    setColChunkFloats(500); // one image per chunk
    try {
      await compareWithCpu({ x: [3, 14, 14, 4], w: [6, 6, 4, 8], stride: 2, pad: 'valid' });
      await compareWithCpu({ x: [5, 7, 9, 3], w: [3, 2, 3, 5], stride: 2, pad: 'same' }, 7);
    } finally {
      setColChunkFloats(1 << 20);
    }
  });

  test('stock baseline (package Conv2DBackpropInput + reference filter loop) is also correct', async () => {
    useStockWasmKernels(true);
    try {
      assert.equal(wasmKernelMode(), 'stock');
      await compareWithCpu({ x: [2, 7, 9, 3], w: [3, 2, 3, 5], stride: 2, pad: 'same' });
    } finally {
      useStockWasmKernels(false);
    }
    assert.equal(wasmKernelMode(), 'fast');
  });

  test('a conv net trains on wasm (Conv2DBackpropFilter exists) without leaking', async () => {
    await use('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const x = tf.tensor4d(seeded(8 * 144, 3), [8, 12, 12, 1]);
    const y = tf.tensor2d(seeded(8 * 3, 4), [8, 3]);
    const first = await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 }); // creates optimizer slots
    const steady = tf.memory().numTensors;
    const rest = await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 });
    assert.equal(tf.memory().numTensors, steady, 'no tensors leaked by training steps');
    const losses = [...(first.history.loss as number[]), ...(rest.history.loss as number[])];
    assert.ok(losses.every(Number.isFinite), `finite losses: ${losses}`);
    assert.ok(losses[3]! < losses[0]!, `loss decreases: ${losses}`);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('unsupported configurations fail clearly', () => {
  before(async () => {
    await use('wasm');
    registerFastWasmKernels();
  });

  test('NCHW is rejected, naming expected and found formats', () => {
    const x = tf.zeros([1, 2, 6, 6]);
    const dy = tf.zeros([1, 3, 4, 4]);
    const f = tf.zeros([3, 3, 2, 3]);
    const attrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NCHW' };
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [3, 3, 2, 3] }),
      /Conv2DBackpropFilter \(fast wasm kernel\): expected dataFormat 'NHWC', found 'NCHW'/,
    );
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...attrs, inputShape: [1, 2, 6, 6] }),
      /Conv2DBackpropInput \(fast wasm kernel\): expected dataFormat 'NHWC', found 'NCHW'/,
    );
    tf.dispose([x, dy, f]);
  });

  test('a dy of the wrong shape is rejected, naming expected and found shapes', () => {
    const before = numDataIds();
    const x = tf.zeros([2, 8, 8, 3]);
    const dy = tf.zeros([2, 4, 4, 5]);
    assert.throws(
      () =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
          strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 3, 5],
        }),
      /expected dy of shape \[2,6,6,5\].*found \[2,4,4,5\]/,
    );
    tf.dispose([x, dy]);
    assert.equal(numDataIds(), before);
  });

  test('dilated conv gradients are refused by tfjs before reaching the kernels', () => {
    const x = tf.ones([1, 7, 7, 1]) as tf.Tensor4D;
    const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    assert.throws(() => tf.grads((a: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, w, 1, 'valid', 'NHWC', 2).sum())([x]), /dilation/);
    tf.dispose([x, w]);
  });
});
