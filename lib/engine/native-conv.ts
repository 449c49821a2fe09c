/**
 * 2-D convolutions of the tfjs wasm backend on onnxruntime's native GEMM (MLAS, AVX2 FMA, one
 * thread) instead of XNNPACK's 128-bit wasm SIMD: the forward pass (`Conv2D`, `FusedConv2D`) and
 * both gradients, each as im2col / col2im (plain typed-array copies) around one GEMM per chunk of
 * images:
 *
 * - forward: y[B·OH·OW, CO] = cols[B·OH·OW, KH·KW·CI] · W[KH·KW·CI, CO] (NHWC output as is), then
 *   bias and activation on the chunk while it is in cache;
 * - input gradient: cols = dy[B·OH·OW, CO] · Wᵀ, then col2im (scatter-add into dx);
 * - filter gradient: dW[KH·KW·CI, CO] = Σ_chunks colsᵀ · dy.
 *
 * Supported: NHWC float32, dilation 1, any strides and padding; fused activations linear, relu,
 * relu6 and leakyrelu with a per-channel bias. Anything else (dilations, prelu, elu, sigmoid, an
 * other bias shape) runs the stock XNNPACK kernel. Inputs are borrowed; returned tensors are
 * owned by the caller; nothing stays allocated on the wasm heap but the result (the input gradient's
 * patch matrix is a heap scratch tensor, freed before returning, so that col2im's adds run in
 * wasm SIMD: `heap-simd.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { backpropConvInfo, col2im, filterGradientArgs } from './conv2d-backprop';
import { heapSimd, type HeapSimd } from '../native/heap-simd';
import { gemmSync } from '../native/gemm-sync';
import { alloc, biasActivation, free, FUSED_ACTIVATIONS, heapF32, kernelInput, stockKernel } from './wasm-util';
import { runKernelFunc, wasmKernelConfig, type WasmKernelArgs } from '../native/tfjs-wasm';

type Info = tf.backend_util.Conv2DInfo;

/**
 * Target size (floats) of one chunk of the patch matrix: 1 Mi values (4 MB) for the forward pass
 * and the input gradient; 4 Mi for the filter gradient, where fewer chunks mean fewer partial
 * sums to add (measured on the MNIST and GTSRB CNNs, `bench/kernels.ts`).
 */
let CHUNK_FLOATS = 1 << 20;
let FILTER_CHUNK_FLOATS = 1 << 22;

/** Sets the chunk sizes (floats) of the patch matrices (tests and tuning only); returns the previous ones. */
export function setNativeChunkFloats(sizes: { forward: number; filter: number }): { forward: number; filter: number } {
  for (const [name, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`setNativeChunkFloats: expected a positive integer ${name}, found ${v}`);
  }
  const previous = { forward: CHUNK_FLOATS, filter: FILTER_CHUNK_FLOATS };
  CHUNK_FLOATS = sizes.forward;
  FILTER_CHUNK_FLOATS = sizes.filter;
  return previous;
}

/**
 * Below this many input channels the forward pass stays on XNNPACK: with a patch row of a few
 * floats per filter row the im2col copy and a GEMM with a short reduction cost more than
 * XNNPACK's indirect convolution (MNIST's first layer, CI = 1: 55 vs 67 ms per 250 images; GTSRB's,
 * CI = 3: 110 vs 143 ms).
 */
const MIN_NATIVE_FORWARD_CHANNELS = 8;

let scratch = new Float32Array(0);
let scratch2 = new Float32Array(0);

/** A reusable JS buffer of at least `n` floats (the patch matrix of one chunk). */
function cols(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch;
}

/** Images per chunk so that one chunk's patch matrix holds about `target` values. */
function imagesPerChunk(info: Info, target = CHUNK_FLOATS): number {
  const perImage = info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels;
  return Math.max(1, Math.min(info.batchSize, Math.floor(target / Math.max(1, perImage))));
}

