/**
 * Tests of lib/backend.ts and the fast wasm conv gradient kernels (lib/kernels/): gradients of
 * conv2d w.r.t. input and filter on wasm must match the cpu backend's.
 *
 *   node --import tsx --test test/backend.test.ts
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, backendOrder, initBackend, NATIVE_MODULE } from '../../lib/engine/backend';
import { compareWithCpu, GENERIC_CASES, MNIST_CASES, numDataIds, seeded, use } from '../helpers/conv';
import {
  FAST_WASM_KERNELS,
  NATIVE_WASM_KERNELS,
  registerFastWasmKernels,
  useStockWasmKernels,
  wasmKernelMode,
} from '../../lib/engine/kernels';
import { setColChunkFloats } from '../../lib/engine/conv2d-backprop';
import { nativeGemmStatus } from '../../lib/native/gemm-sync';

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
      assert.equal(tf.getBackend(), 'wasm');
      if (nativeGemmStatus().ok) {
        // onnxruntime-node is a dependency: its GEMM loads wherever npm installed it.
        assert.deepEqual(info.customKernels, [...NATIVE_WASM_KERNELS]);
        assert.equal(info.convolutions, 'native');
        assert.match(
          info.description,
          /^wasm \(XNNPACK .*; convolutions and matrix products on onnxruntime's native GEMM, one thread\)$/,
        );
        assert.equal(wasmKernelMode(), 'native');
      } else {
        assert.deepEqual(info.customKernels, ['Conv2DBackpropFilter', 'Conv2DBackpropInput']);
        assert.equal(info.convolutions, 'xnnpack');
        assert.match(
          info.description,
          /^wasm \(XNNPACK .*\) with fast Conv2DBackpropFilter\/Conv2DBackpropInput kernels; native convolutions unavailable: /,
        );
        assert.equal(wasmKernelMode(), 'fast');
      }
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
    assert.deepEqual(registerFastWasmKernels('xnnpack'), [...FAST_WASM_KERNELS]);
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
        tf.layers.conv2d({
          inputShape: [12, 12, 1],
          filters: 4,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        }),
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
      /Conv2DBackpropFilter \(dknn-ts wasm kernel\): expected dataFormat 'NHWC', found 'NCHW'/,
    );
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...attrs, inputShape: [1, 2, 6, 6] }),
      /Conv2DBackpropInput \(dknn-ts wasm kernel\): expected dataFormat 'NHWC', found 'NCHW'/,
    );
    tf.dispose([x, dy, f]);
  });

  test('a dy of the wrong shape is rejected, naming expected and found shapes', () => {
    const before = numDataIds();
    const x = tf.zeros([2, 8, 8, 3]);
    const dy = tf.zeros([2, 4, 4, 5]);
    assert.throws(
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          {
            strides: [1, 1],
            pad: 'valid',
            dataFormat: 'NHWC',
            filterShape: [3, 3, 3, 5],
          },
        ),
      /expected dy of shape \[2,6,6,5\].*found \[2,4,4,5\]/,
    );
    tf.dispose([x, dy]);
    assert.equal(numDataIds(), before);
  });

  test('dilated conv gradients are refused by tfjs before reaching the kernels', () => {
    const x = tf.ones([1, 7, 7, 1]) as tf.Tensor4D;
    const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    assert.throws(
      () => tf.grads((a: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, w, 1, 'valid', 'NHWC', 2).sum())([x]),
      /dilation/,
    );
    tf.dispose([x, w]);
  });
});
