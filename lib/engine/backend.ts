/**
 * Backend selection for dknn-ts: native TensorFlow (tfjs-node) when installed, else WebAssembly
 * (XNNPACK) with fast conv gradient kernels, else the pure-JS cpu backend.
 *
 * The native binding is an optional dependency installed under the npm alias `tfjs-node-native`
 * (`"tfjs-node-native": "npm:@tensorflow/tfjs-node@4.22.0"`), so that a missing prebuilt binary
 * never breaks `npm install`. Library code never prints: the outcome of every attempt is returned
 * in a {@link BackendInfo}.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { convChoiceFromEnv, registerFastWasmKernels, type ConvKernelChoice } from './kernels';
import { nativeGemmStatus } from '../native/gemm-sync';

/** The backends dknn-ts knows how to start. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** All backend names, in the default order of preference. */
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** One try at starting a backend. */
export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it failed (absent when `ok`). */
  error?: string;
}

/** What {@link initBackend} chose and why. */
export interface BackendInfo {
  /** The active backend. */
  name: BackendName;
  /** Every backend tried, in order, up to and including the chosen one. */
  attempts: BackendAttempt[];
  /** Kernels dknn-ts registered for the chosen backend (e.g. the fast wasm conv gradients). */
  customKernels: string[];
  /**
   * wasm only: where convolutions run — `'native'` (onnxruntime's MLAS GEMM, one thread; float32
   * results differ from XNNPACK's in the last bits) or `'xnnpack'`.
   */
  convolutions?: 'native' | 'xnnpack';
  /** wasm only: why native convolutions are not used when they were wanted ('auto') but failed to load. */
  convolutionsFallback?: string;
  /** One human sentence describing the backend, e.g. for logs and reports. */
  description: string;
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Backends to try, in order. Default `['tensorflow', 'wasm', 'cpu']`. */
  prefer?: BackendName[];
  /**
   * Override of `prefer`: one backend name or a comma-separated list (e.g. `'cpu'`,
   * `'wasm,cpu'`). Defaults to the `DKNN_BACKEND` environment variable; empty means no override.
   */
  env?: string;
  /**
   * wasm only: `'auto'` (default) runs convolutions and their gradients on onnxruntime's native
   * GEMM when it loads, else on XNNPACK (saying why in `convolutionsFallback`); `'native'` fails
   * when it does not load; `'xnnpack'` keeps XNNPACK (the kernels of results made before
   * 2026-11-30). Defaults to the `DKNN_CONV` environment variable, then `'auto'`.
   */
  convolutions?: ConvKernelChoice;
}

// tfjs-backend-wasm registers 'wasm' above 'cpu', so tfjs picks it on its first use. Used before
// initBackend() (a model built first), it throws "backend 'wasm' has not yet been initialized".
// Registered again below 'cpu', a first use runs on cpu, and initBackend() moves on to wasm (the
// tensors made before move with it).
// The cpu backend's "install tfjs-node" banner is not for dknn-ts users (initBackend says which
// backend runs and why), so cpu is registered again without it.
const wasmFactory = tf.findBackendFactory('wasm');
const cpuFactory = tf.findBackendFactory('cpu');
if (wasmFactory !== null && cpuFactory !== null && !tf.engine().backendName) {
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', wasmFactory, 0);
  tf.removeBackend('cpu');
  tf.registerBackend(
    'cpu',
    () => {
      const b = cpuFactory();
      return b instanceof Promise ? b : Object.assign(b, { firstUse: false });
    },
    1,
  );
}

/** Module name of the optional native binding (an npm alias of `@tensorflow/tfjs-node`). */
export const NATIVE_MODULE = 'tfjs-node-native';

let pending: Promise<BackendInfo> | undefined;
let chosen: BackendInfo | undefined;

/**
 * The order in which {@link initBackend} tries backends for these options: the override
 * (`options.env`, else `$DKNN_BACKEND`) when non-empty, else `options.prefer`, else the default.
 * Throws on an unknown backend name or an empty list.
 */