/**
 * im2col for images [b0, b1) of `x` [B, H, W, CI]: row ((b−b0)·OH + oh)·OW + ow of `out`, column
 * (kh·KW + kw)·CI + ci holds x[b, oh·sh + kh − pt, ow·sw + kw − pl, ci], 0 in the padding.
 */
export function im2col(x: Float32Array, out: Float32Array, b0: number, b1: number, info: Info): void {
  const { inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const run = KW * CI;
  const K = KH * run;
  let d = 0;
  for (let b = b0; b < b1; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * sw - pl;
        const inside = iw0 >= 0 && iw0 + KW <= W;
        for (let kh = 0; kh < KH; kh++, d += run) {
          const ih = oh * sh + kh - pt;
          if (ih < 0 || ih >= H) {
            out.fill(0, d, d + run);
            continue;
          }
          const rowStart = (b * H + ih) * W * CI;
          if (inside) {
            const s = rowStart + iw0 * CI;
            if (run >= 64) out.set(x.subarray(s, s + run), d);
            else for (let i = 0; i < run; i++) out[d + i] = x[s + i];
            continue;
          }
          for (let kw = 0; kw < KW; kw++) {
            const iw = iw0 + kw;
            const t = d + kw * CI;
            if (iw < 0 || iw >= W) out.fill(0, t, t + CI);
            else for (let c = 0, s = rowStart + iw * CI; c < CI; c++) out[t + c] = x[s + c];
          }
        }
      }
    }
  }
  if (d !== (b1 - b0) * OH * OW * K) throw new Error(`im2col: wrote ${d} values, expected ${(b1 - b0) * OH * OW * K}`);
}

/** The forward geometry when the native kernel supports this call, else undefined. */
function forwardInfo(args: WasmKernelArgs<tf.FusedConv2DAttrs>, fused: boolean): Info | undefined {
  const { inputs, attrs: a } = args;
  const x = kernelInput(fused ? tf.FusedConv2D : tf.Conv2D, inputs, 'x');
  const filter = kernelInput(fused ? tf.FusedConv2D : tf.Conv2D, inputs, 'filter');
  const dil = typeof a.dilations === 'number' ? [a.dilations, a.dilations] : (a.dilations ?? [1, 1]);
  if (a.dataFormat !== 'NHWC' || dil[0] !== 1 || dil[1] !== 1) return undefined;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4 || filter.shape.length !== 4)
    return undefined;
  if (x.shape[3] < MIN_NATIVE_FORWARD_CHANNELS) return undefined;
  if (fused) {
    if (!FUSED_ACTIVATIONS.has(a.activation ?? 'linear') || inputs.preluActivationWeights !== undefined)
      return undefined;
    const bias = inputs.bias;
    if (bias !== undefined && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== filter.shape[3]))
      return undefined;
  }
  if (x.shape[3] !== filter.shape[2]) {
    throw new Error(
      `${fused ? tf.FusedConv2D : tf.Conv2D}: expected input channels ${filter.shape[2]} (filter [${filter.shape}]), found ${x.shape[3]}`,
    );
  }
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** `Conv2D` / `FusedConv2D` on the native GEMM; `stock` runs the calls it does not support. */
function convForward(args: WasmKernelArgs<tf.FusedConv2DAttrs>, fused: boolean, stock: tf.KernelFunc): tf.TensorInfo {
  const info = forwardInfo(args, fused);
  if (info === undefined) return runKernelFunc(stock, args);
  const { backend, inputs, attrs: a } = args;
  const activation = fused ? (a.activation ?? 'linear') : 'linear';
  const out = alloc(backend, info.outShape);
  const bias = fused && inputs.bias !== undefined ? heapF32(backend, inputs.bias) : undefined;
  gemmConv(
    heapF32(backend, inputs.x!),
    heapF32(backend, inputs.filter!),
    heapF32(backend, out),
    info,
    bias,
    activation,
    a.leakyreluAlpha ?? 0.2,
    heapSimd(backend),
  );
  return out;
}

