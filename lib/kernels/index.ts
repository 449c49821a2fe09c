/**
 * Registration of the fast wasm gradient kernels, and a switch back to the stock kernels for
 * benchmarking. Importing this module imports `@tensorflow/tfjs-backend-wasm` (which registers
 * the `wasm` backend and its stock kernels); it does not change the active backend.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { conv2DBackpropFilterWasmConfig, conv2DBackpropInputWasmConfig } from './conv2d-backprop';
import { conv2DBackpropFilterReferenceConfig } from './reference';

export { backpropConvInfo, conv2DBackpropFilterWasm, conv2DBackpropInputWasm, setColChunkFloats } from './conv2d-backprop';
export { conv2DBackpropFilterReference } from './reference';

/** Names of the kernels {@link registerFastWasmKernels} installs for the wasm backend. */
export const FAST_WASM_KERNELS: readonly string[] = [tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput];

/**
 * Which conv gradient kernels this module installed for wasm: none yet (the package's own
 * kernels, i.e. no `Conv2DBackpropFilter`), the stock baseline, or the fast kernels.
 */
export type WasmKernelMode = 'package' | 'stock' | 'fast';

/** The kernels the wasm package registered before we replaced them, captured once. */
let stock: Map<string, tf.KernelConfig | undefined> | undefined;
let mode: WasmKernelMode = 'package';

function captureStock(): Map<string, tf.KernelConfig | undefined> {
  if (stock === undefined) {
    stock = new Map(FAST_WASM_KERNELS.map((name) => [name, tf.getKernel(name, 'wasm')]));
  }
  return stock;
}

/** Replaces whatever is registered as `config.kernelName` for wasm with `config`. */
function install(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName) !== undefined) {
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel(config);
  // A kernel's setupFunc runs when its backend initialises; run it now if that already happened.
  const backend = tf.findBackend(config.backendName);
  if (backend !== null && config.setupFunc !== undefined) config.setupFunc(backend);
}

/**
 * Registers the fast `Conv2DBackpropFilter` / `Conv2DBackpropInput` kernels for the wasm backend
 * (replacing the stock ones). Idempotent; works before or after the wasm backend is initialised.
 * Returns the names of the kernels installed.
 */
export function registerFastWasmKernels(): string[] {
  useStockWasmKernels(false);
  return [...FAST_WASM_KERNELS];
}

/**
 * Switches the wasm conv gradient kernels between the stock ones (`stock = true`: the package's
 * scalar `Conv2DBackpropInput` and, as the package has no `Conv2DBackpropFilter`, the naive
 * reference loop of `./reference`) and the fast ones (`stock = false`). Meant for benchmarks and
 * tests; the switch is global to the process.
 */
export function useStockWasmKernels(useStock: boolean): void {
  const saved = captureStock();
  if (useStock) {
    const input = saved.get(tf.Conv2DBackpropInput);
    if (input !== undefined) install(input);
    else if (tf.getKernel(tf.Conv2DBackpropInput, 'wasm') !== undefined) tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
    install(saved.get(tf.Conv2DBackpropFilter) ?? conv2DBackpropFilterReferenceConfig);
    mode = 'stock';
  } else {
    install(conv2DBackpropFilterWasmConfig);
    install(conv2DBackpropInputWasmConfig);
    mode = 'fast';
  }
}

/** The conv gradient kernels currently installed for wasm by this module. */
export function wasmKernelMode(): WasmKernelMode {
  return mode;
}
