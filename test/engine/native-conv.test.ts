/**
 * Tests of the native convolutions (lib/kernels/native-conv.ts, native-gemm.ts): forward pass and
 * both gradients on onnxruntime's GEMM must match the cpu backend, chunked or not; the calls the
 * native path does not take still work through the stock kernels; the GEMM itself is checked
 * against a plain loop.
 *
 *   node --import tsx --test test/native-conv.test.ts
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { convChoiceFromEnv, engineKey, setWasmKernelMode, wasmKernelMode } from '../../lib/engine/kernels';
import { im2col, setNativeChunkFloats } from '../../lib/engine/native-conv';
import { gemmSync, nativeGemmStatus, type GemmVariant } from '../../lib/native/gemm-sync';
import {
  compareWithCpu,
  GENERIC_CASES,
  MNIST_CASES,
  numDataIds,
  relErr,
  seeded,
  use,
  type Case,
} from '../helpers/conv';

const available = nativeGemmStatus();
const skip = available.ok ? false : `native GEMM unavailable: ${available.reason}`;

interface ForwardCase extends Case {
  activation: 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'prelu' | 'elu';
  bias: boolean;
  dilation?: number;
}

/** A fused conv2d (bias, activation) on the active backend, as a plain array; checks for leaks. */
function forward(c: ForwardCase, seed: number): Float32Array {
  const tensors = tf.memory().numTensors;
  const buffers = numDataIds();
  const out = tf.tidy(() => {
    const x = tf.tensor4d(seeded(tf.util.sizeFromShape(c.x), seed), c.x);
    const w = tf.tensor4d(seeded(tf.util.sizeFromShape(c.w), seed + 1), c.w);
    const bias = c.bias ? tf.tensor1d(seeded(c.w[3], seed + 2)) : undefined;
    const prelu = c.activation === 'prelu' ? tf.tensor1d(seeded(c.w[3], seed + 3)) : undefined;
    return tf.fused
      .conv2d({
        x,
        filter: w,
        strides: c.stride,
        pad: c.pad,
        dilations: c.dilation ?? 1,
        bias,
        activation: c.activation,
        preluActivationWeights: prelu,
        leakyreluAlpha: 0.3,
      })
      .dataSync() as Float32Array;
  });
  assert.equal(tf.memory().numTensors, tensors, 'no engine tensor leaked');
  assert.equal(numDataIds(), buffers, 'no backend buffer leaked');
  return out;
}

async function compareForward(c: ForwardCase, seed = 11): Promise<void> {
  await use('cpu');
  const ref = forward(c, seed);
  await use('wasm');
  const got = forward(c, seed);
  const e = relErr(got, ref);
  assert.ok(e < 1e-5, `forward relative error ${e} for ${JSON.stringify(c)}`);
}