/** y = act(conv(x, w) + bias) for the geometry `info`: im2col and one GEMM per chunk of images. */
function gemmConv(
  x: Float32Array,
  w: Float32Array,
  y: Float32Array,
  info: Info,
  bias: Float32Array | undefined,
  activation: string,
  alpha: number,
  simd: HeapSimd | null = null,
): void {
  const { batchSize: B, outHeight: OH, outWidth: OW, outChannels: CO } = info;
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const chunk = imagesPerChunk(info);
  const buf = cols(chunk * OH * OW * K);
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const b1 = Math.min(B, b0 + chunk);
    const rows = (b1 - b0) * OH * OW;
    im2col(x, buf, b0, b1, info);
    const yChunk = y.subarray(b0 * OH * OW * CO, b1 * OH * OW * CO);
    gemmSync('nn', buf, w, yChunk, rows, K, CO);
    biasActivation(yChunk, CO, bias, activation, alpha, simd);
  }
}

/**
 * The geometry of the input gradient of a stride-1 convolution written as a forward one (dy
 * convolved with the filter rotated by 180° and its channels swapped, padded by KH − 1 − top
 * above and what makes the output H tall below), or undefined when the forward convolution
 * leaves input rows or columns unread (negative padding) or shrinks the image.
 */
function transposedInfo(info: Info): Info | undefined {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = info;
  const { filterHeight: KH, filterWidth: KW } = info;
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return undefined;
  // The gather does H·W/(OH·OW) times the col2im path's multiply-adds: only worth it when the
  // convolution keeps the size (SAME); a VALID 5×5 on 5×5 inputs would do 25× the work.
  if (H * W > OH * OW) return undefined;
  const top = KH - 1 - info.padInfo.top;
  const left = KW - 1 - info.padInfo.left;
  const bottom = H - OH - top + KH - 1;
  const right = W - OW - left + KW - 1;
  if (Math.min(top, left, bottom, right) < 0) return undefined;
  return tf.backend_util.computeConv2DInfo(
    [B, OH, OW, CO],
    [KH, KW, CO, CI],
    1,
    1,
    [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    undefined,
    false,
    'channelsLast',
  );
}

let flipped = new Float32Array(0);

/** The filter [KH, KW, CI, CO] rotated by 180° with its channels swapped: [KH, KW, CO, CI]. */
function flipFilter(w: Float32Array, info: Info): Float32Array {
  const { filterHeight: KH, filterWidth: KW, inChannels: CI, outChannels: CO } = info;
  if (flipped.length < w.length) flipped = new Float32Array(w.length);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const s = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * CI * CO;
      const d = (kh * KW + kw) * CO * CI;
      for (let ci = 0; ci < CI; ci++) for (let co = 0; co < CO; co++) flipped[d + co * CI + ci] = w[s + ci * CO + co];
    }
  }
  return flipped;
}

