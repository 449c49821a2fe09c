/**
 * The one adapter to the tfjs wasm backend's internals: its type, the rows of a tensor read
 * straight from its heap, and its `WebAssembly.Memory` (not part of the package's API: reached
 * through `backend.wasm.asm.memory`, checked on every use, so a changed package gives null and
 * callers fall back to JavaScript).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { WasmMemory } from './wasm-kernel';

export type { BackendWasm };

/** The active backend when it is wasm, else null. */
export function activeWasmBackend(): BackendWasm | null {
  return tf.getBackend() === 'wasm' ? (tf.backend() as BackendWasm) : null;
}

/** The backend's heap memory, or null where the package no longer exposes it. */
export function wasmBackendMemory(backend: BackendWasm): WasmMemory | null {
  const internals = backend as unknown as { wasm?: { asm?: { memory?: WasmMemory } } };
  return internals.wasm?.asm?.memory ?? null;
}

/** What a wasm kernel of ours receives: its inputs, the wasm backend and its attributes, typed. */
export interface WasmKernelArgs<A = tf.NamedAttrMap> {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: A;
}

/**
 * The kernel config of `kernelFunc` for the wasm backend. tfjs types a kernel's backend and
 * attributes loosely (`KernelBackend`, `NamedAttrMap`); this is the one place they are cast to the
 * wasm backend and the kernel's own attribute type.
 */
export function wasmKernelConfig<A>(
  kernelName: string,
  kernelFunc: (args: WasmKernelArgs<A>) => tf.TensorInfo,
): tf.KernelConfig {
  return { kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

/** Runs a tfjs kernel function (e.g. the stock one a kernel of ours falls back to) on our arguments. */
export function runKernelFunc(kernelFunc: tf.KernelFunc, args: WasmKernelArgs<unknown>): tf.TensorInfo {
  return kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}
