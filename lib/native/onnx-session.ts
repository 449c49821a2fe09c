/**
 * An onnxruntime-node inference session on a model given as bytes (CPU, `threads` intra-op
 * threads), with float32 inputs and outputs: the runtime under `loadOnnxModel` (lib/models/onnx.ts).
 * Only onnxruntime-node's public API is used; it is loaded lazily (as for the GEMM, `loadOrt`).
 */
import type * as Ort from 'onnxruntime-node';
import { loadOrt } from './onnx-gemm';

/** A float32 tensor: its values (row-major) and its shape. */
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** One output of {@link OnnxSession.probe}: its element type and shape. */
export interface ProbedOutput {
  /** onnxruntime's type name ('float32', 'int64', …). */
  type: string;
  dims: number[];
}

/** A session (see the module comment). */
export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly threads: number;
  /** Runs the model on `input` and writes each output into its given array (no allocation of outputs). */
  runInto(inputName: string, input: FloatTensor, outputs: Record<string, FloatTensor>): Promise<void>;
  /** Runs the model on `input` and returns the type and shape of each named output. */
  probe(inputName: string, input: FloatTensor, names: readonly string[]): Promise<Record<string, ProbedOutput>>;
  /** Frees the session's native memory; the session is unusable afterwards. */
  release(): Promise<void>;
}

/**
 * The options of every session: `threads` intra-op threads, one inter-op, every graph optimization,
 * and threads that sleep rather than spin between their tasks (on 2 busy cores, spinning made
 * the MNIST CNN's 1,000 images take 285 ms against 147-211 ms without).
 */
export function onnxSessionOptions(threads: number): Ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** onnxruntime-node's version ('1.30.0'). @throws when onnxruntime-node cannot be loaded. */
export async function onnxRuntimeVersion(): Promise<string> {
  const ort = await loadOrt();
  return ort.env.versions.node ?? ort.env.versions.common;
}

/**
 * A session on the ONNX model `bytes`.
 * @throws the runtime's message (prefixed with `source`) when it refuses the model; when
 *   onnxruntime-node cannot be loaded.
 */
export async function createOnnxSession(bytes: Uint8Array, threads: number, source: string): Promise<OnnxSession> {
  const ort = await loadOrt();
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, onnxSessionOptions(threads));
  } catch (e) {
    throw new Error(`${source}: onnxruntime cannot load the model: ${(e as Error).message}`, { cause: e });
  }
  const tensor = (t: FloatTensor) => new ort.Tensor('float32', t.data, t.dims);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    threads,
    async runInto(inputName, input, outputs) {
      const fetches: Record<string, Ort.Tensor> = {};
      for (const [name, t] of Object.entries(outputs)) fetches[name] = tensor(t);
      await session.run({ [inputName]: tensor(input) }, fetches);
    },
    async probe(inputName, input, names) {
      const got = await session.run({ [inputName]: tensor(input) }, [...names]);
      const out: Record<string, ProbedOutput> = {};
      for (const name of names) {
        const t = got[name];
        out[name] = { type: t.type, dims: t.dims.map(Number) };
        t.dispose();
      }
      return out;
    },
    release: () => session.release(),
  };
}
