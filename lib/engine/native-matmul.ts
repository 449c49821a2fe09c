/**
 * Matrix products of the tfjs wasm backend on onnxruntime's native GEMM (`BatchMatMul`,
 * `_FusedMatMul`: dense layers and their gradients) and a plain-loop `MaxPoolGrad`: the stock
 * wasm kernels of these run at ~0.5 GMAC/s and dominated training a network with a 2,048 × 256
 * dense layer (bench/kernels.ts).
 *
 * Supported natively: float32; no transposition, A or B transposed (not both); batch dimensions
 * equal or one of them 1; `_FusedMatMul` with linear, relu, relu6 or leakyrelu and a bias of one
 * value per output column. Other calls run the stock kernel. Inputs are borrowed; the returned
 * tensor is owned by the caller.
 */
import * as tf from '@tensorflow/tfjs';
import { heapSimd } from '../native/heap-simd';
import { gemmSync, type GemmVariant } from '../native/gemm-sync';
import { alloc, biasActivation, FUSED_ACTIVATIONS, heapF32, kernelInput, stockKernel } from './wasm-util';
import { runKernelFunc, wasmKernelConfig, type WasmKernelArgs } from '../native/tfjs-wasm';

function matmul(args: WasmKernelArgs<tf._FusedMatMulAttrs>, fused: boolean, stock: tf.KernelFunc): tf.TensorInfo {
  const name = fused ? tf._FusedMatMul : tf.BatchMatMul;
  const a = kernelInput(name, args.inputs, 'a');
  const b = kernelInput(name, args.inputs, 'b');
  const attrs = args.attrs;
  const { transposeA, transposeB } = attrs;
  const activation = fused ? (attrs.activation ?? 'linear') : 'linear';
  const bias = fused ? args.inputs.bias : undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const supported =
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    ra >= 2 &&
    rb >= 2 &&
    k === kb &&
    !(transposeA && transposeB) &&
    (batchA === batchB || batchA === 1 || batchB === 1) &&
    FUSED_ACTIVATIONS.has(activation) &&
    (!fused || args.inputs.preluActivationWeights === undefined) &&
    (bias === undefined || (bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === n));
  if (!supported) return runKernelFunc(stock, args);
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = alloc(args.backend, [...outer, m, n]);
  const av = heapF32(args.backend, a);
  const bv = heapF32(args.backend, b);
  const yv = heapF32(args.backend, out);
  const biasv = bias !== undefined ? heapF32(args.backend, bias) : undefined;
  const variant: GemmVariant = transposeA ? 'tn' : transposeB ? 'nt' : 'nn';
  const batch = Math.max(batchA, batchB);
  for (let i = 0; i < batch; i++) {
    const ai = batchA === 1 ? 0 : i;
    const bi = batchB === 1 ? 0 : i;
    const y = yv.subarray(i * m * n, (i + 1) * m * n);
    gemmSync(variant, av.subarray(ai * m * k, (ai + 1) * m * k), bv.subarray(bi * k * n, (bi + 1) * k * n), y, m, k, n);
  }
  if (fused) biasActivation(yv, n, biasv, activation, attrs.leakyreluAlpha ?? 0.2, heapSimd(args.backend));
  return out;
}

/**
 * `MaxPoolGrad` (NHWC, dilation 1): each output's gradient goes to the first maximal input of its
 * window in row-major order (the cpu backend's rule), summed where windows overlap.
 */
export function maxPoolGradJs(args: WasmKernelArgs<tf.MaxPoolGradAttrs>): tf.TensorInfo {
  const dyInfo = kernelInput(tf.MaxPoolGrad, args.inputs, 'dy');
  const xInfo = kernelInput(tf.MaxPoolGrad, args.inputs, 'input');
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs;
  if (xInfo.dtype !== 'float32' || dyInfo.dtype !== 'float32')
    throw new Error(
      `MaxPoolGrad (dknn-ts wasm kernel): expected float32 tensors, found ${xInfo.dtype}, ${dyInfo.dtype}`,
    );
  const info = tf.backend_util.computePool2DInfo(
    xInfo.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const {
    batchSize: B,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  const { effectiveFilterHeight: FH, effectiveFilterWidth: FW } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const dxInfo = alloc(args.backend, xInfo.shape);
  const x = heapF32(args.backend, xInfo);
  const dy = heapF32(args.backend, dyInfo);
  const dx = heapF32(args.backend, dxInfo);
  dx.fill(0);
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(0, oh * sh - pt);
      const h1 = Math.min(H, oh * sh - pt + FH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = Math.max(0, ow * sw - pl);
        const w1 = Math.min(W, ow * sw - pl + FW);
        best.fill(-Infinity);
        at.fill(-1);
        // Channels innermost (contiguous in NHWC); positions in row-major order, so a strict
        // comparison keeps the first maximum.
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            const base = ((b * H + h) * W + w) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        const o = ((b * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) if (at[c] >= 0) dx[at[c]] += dy[o + c];
      }
    }
  }
  return dxInfo;
}

/** Kernel configs of this module for wasm; `stockOf(name)` gives the fallback (set up once per backend). */
export function nativeMatmulKernelConfigs(stockOf: (name: string) => tf.KernelConfig | undefined): tf.KernelConfig[] {
  const withStock = (name: string, fused: boolean): tf.KernelConfig => {
    const stock = stockKernel(name, stockOf);
    return wasmKernelConfig<tf._FusedMatMulAttrs>(name, (args) => matmul(args, fused, stock));
  };
  return [
    withStock(tf.BatchMatMul, false),
    withStock(tf._FusedMatMul, true),
    wasmKernelConfig(tf.MaxPoolGrad, maxPoolGradJs),
  ];
}
