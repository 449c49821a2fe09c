/**
 * The wasm backend's kernels dknn-ts replaces, and the switch between them (global to the
 * process; worker threads are given their parent's mode):
 * - `'native'` (default where onnxruntime-node's binding loads): convolutions, both their
 *   gradients and matrix products on onnxruntime's MLAS GEMM (./native-conv, ./native-matmul),
 *   ~2.3× XNNPACK's training throughput on the MNIST CNN; float32 results differ from XNNPACK's
 *   in the last bits, so cache keys name the mode ({@link engineKey});
 * - `'fast'`: XNNPACK convolutions with the XNNPACK-based gradient kernels of ./conv2d-backprop
 *   (the package has no `Conv2DBackpropFilter` and a scalar `Conv2DBackpropInput`);
 * - `'stock'`: the package's kernels plus a reference filter-gradient loop (benchmark baseline).
 * Importing this module imports `@tensorflow/tfjs-backend-wasm` (which registers the `wasm`
 * backend and its stock kernels); it does not change the active backend.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { conv2DBackpropFilterWasmConfig, conv2DBackpropInputWasmConfig } from './conv2d-backprop';
import { nativeConvKernelConfigs } from './native-conv';
import { nativeMatmulKernelConfigs } from './native-matmul';
import { nativeGemmStatus } from '../native/gemm-sync';
import { conv2DBackpropFilterReferenceConfig } from './reference-kernels';

/** Names of the XNNPACK-based gradient kernels of mode `'fast'`. */
export const FAST_WASM_KERNELS: readonly string[] = [tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput];

/**
 * Names of the kernels of mode `'native'`: convolutions (forward, both gradients) and matrix
 * products on onnxruntime's GEMM, and a plain-loop max-pool gradient.
 */
export const NATIVE_WASM_KERNELS: readonly string[] = [
  tf.Conv2D,
  tf.FusedConv2D,
  tf.Conv2DBackpropInput,
  tf.Conv2DBackpropFilter,
  tf.BatchMatMul,
  tf._FusedMatMul,
  tf.MaxPoolGrad,
];

/**
 * Which conv kernels this module installed for wasm: none yet (the package's own kernels, i.e.
 * no `Conv2DBackpropFilter`), the stock baseline, the fast XNNPACK-based gradients (`'fast'`), or
 * every convolution on onnxruntime's native GEMM (`'native'`).
 */
export type WasmKernelMode = 'package' | 'stock' | 'fast' | 'native';

/** The kernels of a mode a process can switch to. */
export type SettableWasmKernelMode = Exclude<WasmKernelMode, 'package'>;

/** Which convolutions {@link registerFastWasmKernels} installs: native when it loads (`'auto'`), or one of the two. */
export type ConvKernelChoice = 'auto' | 'native' | 'xnnpack';

/** The kernels the wasm package registered before we replaced them, captured once. */
let stock: Map<string, tf.KernelConfig | undefined> | undefined;
let mode: WasmKernelMode = 'package';

function captureStock(): Map<string, tf.KernelConfig | undefined> {
  if (stock === undefined) {
    stock = new Map(NATIVE_WASM_KERNELS.map((name) => [name, tf.getKernel(name, 'wasm')]));
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
 * Installs the conv kernels for the wasm backend (replacing the stock ones): with `'auto'`
 * (default; the environment variable `DKNN_CONV` overrides it) every convolution on onnxruntime's
 * native GEMM when it loads, else the fast XNNPACK-based gradients; `'native'` throws with the
 * reason when it cannot load. Idempotent; works before or after the wasm backend is initialized.
 * Returns the names of the kernels installed.
 */
export function registerFastWasmKernels(choice: ConvKernelChoice = convChoiceFromEnv()): string[] {
  if (choice !== 'xnnpack') {
    const status = nativeGemmStatus();
    if (status.ok) {
      setWasmKernelMode('native');
      return [...NATIVE_WASM_KERNELS];
    }
    if (choice === 'native')
      throw new Error(`native convolutions need onnxruntime-node's binding, which failed: ${status.reason}`);
  }
  setWasmKernelMode('fast');
  return [...FAST_WASM_KERNELS];
}

/** `DKNN_CONV` as a {@link ConvKernelChoice} ('auto' when unset or empty); throws on other values. */
export function convChoiceFromEnv(value = process.env.DKNN_CONV ?? ''): ConvKernelChoice {
  const v = value.trim().toLowerCase();
  if (v === '') return 'auto';
  if (v === 'auto' || v === 'native' || v === 'xnnpack') return v;
  throw new Error(`DKNN_CONV: expected auto, native or xnnpack, found '${value}'`);
}

/**
 * Switches the wasm conv gradient kernels between the stock ones (`stock = true`: the package's
 * scalar `Conv2DBackpropInput` and, as the package has no `Conv2DBackpropFilter`, the naive
 * reference loop of `./reference`) and the fast XNNPACK-based ones (`stock = false`). Meant for
 * benchmarks and tests; the switch is global to the process.
 */
export function useStockWasmKernels(useStock: boolean): void {
  setWasmKernelMode(useStock ? 'stock' : 'fast');
}

/**
 * Installs the kernels of `mode` (see {@link WasmKernelMode}); `'package'` (a worker told its
 * parent's mode before any was set) counts as `'fast'`. Global to the process (workers are given
 * their parent's mode).
 */
export function setWasmKernelMode(wanted: WasmKernelMode): void {
  const saved = captureStock();
  const restore = (name: string): void => {
    const config = saved.get(name);
    if (config !== undefined) install(config);
    else if (tf.getKernel(name, 'wasm') !== undefined) tf.unregisterKernel(name, 'wasm');
  };
  for (const name of [tf.Conv2D, tf.FusedConv2D, tf.BatchMatMul, tf._FusedMatMul, tf.MaxPoolGrad]) restore(name);
  if (wanted === 'stock') {
    restore(tf.Conv2DBackpropInput);
    install(saved.get(tf.Conv2DBackpropFilter) ?? conv2DBackpropFilterReferenceConfig);
    mode = 'stock';
  } else if (wanted === 'native') {
    const status = nativeGemmStatus();
    if (!status.ok)
      throw new Error(`native convolutions need onnxruntime-node's binding, which failed: ${status.reason}`);
    const stockOf = (name: string) => saved.get(name);
    for (const config of [...nativeConvKernelConfigs(stockOf), ...nativeMatmulKernelConfigs(stockOf)]) install(config);
    mode = 'native';
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

/**
 * The engine as cache keys should name it: the backend, plus `+native-conv` when wasm runs its
 * convolutions on onnxruntime (their float32 rounding differs from XNNPACK's, so activations,
 * adversarial images and checkpoints made with one are not reused by the other). XNNPACK keeps
 * the plain backend name, so keys made before the native kernels existed stay valid.
 */
export function engineKey(): string {
  const backend = tf.getBackend();
  return backend === 'wasm' && mode === 'native' ? 'wasm+native-conv' : backend;
}
