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