/** `Conv2DBackpropInput` on the native GEMM: dx = col2im(dy · Wᵀ), or for stride 1 a convolution of dy. */
export function conv2DBackpropInputNative(args: WasmKernelArgs<tf.Conv2DBackpropInputAttrs>): tf.TensorInfo {
  const { backend } = args;
  const dyInfo = kernelInput(tf.Conv2DBackpropInput, args.inputs, 'dy');
  const filterInfo = kernelInput(tf.Conv2DBackpropInput, args.inputs, 'filter');
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs;
  const info = backpropConvInfo(
    'Conv2DBackpropInput',
    inputShape,
    filterInfo.shape,
    dyInfo,
    [filterInfo],
    strides,
    pad,
    dataFormat,
    dimRoundingMode,
  );
  const { batchSize: B, outHeight: OH, outWidth: OW, outChannels: CO } = info;
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const dxInfo = alloc(backend, [B, info.inHeight, info.inWidth, info.inChannels]);
  const transposed = transposedInfo(info);
  const chunk = imagesPerChunk(info);
  const simd = transposed === undefined ? heapSimd(backend) : null;
  // With the SIMD adds, the patch matrix lives on the wasm heap (allocated before any view is taken).
  const colsInfo = simd ? alloc(backend, [chunk * OH * OW * K]) : undefined;
  try {
    const dy = heapF32(backend, dyInfo);
    const w = heapF32(backend, filterInfo);
    const dx = heapF32(backend, dxInfo);
    if (transposed !== undefined) {
      // Stride 1: a gather (im2col of dy, contiguous copies) instead of col2im's scattered adds.
      gemmConv(dy, flipFilter(w, info), dx, transposed, undefined, 'linear', 0);
      return dxInfo;
    }
    dx.fill(0);
    const buf = colsInfo ? heapF32(backend, colsInfo) : cols(chunk * OH * OW * K);
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const b1 = Math.min(B, b0 + chunk);
      const rows = (b1 - b0) * OH * OW;
      gemmSync('nt', dy.subarray(b0 * OH * OW * CO, b1 * OH * OW * CO), w, buf, rows, CO, K);
      col2im(buf, dx, b0, b1, info, simd);
    }
    return dxInfo;
  } finally {
    if (colsInfo) free(backend, colsInfo);
  }
}

/** `Conv2DBackpropFilter` on the native GEMM: dW[KH·KW·CI, CO] = Σ_chunks colsᵀ · dy. */
export function conv2DBackpropFilterNative(args: WasmKernelArgs<tf.Conv2DBackpropFilterAttrs>): tf.TensorInfo {
  const { backend } = args;
  const { x: xInfo, dy: dyInfo, info } = filterGradientArgs(args);
  const { batchSize: B, outHeight: OH, outWidth: OW, outChannels: CO } = info;
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const dwInfo = alloc(backend, [info.filterHeight, info.filterWidth, info.inChannels, CO]);
  const x = heapF32(backend, xInfo);
  const dy = heapF32(backend, dyInfo);
  const dw = heapF32(backend, dwInfo);
  const chunk = imagesPerChunk(info, FILTER_CHUNK_FLOATS);
  const buf = cols(chunk * OH * OW * K);
  if (chunk < B && scratch2.length < K * CO) scratch2 = new Float32Array(K * CO);
  try {
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const b1 = Math.min(B, b0 + chunk);
      const rows = (b1 - b0) * OH * OW;
      im2col(x, buf, b0, b1, info);
      const part = b0 === 0 ? dw : scratch2;
      gemmSync('tn', buf, dy.subarray(b0 * OH * OW * CO, b1 * OH * OW * CO), part, K, rows, CO);
      if (b0 > 0) for (let i = 0; i < K * CO; i++) dw[i] += part[i];
    }
    if (B === 0) dw.fill(0);
  } catch (e) {
    free(backend, dwInfo);
    throw e;
  }
  return dwInfo;
}

/**
 * The four native kernel configs for wasm. `stockOf(name)` gives the kernel a forward call falls
 * back to (dilations, other activations); its `setupFunc` is run once per backend before use,
 * since the stock kernel may never have been registered when the backend initialized.
 */
export function nativeConvKernelConfigs(stockOf: (name: string) => tf.KernelConfig | undefined): tf.KernelConfig[] {
  const forward = (name: string, fused: boolean): tf.KernelConfig => {
    const stock = stockKernel(name, stockOf);
    return wasmKernelConfig<tf.FusedConv2DAttrs>(name, (args) => convForward(args, fused, stock));
  };
  return [
    forward(tf.Conv2D, false),
    forward(tf.FusedConv2D, true),
    wasmKernelConfig(tf.Conv2DBackpropInput, conv2DBackpropInputNative),
    wasmKernelConfig(tf.Conv2DBackpropFilter, conv2DBackpropFilterNative),
  ];
}
