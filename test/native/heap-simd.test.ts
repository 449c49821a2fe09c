/**
 * Tests of the wasm SIMD loops on the tfjs wasm heap (lib/kernels/heap-simd.ts) and of col2im
 * (lib/kernels/conv2d-backprop.ts) in JavaScript and on the heap: the same float32 sums as plain
 * loops, bit for bit, for every run length and convolution geometry.
 *
 *   node --import tsx --test test/heap-simd.test.ts
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { col2im } from '../../lib/engine/conv2d-backprop';
import { heapSimd } from '../../lib/native/heap-simd';
import { alloc, biasActivation, free, heapF32, type BackendWasm } from '../../lib/engine/wasm-util';
import { GENERIC_CASES, MNIST_CASES, seeded } from '../helpers/conv';

let backend: BackendWasm | null = null;
before(async () => {
  const info = await initBackend({ prefer: ['wasm'] });
  if (info.name === 'wasm') backend = tf.backend() as unknown as BackendWasm;
});

test('add on the wasm heap: dst += src for every length (vector part and scalar tail), nothing outside touched', (t) => {
  if (!backend) return t.skip('wasm backend unavailable');
  const simd = heapSimd(backend);
  assert.ok(simd, 'the SIMD module instantiates on the backend heap');
  const dstInfo = alloc(backend, [40]);
  const srcInfo = alloc(backend, [40]);
  try {
    for (let n = 0; n <= 13; n++) {
      const dst = heapF32(backend, dstInfo);
      const src = heapF32(backend, srcInfo);
      dst.set(seeded(40, 1 + n));
      src.set(seeded(40, 100 + n));
      const want = Float32Array.from(dst);
      for (let i = 0; i < n; i++) want[i + 3] += src[i + 5];
      simd.add(dst.byteOffset + 12, src.byteOffset + 20, n);
      assert.deepEqual(Array.from(heapF32(backend, dstInfo)), Array.from(want), `n = ${n}`);
    }
  } finally {
    free(backend, dstInfo);
    free(backend, srcInfo);
  }
});

/** col2im as a plain loop, element by element in patch-row order: the reference both paths must equal. */
function col2imByHand(
  cols: Float32Array,
  dx: Float32Array,
  b0: number,
  b1: number,
  info: tf.backend_util.Conv2DInfo,
): void {
  const {
    inHeight: H,
    inWidth: W,
    inChannels: CI,
    outHeight: OH,
    outWidth: OW,
    filterHeight: KH,
    filterWidth: KW,
  } = info;
  for (let b = b0; b < b1; b++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const row = (((b - b0) * OH + oh) * OW + ow) * KH * KW * CI;
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * info.strideHeight + kh - info.padInfo.top;
            const iw = ow * info.strideWidth + kw - info.padInfo.left;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            for (let ci = 0; ci < CI; ci++)
              dx[((b * H + ih) * W + iw) * CI + ci] += cols[row + (kh * KW + kw) * CI + ci];
          }
      }
}

test('col2im in JavaScript and in wasm SIMD on the heap are bit-identical to a plain loop (padding, strides, 1 to 64 channels, a chunk not at image 0)', (t) => {
  if (!backend) return t.skip('wasm backend unavailable');
  const simd = heapSimd(backend)!;
  const sameCount = (a: Float32Array, b: Float32Array) => a.reduce((c, v, i) => c + (Object.is(v, b[i]) ? 1 : 0), 0);
  for (const [name, c] of [...MNIST_CASES, ...GENERIC_CASES]) {
    const info = tf.backend_util.computeConv2DInfo(
      c.x as [number, number, number, number],
      c.w as [number, number, number, number],
      c.stride as [number, number],
      1,
      c.pad as 'same',
      undefined,
      false,
      'channelsLast',
    );
    const K = info.filterHeight * info.filterWidth * info.inChannels;
    const [b0, b1] = [1, info.batchSize]; // images 1 … B−1, as a second chunk would be
    const rows = (b1 - b0) * info.outHeight * info.outWidth;
    const cols = seeded(rows * K, 7);
    const size = tf.util.sizeFromShape(c.x);
    const want = seeded(size, 9);
    col2imByHand(cols, want, b0, b1, info);
    const js = seeded(size, 9);
    col2im(cols, js, b0, b1, info);
    assert.equal(sameCount(js, want), size, `${name}, JavaScript`);
    const colsInfo = alloc(backend, [rows * K]);
    const dxInfo = alloc(backend, [size]);
    try {
      heapF32(backend, colsInfo).set(cols);
      heapF32(backend, dxInfo).set(seeded(size, 9));
      col2im(heapF32(backend, colsInfo), heapF32(backend, dxInfo), b0, b1, info, simd);
      assert.equal(sameCount(heapF32(backend, dxInfo), want), size, `${name}, wasm SIMD`);
    } finally {
      free(backend, colsInfo);
      free(backend, dxInfo);
    }
  }
});

test('bias and ReLU on the heap give the JavaScript values bit for bit (−0, NaN and negative values included)', (t) => {
  if (!backend) return t.skip('wasm backend unavailable');
  const rows = 7;
  const n = 12;
  const simd = heapSimd(backend)!;
  for (const activation of ['linear', 'relu'] as const) {
    const y0 = seeded(rows * n, 3);
    y0[0] = -0;
    y0[5] = NaN;
    y0[13] = -1e-30;
    const bias = seeded(n, 4);
    bias[0] = 0; // −0 + 0 = +0 in both
    bias[1] = -0; // −0 stays −0 only without a positive bias
    y0[1] = -0;
    const want = Float32Array.from(y0);
    biasActivation(want, n, Float32Array.from(bias), activation, 0);
    const yInfo = alloc(backend, [rows * n]);
    const bInfo = alloc(backend, [n]);
    try {
      heapF32(backend, yInfo).set(y0);
      heapF32(backend, bInfo).set(bias);
      biasActivation(heapF32(backend, yInfo), n, heapF32(backend, bInfo), activation, 0, simd);
      const got = heapF32(backend, yInfo);
      for (let i = 0; i < rows * n; i++)
        assert.ok(Object.is(got[i], want[i]), `${activation}, value ${i}: ${got[i]} vs ${want[i]}`);
    } finally {
      free(backend, yInfo);
      free(backend, bInfo);
    }
  }
  assert.ok(Object.is(heapSimd(backend), simd), 'one instance per heap');
});
