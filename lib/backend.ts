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
import { registerFastWasmKernels } from './kernels';

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
  const names = override !== '' ? override.split(',').map((s) => s.trim().toLowerCase()) : options.prefer ?? [...BACKEND_NAMES];
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
    throw new Error(`tf.setBackend('${name}') threw: ${message(e)}`);
  }
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend('${name}') failed (backend did not initialise)`);
}

async function describe(name: BackendName, customKernels: string[]): Promise<string> {
  switch (name) {
    case 'tensorflow':
      return 'tensorflow (native TensorFlow C library through tfjs-node, multi-threaded)';
    case 'wasm': {
      const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
      const threads = getThreadsCount();
      const how = `XNNPACK ${simd ? 'SIMD' : 'without SIMD'}, ${threads > 1 ? `${threads} threads` : 'single-threaded'}`;
      const extra = customKernels.length > 0 ? ` with fast ${customKernels.join('/')} kernels` : '';
      return `wasm (${how})${extra}`;
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
    const customKernels = name === 'wasm' ? registerFastWasmKernels() : [];
    return { name, attempts, customKernels, description: await describe(name, customKernels) };
  }
  const why = attempts.map((a) => `${a.name}: ${a.error ?? 'failed'}`).join('; ');
  throw new Error(`initBackend: no backend could be started (${why})`);
}

/**
 * Starts the first backend of {@link backendOrder} that works and, for wasm, registers the fast
 * conv gradient kernels. Idempotent: later calls (whatever their options) return the info of the
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
