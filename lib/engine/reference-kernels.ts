/**
 * The simplest correct `Conv2DBackpropFilter` for the wasm backend: a direct scalar loop in
 * JavaScript over the wasm heap. tfjs-backend-wasm 4.22 ships no such kernel, so this is the
 * "stock" baseline the fast kernels are benchmarked against (see `useStockWasmKernels`).
 *
 * Tensor ownership: inputs are borrowed; the returned tensor is owned by the caller (the engine).
 */
import * as tf from '@tensorflow/tfjs';
import { filterGradientArgs } from './conv2d-backprop';
import { alloc, heapF32 } from './wasm-util';
import { wasmKernelConfig, type WasmKernelArgs } from '../native/tfjs-wasm';

/** Naive `Conv2DBackpropFilter` (NHWC, float32): dW = Σ_{b,oh,ow} x-patch ⊗ dy. */
export function conv2DBackpropFilterReference(args: WasmKernelArgs<tf.Conv2DBackpropFilterAttrs>): tf.TensorInfo {
  const { backend } = args;
  const { x, dy, info } = filterGradientArgs(args);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW } = info;
  const { outChannels: CO, filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const dW = alloc(backend, [KH, KW, CI, CO]);
  const xs = heapF32(backend, x);
  const dys = heapF32(backend, dy);
  const out = heapF32(backend, dW);
  out.fill(0);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const g = ((b * OH + oh) * OW + ow) * CO;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh - pt;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw - pl;
            if (iw < 0 || iw >= W) continue;
            const xi = ((b * H + ih) * W + iw) * CI;
            for (let ci = 0; ci < CI; ci++) {
              const xv = xs[xi + ci];
              const o = ((kh * KW + kw) * CI + ci) * CO;
              for (let co = 0; co < CO; co++) out[o + co] += xv * dys[g + co];
            }
          }
        }
      }
    }
  }
  return dW;
}

/** Kernel config of {@link conv2DBackpropFilterReference}. */
export const conv2DBackpropFilterReferenceConfig = wasmKernelConfig(
  tf.Conv2DBackpropFilter,
  conv2DBackpropFilterReference,
);
