/**
 * Synchronous native float32 GEMM for tfjs kernels: onnxruntime-node's MLAS (AVX2/AVX-512 FMA)
 * on one thread, called through the package's native binding directly.
 *
 * tfjs kernels are synchronous; `InferenceSession.run` of onnxruntime-node's public API only wraps
 * the binding's synchronous `run` in a promise (`setImmediate`), so the kernels call the binding
 * itself (`onnxruntime-node/dist/binding`, version pinned in lib/package.json). Where that binding
 * is missing or changed, {@link nativeGemmStatus} says why and callers keep the XNNPACK kernels.
 *
 * One intra-op thread: parallelism is the worker threads' (training, extraction, crafting), and a
 * product computed on one thread does not depend on how many threads the process runs.
 */
import type * as Ort from 'onnxruntime-node';
import { gemmModel, gemmSessionOptions } from './onnx-gemm';

/** Operand layouts: `nn` Y = A·B, `nt` Y = A·Bᵀ, `tn` Y = Aᵀ·B (row-major storage). */
export type GemmVariant = 'nn' | 'nt' | 'tn';

interface NativeSession {
  run(feeds: Record<string, Ort.Tensor>, fetches: Record<string, Ort.Tensor>, options: object): unknown;
}
interface Binding {
  binding: {
    InferenceSession: new () => NativeSession & {
      loadModel(b: ArrayBufferLike, off: number, len: number, o: object): void;
    };
  };
  initOrt(): void;
}

let loaded: { binding: Binding; Tensor: typeof Ort.Tensor } | { error: string } | undefined;
const sessions = new Map<GemmVariant, NativeSession>();

function load(): { binding: Binding; Tensor: typeof Ort.Tensor } | { error: string } {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const binding = require('onnxruntime-node/dist/binding') as Binding;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const ort = require('onnxruntime-node') as typeof Ort;
      if (typeof binding.initOrt !== 'function' || typeof binding.binding?.InferenceSession !== 'function') {
        throw new Error('onnxruntime-node/dist/binding has no initOrt/InferenceSession (changed internal API)');
      }
      binding.initOrt();
      loaded = { binding, Tensor: ort.Tensor };
      session('nn'); // fails here, not inside a kernel, when the binding cannot load a model
    } catch (e) {
      loaded = { error: (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? String(e) };
    }
  }
  return loaded;
}

function session(variant: GemmVariant): NativeSession {
  let s = sessions.get(variant);
  if (s === undefined) {
    const l = loaded;
    if (l === undefined || 'error' in l) throw new Error(`native GEMM unavailable: ${l ? l.error : 'not loaded'}`);
    const created = new l.binding.binding.InferenceSession();
    const model = gemmModel({ transA: variant === 'tn', transB: variant === 'nt' });
    created.loadModel(model.buffer, model.byteOffset, model.byteLength, gemmSessionOptions(1));
    sessions.set(variant, created);
    s = created;
  }
  return s;
}

/** Whether the synchronous native GEMM works in this process, and if not why. */
export function nativeGemmStatus(): { ok: true } | { ok: false; reason: string } {
  const l = load();
  return 'error' in l ? { ok: false, reason: l.error } : { ok: true };
}

/**
 * `out[m × n] = op(A) · op(B)` with, by `variant`: `nn` A (m × k), B (k × n); `nt` A (m × k),
 * B (n × k); `tn` A (k × m), B (k × n) — row-major, float32, not copied (views of the wasm heap
 * are fine). Overwrites the first m·n values of `out`.
 * @throws when the native GEMM is unavailable or an operand is shorter than its shape.
 */
export function gemmSync(
  variant: GemmVariant,
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  m: number,
  k: number,
  n: number,
): void {
  const l = load();
  if ('error' in l) throw new Error(`native GEMM unavailable: ${l.error}`);
  if (a.length < m * k || b.length < k * n || out.length < m * n) {
    throw new RangeError(
      `gemmSync(${variant}): expected A ≥ ${m * k}, B ≥ ${k * n}, out ≥ ${m * n} values, found ${a.length}, ${b.length}, ${out.length}`,
    );
  }
  if (m === 0 || n === 0) return;
  if (k === 0) {
    out.fill(0, 0, m * n);
    return;
  }
  const T = l.Tensor;
  const aShape = variant === 'tn' ? [k, m] : [m, k];
  const bShape = variant === 'nt' ? [n, k] : [k, n];
  session(variant).run(
    { A: new T('float32', a.subarray(0, m * k), aShape), B: new T('float32', b.subarray(0, k * n), bShape) },
    { Y: new T('float32', out.subarray(0, m * n), [m, n]) },
    {},
  );
}
