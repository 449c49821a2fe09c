/**
 * Small helpers for writing kernels for the tfjs wasm backend in TypeScript: typed access to the
 * backend's heap, calling its stock kernels, and cache-friendly copy loops.
 *
 * Everything here works on `TensorInfo`s owned by the backend (not engine-tracked `tf.Tensor`s):
 * whoever allocates one with {@link alloc} must free it with {@link free} (or return it from a
 * kernel, which hands it to the engine).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '../native/tfjs-wasm';
import type { HeapSimd } from '../native/heap-simd';

export type { BackendWasm };

/** Allocates an uninitialised float32 tensor on the wasm heap. Caller owns it (see {@link free}). */
export function alloc(backend: BackendWasm, shape: number[]): tf.TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

/** Frees a tensor allocated with {@link alloc} or returned by {@link runWasmKernel}. */
export function free(backend: BackendWasm, info: tf.TensorInfo): void {
  backend.disposeData(info.dataId);
}

/**
 * A Float32Array view of a tensor's wasm memory. The view is invalidated (detached) whenever the
 * wasm heap grows, i.e. by any allocation: take views only after the last allocation of a phase.
 */
export function heapF32(backend: BackendWasm, info: tf.TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`wasm kernel: expected a float32 tensor, found ${info.dtype}`);
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** A view of `info`'s data under another shape of the same size (no copy; do not free it). */
export function reshapeInfo(info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  if (tf.util.sizeFromShape(shape) !== tf.util.sizeFromShape(info.shape)) {
    throw new Error(`reshapeInfo: cannot view shape [${info.shape}] as [${shape}]`);
  }
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** The input `name` of a kernel invocation; throws a clear error when it is missing. */
export function kernelInput(kernelName: string, inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`${kernelName}: expected input '${name}', found none`);
  return t;
}

/**
 * Runs the kernel currently registered as `kernelName` for the wasm backend, bypassing the engine
 * (no tape, no tracking). The caller owns the returned tensor and must {@link free} it.
 */
export function runWasmKernel(
  backend: BackendWasm,
  kernelName: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const kernel = tf.getKernel(kernelName, 'wasm');
  if (kernel === undefined) throw new Error(`wasm kernel '${kernelName}' is not registered`);
  const out = kernel.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) throw new Error(`wasm kernel '${kernelName}' returned several outputs`);
  return out;
}

/**
 * `dst[c, p, a] = src[a, p, c]` for `src` of shape [A, P, C] (a 2-D transpose of A×C repeated for
 * each p).
 */
export function transposeAPCtoCPA(src: Float32Array, dst: Float32Array, A: number, P: number, C: number): void {
  // Blocks of 16 `a` make every write a full 64-byte cache line.
  const BLK = 16;
  const srcA = P * C;
  const dstC = P * A;
  for (let a0 = 0; a0 < A; a0 += BLK) {
    const a1 = Math.min(A, a0 + BLK);
    for (let p = 0; p < P; p++) {
      const sp = p * C;
      const dp = p * A;
      for (let c = 0; c < C; c++) {
        const d = c * dstC + dp;
        for (let a = a0; a < a1; a++) dst[d + a] = src[a * srcA + sp + c];
      }
    }
  }
}

/** `dst[p, a, c] = src[a, p, c]` for `src` of shape [A, P, C] (moves rows of C contiguous floats). */
export function transposeAPCtoPAC(src: Float32Array, dst: Float32Array, A: number, P: number, C: number): void {
  for (let a = 0; a < A; a++) {
    for (let p = 0; p < P; p++) {
      const s = (a * P + p) * C;
      const d = (p * A + a) * C;
      if (C >= 128) dst.set(src.subarray(s, s + C), d);
      else for (let c = 0; c < C; c++) dst[d + c] = src[s + c];
    }
  }
}

/**
 * A kernel function running the stock kernel `name` that `stockOf` returns (captured before
 * dknn-ts replaced it), running its `setupFunc` once per backend first: a replaced kernel's setup
 * never ran when the backend initialized after the replacement.
 */
export function stockKernel(name: string, stockOf: (name: string) => tf.KernelConfig | undefined): tf.KernelFunc {
  const ready = new WeakSet<object>();
  return (args) => {
    const config = stockOf(name);
    if (config === undefined)
      throw new Error(`${name}: the dknn-ts kernel does not support this call and no stock kernel is registered`);
    if (config.setupFunc !== undefined && !ready.has(args.backend)) {
      config.setupFunc(args.backend);
      ready.add(args.backend);
    }
    return config.kernelFunc(args);
  };
}

/**
 * Adds `bias` (one value per column) to rows of `n` values of `y` and applies `activation` in place;
 * with `simd` (both arrays on its heap, n a multiple of 4, linear or relu) in wasm SIMD, same values.
 */
export function biasActivation(
  y: Float32Array,
  n: number,
  bias: Float32Array | undefined,
  activation: string,
  alpha: number,
  simd?: HeapSimd | null,
): void {
  if (
    simd &&
    bias !== undefined &&
    bias.buffer === y.buffer &&
    n % 4 === 0 &&
    (activation === 'relu' || activation === 'linear')
  ) {
    simd.biasAct(y.byteOffset, bias.byteOffset, y.length / n, n, activation === 'relu' ? 1 : 0);
    return;
  }
  if (bias !== undefined) for (let i = 0; i < y.length; i += n) for (let c = 0; c < n; c++) y[i + c] += bias[c];
  if (activation === 'relu') for (let i = 0; i < y.length; i++) y[i] = y[i] < 0 ? 0 : y[i];
  else if (activation === 'relu6') for (let i = 0; i < y.length; i++) y[i] = Math.min(Math.max(y[i], 0), 6);
  else if (activation === 'leakyrelu') for (let i = 0; i < y.length; i++) y[i] = y[i] < 0 ? y[i] * alpha : y[i];
}

/** Fused activations {@link biasActivation} implements. */
export const FUSED_ACTIVATIONS: ReadonlySet<string> = new Set(['linear', 'relu', 'relu6', 'leakyrelu']);