describe('native convolutions match the cpu backend', { skip }, () => {
  before(async () => {
    await initBackend({ env: 'wasm' });
    await use('wasm');
    setWasmKernelMode('native');
  });
  after(() => setWasmKernelMode('native'));

  test('mode and cache key', () => {
    assert.equal(wasmKernelMode(), 'native');
    assert.equal(engineKey(), 'wasm+native-conv');
    setWasmKernelMode('fast');
    assert.equal(engineKey(), 'wasm', 'XNNPACK keeps the plain backend name (older cache entries stay valid)');
    setWasmKernelMode('native');
  });

  for (const [name, c] of [...MNIST_CASES, ...GENERIC_CASES]) {
    test(`gradients: ${name}`, async () => compareWithCpu(c));
  }

  const forwardCases: [string, ForwardCase][] = [
    [
      'MNIST conv2, bias + relu',
      { x: [3, 14, 14, 64], w: [6, 6, 64, 128], stride: 2, pad: 'valid', activation: 'relu', bias: true },
    ],
    [
      'MNIST conv3, bias + relu',
      { x: [3, 5, 5, 128], w: [5, 5, 128, 128], stride: 1, pad: 'valid', activation: 'relu', bias: true },
    ],
    [
      '3x2 s2 SAME, odd sizes, linear, no bias',
      { x: [2, 7, 9, 8], w: [3, 2, 8, 5], stride: 2, pad: 'same', activation: 'linear', bias: false },
    ],
    [
      '3x3 s(1,2) explicit pad, relu6',
      {
        x: [2, 8, 7, 9],
        w: [3, 3, 9, 4],
        stride: [1, 2],
        pad: [
          [0, 0],
          [1, 2],
          [0, 1],
          [0, 0],
        ],
        activation: 'relu6',
        bias: true,
      },
    ],
    [
      '1x1 s1 (pure GEMM), leakyrelu',
      { x: [2, 4, 5, 16], w: [1, 1, 16, 9], stride: 1, pad: 'valid', activation: 'leakyrelu', bias: true },
    ],
    [
      'stock path: few input channels (XNNPACK kept)',
      { x: [2, 28, 28, 1], w: [8, 8, 1, 64], stride: 2, pad: 'same', activation: 'relu', bias: true },
    ],
    [
      'stock path: dilation 2',
      { x: [2, 9, 9, 8], w: [3, 3, 8, 4], stride: 1, pad: 'valid', activation: 'relu', bias: true, dilation: 2 },
    ],
    [
      'stock path: prelu',
      { x: [2, 6, 6, 8], w: [3, 3, 8, 4], stride: 1, pad: 'same', activation: 'prelu', bias: true },
    ],
    ['stock path: elu', { x: [2, 6, 6, 8], w: [3, 3, 8, 4], stride: 1, pad: 'same', activation: 'elu', bias: false }],
  ];
  for (const [name, c] of forwardCases) {
    test(`forward: ${name}`, async () => compareForward(c));
  }

  test('chunked: one image per chunk gives the same results', async () => {
    const previous = setNativeChunkFloats({ forward: 50, filter: 50 });
    try {
      await compareWithCpu({ x: [4, 14, 14, 8], w: [6, 6, 8, 16], stride: 2, pad: 'valid' });
      await compareWithCpu({ x: [5, 7, 9, 3], w: [3, 2, 3, 5], stride: 2, pad: 'same' }, 7);
      await compareForward({
        x: [4, 9, 9, 8],
        w: [3, 3, 8, 6],
        stride: 2,
        pad: 'same',
        activation: 'relu',
        bias: true,
      });
    } finally {
      setNativeChunkFloats(previous);
    }
    assert.throws(
      () => setNativeChunkFloats({ forward: 0, filter: 10 }),
      /expected a positive integer forward, found 0/,
    );
  });

  test('a conv net trains with native convolutions, the loss going down', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [12, 12, 1],
          filters: 8,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        }),
        tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'valid', activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const x = tf.tensor4d(seeded(8 * 144, 3), [8, 12, 12, 1]);
    const y = tf.tensor2d(seeded(8 * 3, 4), [8, 3]);
    const h = await model.fit(x, y, { epochs: 6, batchSize: 4, verbose: 0 });
    const losses = h.history.loss as number[];
    assert.ok(losses.every(Number.isFinite) && losses[5]! < losses[0]!, `loss decreases: ${losses}`);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('gemmSync and im2col', { skip }, () => {
  const naive = (v: GemmVariant, a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array => {
    const y = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++)
          s += (v === 'tn' ? a[p * m + i]! : a[i * k + p]!) * (v === 'nt' ? b[j * k + p]! : b[p * n + j]!);
        y[i * n + j] = s;
      }
    }
    return y;
  };

  for (const v of ['nn', 'nt', 'tn'] as GemmVariant[]) {
    test(`${v}: the product of a plain loop, into the given buffer only`, () => {
      const [m, k, n] = [7, 13, 5];
      const a = seeded(m * k, 1);
      const b = seeded(k * n, 2);
      const out = new Float32Array(m * n + 3).fill(42);
      gemmSync(v, a, b, out, m, k, n);
      const ref = naive(v, a, b, m, k, n);
      for (let i = 0; i < m * n; i++)
        assert.ok(Math.abs(out[i]! - ref[i]!) < 1e-5, `${v}[${i}]: ${out[i]} vs ${ref[i]}`);
      assert.deepEqual([...out.subarray(m * n)], [42, 42, 42], 'values past m·n untouched');
    });
  }

  test('short operands are refused with the sizes; empty products are fine', () => {
    assert.throws(
      () => gemmSync('nn', new Float32Array(5), new Float32Array(6), new Float32Array(4), 2, 3, 2),
      /expected A ≥ 6, B ≥ 6, out ≥ 4 values, found 5, 6, 4/,
    );
    const out = new Float32Array(4).fill(1);
    gemmSync('nn', new Float32Array(0), new Float32Array(0), out, 2, 0, 2);
    assert.deepEqual([...out], [0, 0, 0, 0], 'k = 0 gives zeros');
  });

  test('im2col: patches of a 2-image batch with padding, by hand', () => {
    // x [2, 2, 3, 1] = 1..12; 2x2 filter, stride 1, SAME (pad bottom/right by 1).
    const info = tf.backend_util.computeConv2DInfo(
      [2, 2, 3, 1],
      [2, 2, 1, 1],
      1,
      1,
      'same',
      undefined,
      false,
      'channelsLast',
    );
    const x = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    const out = new Float32Array(2 * 6 * 4);
    im2col(x, out, 0, 2, info);
    assert.deepEqual(
      [...out.subarray(0, 24)],
      [1, 2, 4, 5, 2, 3, 5, 6, 3, 0, 6, 0, 4, 5, 0, 0, 5, 6, 0, 0, 6, 0, 0, 0],
    );
    assert.deepEqual([...out.subarray(24, 28)], [7, 8, 10, 11]);
  });

  test('DKNN_CONV is parsed, and bad values named', () => {
    assert.equal(convChoiceFromEnv(''), 'auto');
    assert.equal(convChoiceFromEnv(' XNNPACK '), 'xnnpack');
    assert.equal(convChoiceFromEnv('native'), 'native');
    assert.throws(() => convChoiceFromEnv('gpu'), /DKNN_CONV: expected auto, native or xnnpack, found 'gpu'/);
  });
});