export function backendOrder(options: InitBackendOptions = {}): BackendName[] {
  const override = (options.env ?? process.env.DKNN_BACKEND ?? '').trim();
  const names =
    override !== '' ? override.split(',').map((s) => s.trim().toLowerCase()) : (options.prefer ?? [...BACKEND_NAMES]);
  const source = override !== '' ? `DKNN_BACKEND='${override}'` : 'prefer';
  if (names.length === 0) throw new Error(`initBackend: ${source} names no backend`);
  for (const n of names) {
    if (!(BACKEND_NAMES as readonly string[]).includes(n)) {
      throw new Error(`initBackend: ${source}: expected one of ${BACKEND_NAMES.join(', ')}, found '${n}'`);
    }
  }
  return names as BackendName[];
}

function message(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0] ?? text;
}

/** Loads the native binding, which registers the `tensorflow` backend with tfjs-core. */
function loadNative(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional dependency, loaded only when asked for
  require(NATIVE_MODULE);
  if (tf.findBackendFactory('tensorflow') === null) {
    throw new Error(
      `${NATIVE_MODULE} loaded but did not register the 'tensorflow' backend with this copy of ` +
        '@tensorflow/tfjs-core (version mismatch?)',
    );
  }
}

/** Makes `name` the active backend; throws when it cannot start. */
async function start(name: BackendName): Promise<void> {
  if (name === 'tensorflow') loadNative();
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new Error(`tf.setBackend('${name}') threw: ${message(e)}`, { cause: e });
  }
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend('${name}') failed (backend did not initialize)`);
}

async function describe(name: BackendName, customKernels: string[], fallback?: string): Promise<string> {
  switch (name) {
    case 'tensorflow':
      return 'tensorflow (native TensorFlow C library through tfjs-node, multi-threaded)';
    case 'wasm': {
      const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
      const threads = getThreadsCount();
      const how = `XNNPACK ${simd ? 'SIMD' : 'without SIMD'}, ${threads > 1 ? `${threads} threads` : 'single-threaded'}`;
      if (customKernels.includes(tf.Conv2D)) {
        return `wasm (${how}; convolutions and matrix products on onnxruntime's native GEMM, one thread)`;
      }
      const extra = customKernels.length > 0 ? ` with fast ${customKernels.join('/')} kernels` : '';
      return `wasm (${how})${extra}${fallback ? `; native convolutions unavailable: ${fallback}` : ''}`;
    }
    case 'cpu':
      return 'cpu (pure JavaScript reference backend, slow)';
  }
}

async function init(options: InitBackendOptions): Promise<BackendInfo> {
  const order = backendOrder(options);
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    try {
      await start(name);
    } catch (e) {
      attempts.push({ name, ok: false, error: message(e) });
      continue;
    }
    attempts.push({ name, ok: true });
    // The cpu backend prints a "install tfjs-node" banner on first use; the attempts say as much.
    if (name === 'cpu') Object.assign(tf.backend(), { firstUse: false });
    if (name !== 'wasm') return { name, attempts, customKernels: [], description: await describe(name, []) };
    const choice = options.convolutions ?? convChoiceFromEnv();
    const customKernels = registerFastWasmKernels(choice);
    const convolutions = customKernels.includes(tf.Conv2D) ? 'native' : 'xnnpack';
    const status = choice === 'auto' && convolutions === 'xnnpack' ? nativeGemmStatus() : undefined;
    const fallback = status !== undefined && !status.ok ? status.reason : undefined;
    return {
      name,
      attempts,
      customKernels,
      convolutions,
      ...(fallback ? { convolutionsFallback: fallback } : {}),
      description: await describe(name, customKernels, fallback),
    };
  }
  const why = attempts.map((a) => `${a.name}: ${a.error ?? 'failed'}`).join('; ');
  throw new Error(`initBackend: no backend could be started (${why})`);
}

/**
 * Starts the first backend of {@link backendOrder} that works and, for wasm, registers the
 * native convolutions (or the fast XNNPACK-based conv gradients, see `convolutions`). Idempotent: later calls (whatever their options) return the info of the
 * first successful call. Rejects, listing every attempt, when no backend starts (a later call
 * then tries again).
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  if (pending === undefined) {
    pending = init(options).then(
      (info) => (chosen = info),
      (e: unknown) => {
        pending = undefined;
        throw e;
      },
    );
  }
  return pending;
}

/** The info of the backend started by {@link initBackend}, or `undefined` before it resolved. */
export function backendInfo(): BackendInfo | undefined {
  return chosen;
}
