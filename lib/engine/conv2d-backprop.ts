/**
 * Fast Conv2D gradient kernels for the tfjs wasm backend (tfjs-backend-wasm 4.22).
 *
 * The stock wasm backend has no `Conv2DBackpropFilter` (training any conv net fails) and its
 * `Conv2DBackpropInput` is a scalar loop. Both gradients are rewritten here as calls of the
 * backend's own `Conv2D` kernel, which runs XNNPACK's SIMD GEMM/IGEMM micro-kernels, with only
 * O(data) reshuffling done in plain typed-array loops:
 *
 * - filter gradient: a direct convolution of the input, transposed to [CI, H, W, B], with `dy`,
 *   transposed to [OH, OW, B, CO], as the filter and dilation = stride. The batch becomes the
 *   reduction (channel) axis; the output [CI, KH, KW, CO] is permuted into [KH, KW, CI, CO].
 * - input gradient: one GEMM `cols[B·OH·OW, KH·KW·CI] = dy[B·OH·OW, CO] · Wᵀ[CO, KH·KW·CI]`, run
 *   as a 1×1 `Conv2D`, then col2im (scatter-add of the patches into dx).
 *
 * Supported: NHWC, float32, any batch/channels/filter size, any strides, padding 'same', 'valid',
 * a number or explicit, dilation 1 (the only rate the gradient kernels receive). Anything else
 * throws an error naming what was expected and what was found.
 *
 * Tensor ownership: every kernel returns a fresh tensor owned by the engine and frees all its
 * intermediates before returning (including on the error paths that follow allocation).
 */
import * as tf from '@tensorflow/tfjs';
import type { HeapSimd } from '../native/heap-simd';
import {
  alloc,
  free,
  heapF32,
  kernelInput,
  reshapeInfo,
  runWasmKernel,
  transposeAPCtoCPA,
  transposeAPCtoPAC,
} from './wasm-util';
import { wasmKernelConfig, type WasmKernelArgs } from '../native/tfjs-wasm';

type Pad = tf.Conv2DBackpropFilterAttrs['pad'];
type Shape4 = [number, number, number, number];

/**
 * Validates a gradient kernel's configuration and returns its forward `Conv2DInfo`.
 * Throws a clear error for unsupported data formats/dtypes and for inconsistent shapes.
 */