describe('native matrix products and the max-pool gradient match the cpu backend', { skip }, () => {
  before(async () => {
    await initBackend({ env: 'wasm' });
    await use('wasm');
    setWasmKernelMode('native');
  });

  /** f() on the cpu backend and on wasm (native mode), compared; checks for leaks on wasm. */
  async function same(what: string, f: () => tf.Tensor, tol = 1e-5): Promise<void> {
    await use('cpu');
    const ref = tf.tidy(() => f().dataSync() as Float32Array);
    await use('wasm');
    const tensors = tf.memory().numTensors;
    const buffers = numDataIds();
    const got = tf.tidy(() => f().dataSync() as Float32Array);
    assert.equal(tf.memory().numTensors, tensors, 'no engine tensor leaked');
    assert.equal(numDataIds(), buffers, 'no backend buffer leaked');
    const e = relErr(got, ref);
    assert.ok(e < tol, `${what}: relative error ${e}`);
  }

  const t = (shape: number[], seed: number) => tf.tensor(seeded(tf.util.sizeFromShape(shape), seed), shape);
  const cases: [number[], number[], boolean, boolean][] = [
    [[7, 13], [13, 5], false, false],
    [[13, 7], [13, 5], true, false],
    [[7, 13], [5, 13], false, true],
    [[13, 7], [5, 13], true, true], // both transposed: the stock kernel
    [[3, 4, 6], [3, 6, 2], false, false],
    [[3, 4, 6], [1, 6, 2], false, false], // B broadcast over the batch
    [[1, 6, 4], [3, 6, 2], true, false], // A broadcast
  ];
  for (const [sa, sb, ta, tb] of cases) {
    test(`matMul [${sa}]${ta ? 'ᵀ' : ''} · [${sb}]${tb ? 'ᵀ' : ''}`, () =>
      same('matMul', () => tf.matMul(t(sa, 1), t(sb, 2), ta, tb)));
  }

  test('fused matMul: bias and relu, and the gradient of a dense layer', async () => {
    await same('fused', () =>
      tf.fused.matMul({ a: t([9, 16], 3), b: t([16, 6], 4), bias: t([6], 5), activation: 'relu' }),
    );
    await same('fused, Bᵀ, leakyrelu', () =>
      tf.fused.matMul({
        a: t([9, 16], 3),
        b: t([6, 16], 4),
        transposeB: true,
        bias: t([6], 5),
        activation: 'leakyrelu',
        leakyreluAlpha: 0.1,
      }),
    );
    await same('dense gradient', () => {
      const [da, db] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.relu(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)), t([9, 6], 7))),
      )([t([9, 16], 3), t([16, 6], 4)]);
      return tf.concat([da!.flatten(), db!.flatten()]);
    });
  });

  test('max-pool gradient: 2×2/2, overlapping 3×3/2 SAME, and ties to the first maximum', async () => {
    const grad = (x: tf.Tensor4D, size: number, stride: number, pad: 'same' | 'valid') =>
      tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, size, stride, pad), 1 + Math.PI)))(x);
    await same('2x2/2', () => grad(t([2, 8, 6, 5], 9) as tf.Tensor4D, 2, 2, 'valid'));
    await same('3x3/2 same', () => grad(t([2, 7, 9, 3], 10) as tf.Tensor4D, 3, 2, 'same'));
    await same('ties', () => grad(tf.ones([1, 4, 4, 2]) as tf.Tensor4D, 2, 2, 'valid'));
    await use('wasm');
    const tied = tf.tidy(() => grad(tf.ones([1, 2, 2, 1]) as tf.Tensor4D, 2, 2, 'valid').dataSync());
    assert.deepEqual(
      [...tied].map((v) => Number(v.toFixed(5))),
      [Number((1 + Math.PI).toFixed(5)), 0, 0, 0],
      'a tie goes to the first position',
    );
  });
});