export function backpropConvInfo(
  kernelName: string,
  xShape: number[],
  filterShape: number[],
  dy: tf.TensorInfo,
  others: tf.TensorInfo[],
  strides: [number, number] | number,
  pad: Pad,
  dataFormat: string,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): tf.backend_util.Conv2DInfo {
  const what = `${kernelName} (dknn-ts wasm kernel)`;
  if (dataFormat !== 'NHWC') {
    throw new Error(`${what}: expected dataFormat 'NHWC', found '${dataFormat}'`);
  }
  for (const t of [dy, ...others]) {
    if (t.dtype !== 'float32') throw new Error(`${what}: expected float32 tensors, found ${t.dtype}`);
  }
  if (xShape.length !== 4 || filterShape.length !== 4 || dy.shape.length !== 4) {
    throw new Error(
      `${what}: expected rank-4 input, filter and dy, found [${xShape}], [${filterShape}], [${dy.shape}]`,
    );
  }
  if (xShape[3] !== filterShape[2]) {
    throw new Error(`${what}: expected input channels ${filterShape[2]} (filter [${filterShape}]), found ${xShape[3]}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  if (!tf.util.arraysEqual(info.outShape, dy.shape)) {
    throw new Error(
      `${what}: expected dy of shape [${info.outShape}] for input [${xShape}], filter [${filterShape}], ` +
        `strides ${JSON.stringify(strides)}, pad ${JSON.stringify(pad)}; found [${dy.shape}]`,
    );
  }
  return info;
}

/** The inputs of a `Conv2DBackpropFilter` call and its checked convolution geometry (shared by the fast and reference kernels). */
export function filterGradientArgs(args: Omit<WasmKernelArgs<tf.Conv2DBackpropFilterAttrs>, 'backend'>): {
  x: tf.TensorInfo;
  dy: tf.TensorInfo;
  info: ReturnType<typeof backpropConvInfo>;
} {
  const x = kernelInput(tf.Conv2DBackpropFilter, args.inputs, 'x');
  const dy = kernelInput(tf.Conv2DBackpropFilter, args.inputs, 'dy');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs;
  const info = backpropConvInfo(
    'Conv2DBackpropFilter',
    x.shape,
    filterShape,
    dy,
    [x],
    strides,
    pad,
    dataFormat,
    dimRoundingMode,
  );
  return { x, dy, info };
}

/**
 * `Conv2DBackpropFilter` for the wasm backend: dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·sh+kh−pt,
 * ow·sw+kw−pl, ci] · dy[b,oh,ow,co], computed as one dilated XNNPACK convolution.
 * Inputs `x`, `dy` are borrowed; the returned [KH, KW, CI, CO] tensor is owned by the caller.
 */
export function conv2DBackpropFilterWasm(args: WasmKernelArgs<tf.Conv2DBackpropFilterAttrs>): tf.TensorInfo {
  const { backend } = args;
  const { x, dy, info } = filterGradientArgs(args);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW } = info;
  const { outChannels: CO, filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  // Bottom/right padding that makes the correlation exactly KH×KW; clamped at 0 when the input
  // has trailing rows/columns no output reads (the surplus outputs are dropped below).
  const pb = Math.max(0, KH - H - pt + (OH - 1) * sh);
  const pr = Math.max(0, KW - W - pl + (OW - 1) * sw);

  const xT = alloc(backend, [CI, H, W, B]);
  const dyT = alloc(backend, [OH, OW, B, CO]);
  let corr: tf.TensorInfo;
  try {
    transposeAPCtoCPA(heapF32(backend, x), heapF32(backend, xT), B, H * W, CI);
    transposeAPCtoPAC(heapF32(backend, dy), heapF32(backend, dyT), B, OH * OW, CO);
    corr = runWasmKernel(
      backend,
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [pt, pb],
          [pl, pr],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [sh, sw],
      },
    );
  } finally {
    free(backend, xT);
    free(backend, dyT); // also drops the XNNPACK operator cached for this "filter"
  }
  const [, CH, CW] = corr.shape; // [CI, CH >= KH, CW >= KW, CO]
  const dW = alloc(backend, [KH, KW, CI, CO]);
  const src = heapF32(backend, corr);
  const dst = heapF32(backend, dW);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      for (let ci = 0; ci < CI; ci++) {
        const s = ((ci * CH + kh) * CW + kw) * CO;
        const d = ((kh * KW + kw) * CI + ci) * CO;
        for (let co = 0; co < CO; co++) dst[d + co] = src[s + co];
      }
    }
  }
  free(backend, corr);
  return dW;
}

/**
 * `Conv2DBackpropInput` for the wasm backend: dx = col2im(dy · Wᵀ), the GEMM run as a 1×1
 * XNNPACK convolution. Inputs `dy`, `filter` are borrowed; the returned tensor of shape
 * `inputShape` is owned by the caller.
 */
export function conv2DBackpropInputWasm(args: WasmKernelArgs<tf.Conv2DBackpropInputAttrs>): tf.TensorInfo {
  const { backend } = args;
  const dy = kernelInput(tf.Conv2DBackpropInput, args.inputs, 'dy');
  const filter = kernelInput(tf.Conv2DBackpropInput, args.inputs, 'filter');
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs;
  const info = backpropConvInfo(
    'Conv2DBackpropInput',
    inputShape,
    filter.shape,
    dy,
    [filter],
    strides,
    pad,
    dataFormat,
    dimRoundingMode,
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW } = info;
  const { outChannels: CO, filterHeight: KH, filterWidth: KW } = info;
  const N = KH * KW * CI;

  // Wᵀ as a 1×1 filter [1, 1, CO, KH·KW·CI].
  const wT = alloc(backend, [1, 1, CO, N]);
  const dx = alloc(backend, [B, H, W, CI]);
  // The batch is processed in chunks whose patch matrix stays in cache for the col2im.
  const rowsPerImage = OH * OW;
  const chunk = Math.max(1, Math.min(B, Math.floor(colChunkFloats / (rowsPerImage * N))));
  const dyChunk = chunk < B ? alloc(backend, [1, 1, chunk * rowsPerImage, CO]) : undefined;
  try {
    transposeAPCtoCPA(heapF32(backend, filter), heapF32(backend, wT), N, 1, CO);
    heapF32(backend, dx).fill(0);
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const b1 = Math.min(B, b0 + chunk);
      const rows = (b1 - b0) * rowsPerImage;
      let gemmIn: tf.TensorInfo;
      if (dyChunk === undefined) {
        gemmIn = reshapeInfo(dy, [1, 1, rows, CO]);
      } else {
        const src = heapF32(backend, dy);
        heapF32(backend, dyChunk).set(src.subarray(b0 * rowsPerImage * CO, b1 * rowsPerImage * CO));
        gemmIn = { dataId: dyChunk.dataId, shape: [1, 1, rows, CO], dtype: 'float32' };
      }
      const cols = runWasmKernel(
        backend,
        'Conv2D',
        { x: gemmIn, filter: wT },
        {
          strides: [1, 1],
          pad: 'valid',
          dataFormat: 'NHWC',
          dilations: [1, 1],
        },
      );
      col2im(heapF32(backend, cols), heapF32(backend, dx), b0, b1, info);
      free(backend, cols);
    }
  } catch (e) {
    free(backend, dx);
    throw e;
  } finally {
    free(backend, wT);
    if (dyChunk !== undefined) free(backend, dyChunk);
  }
  return dx;
}

/** Target size (floats) of one chunk of the patch matrix in {@link conv2DBackpropInputWasm}. */
let colChunkFloats = 1 << 20;

/** Sets the chunk size (floats) of the input-gradient patch matrix (tuning/benchmarks only). */
export function setColChunkFloats(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setColChunkFloats: expected a positive integer, found ${n}`);
  colChunkFloats = n;
}

/**
 * col2im: adds the patch rows `cols` of images [b0, b1) (row r = ((b−b0)·OH + oh)·OW + ow,
 * column (kh·KW + kw)·CI + ci) into their input positions of `dx` [B, H, W, CI]. With `simd` and
 * both arrays on its heap (the same buffer), the adds run in wasm SIMD (`heap-simd.ts`), else in
 * JavaScript; the additions happen in the same order either way, so dx is bit-identical.
 */
export function col2im(
  cols: Float32Array,
  dx: Float32Array,
  b0: number,
  b1: number,
  info: tf.backend_util.Conv2DInfo,
  simd: HeapSimd | null = null,
): void {
  if (simd && cols.buffer === dx.buffer) {
    const colsAt = cols.byteOffset;
    const dxAt = dx.byteOffset;
    forEachCol2imRun(info, b0, b1, (t, s, n) => simd.add(dxAt + 4 * t, colsAt + 4 * s, n));
  } else {
    forEachCol2imRun(info, b0, b1, (t, s, n) => {
      for (let i = 0; i < n; i++) dx[t + i] += cols[s + i];
    });
  }
}

/**
 * col2im's traversal: for images [b0, b1), patch row by patch row and kernel row by kernel row,
 * `add(t, s, n)` stands for dx[t … t+n) += cols[s … s+n): KW·CI floats at once where the kernel row
 * lies inside the input (KW positions side by side in both arrays), else CI per position inside.
 */
function forEachCol2imRun(
  info: tf.backend_util.Conv2DInfo,
  b0: number,
  b1: number,
  add: (t: number, s: number, n: number) => void,
): void {
  const { inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const run = KW * CI;
  const N = KH * run;
  for (let b = b0; b < b1; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const row = (((b - b0) * OH + oh) * OW + ow) * N;
        const iw0 = ow * sw - pl;
        const inside = iw0 >= 0 && iw0 + KW <= W;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh - pt;
          if (ih < 0 || ih >= H) continue;
          const s = row + kh * run;
          const t = ((b * H + ih) * W + iw0) * CI;
          if (inside) {
            add(t, s, run);
            continue;
          }
          for (let kw = 0; kw < KW; kw++) {
            const iw = iw0 + kw;
            if (iw >= 0 && iw < W) add(t + kw * CI, s + kw * CI, CI);
          }
        }
      }
    }
  }
}

/** Kernel config of {@link conv2DBackpropFilterWasm}. */
export const conv2DBackpropFilterWasmConfig = wasmKernelConfig(tf.Conv2DBackpropFilter, conv2DBackpropFilterWasm);

/** Kernel config of {@link conv2DBackpropInputWasm}. */
export const conv2DBackpropInputWasmConfig = wasmKernelConfig(tf.Conv2DBackpropInput, conv2DBackpropInputWasm);
