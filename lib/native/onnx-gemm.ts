/**
 * Native float32 matrix products through onnxruntime-node (prebuilt CPU binaries inside the npm
 * package; its MLAS GEMM is multi-threaded and SIMD): `Y = A · Bᵀ` for row-major A (m × d) and
 * B (n × d). The one-node ONNX model (Gemm, transB = 1) is encoded here, so no model file ships.
 *
 * onnxruntime-node is loaded lazily: the rest of `lib/knn` works without it.
 */

import type * as Ort from 'onnxruntime-node';

/** Computes `A · Bᵀ` (m × n, row-major, float32) for row-major A (m × dim) and B (n × dim). */
export interface GemmRunner {
  /** Intra-op threads the session was created with. */
  readonly threads: number;
  /**
   * A·Bᵀ for A (m × dim) and B (n × dim), row-major. Does not copy A or B (subarrays are fine).
   * Without `out`: returns a new m × n array. With `out` (at least m·n values): writes the product
   * into its first m·n values and returns that view — no allocation per call in hot loops.
   */
  abt(a: Float32Array, m: number, b: Float32Array, n: number, dim: number, out?: Float32Array): Promise<Float32Array>;
}

type OrtModule = typeof Ort;

let ortPromise: Promise<OrtModule> | null = null;
const runners = new Map<number, Promise<GemmRunner>>();

/** Loads onnxruntime-node once; rejects with the loader's reason when it is missing or broken. */
export function loadOrt(): Promise<OrtModule> {
  if (!ortPromise) {
    ortPromise = import('onnxruntime-node').then((m) => {
      // Under CommonJS interop the namespace may arrive as { default: module }.
      const mod = (m as unknown as { InferenceSession?: unknown; default?: OrtModule }).InferenceSession
        ? (m as unknown as OrtModule)
        : (m as unknown as { default: OrtModule }).default;
      if (!mod || typeof mod.InferenceSession?.create !== 'function') {
        throw new Error('onnxruntime-node loaded but has no InferenceSession');
      }
      return mod;
    });
    ortPromise.catch(() => undefined);
  }
  return ortPromise;
}

/**
 * A shared GEMM runner using `threads` intra-op threads (one session per thread count, reused).
 * @throws when onnxruntime-node cannot be loaded.
 */
export function gemmRunner(threads: number): Promise<GemmRunner> {
  let r = runners.get(threads);
  if (!r) {
    r = createRunner(threads);
    runners.set(threads, r);
    r.catch(() => runners.delete(threads));
  }
  return r;
}

/** Session options of every GEMM session (the kNN's runners and the tfjs kernels' synchronous ones). */
export function gemmSessionOptions(threads: number): Ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // No arena: outputs have many shapes (blocks, Gram matrices, projections) and an arena keeps
    // its largest size for the life of the process; plain allocations are returned at once.
    enableCpuMemArena: false,
    enableMemPattern: false,
    logSeverityLevel: 3,
  };
}

async function createRunner(threads: number): Promise<GemmRunner> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(gemmModel(), gemmSessionOptions(threads));
  return {
    threads,
    async abt(a, m, b, n, dim, into) {
      const feeds = { A: new ort.Tensor('float32', a, [m, dim]), B: new ort.Tensor('float32', b, [n, dim]) };
      if (into && into.length < m * n)
        throw new RangeError(`abt: out holds ${into.length} values, expected at least ${m} × ${n} = ${m * n}`);
      // Always into an array of ours: an output left to onnxruntime lives in its own allocation until
      // the garbage collector finalises it, which it does late (on a stream of 4 MB blocks the
      // allocator's heap grew to 118 MB that way, against 46 MB with outputs given).
      const view = into ? into.subarray(0, m * n) : new Float32Array(m * n);
      await session.run(feeds, { Y: new ort.Tensor('float32', view, [m, n]) });
      return view;
    },
  };
}

// ---- A minimal protobuf writer for the ONNX model --------------------------------------------

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
const tag = (field: number, wire: number): number[] => varint(field * 8 + wire);
const int = (field: number, v: number): number[] => [...tag(field, 0), ...varint(v)];
const bytes = (field: number, b: number[]): number[] => [...tag(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string): number[] => bytes(field, [...Buffer.from(s, 'utf8')]);

/** ValueInfoProto of a float tensor with symbolic dimensions. */
function floatInput(name: string, dims: string[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, str(2, d))); // TensorShapeProto.dim { dim_param }
  const tensorType = [...int(1, 1 /* FLOAT */), ...bytes(2, shape)];
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}

/** Which operands a {@link gemmModel} transposes. */
export interface GemmLayout {
  /** Y = Aᵀ·… (A stored k × m). Default false. */
  transA?: boolean;
  /** Y = …·Bᵀ (B stored n × k). Default true (the kNN's A·Bᵀ). */
  transB?: boolean;
}

/** ModelProto (IR 8, opset 13) of `Y = Gemm(A, B, transA, transB)`; by default A·Bᵀ. */
export function gemmModel(layout: GemmLayout = {}): Uint8Array {
  const transA = layout.transA ?? false;
  const transB = layout.transB ?? true;
  const attr = (name: string): number[] => [...str(1, name), ...int(3, 1), ...int(20, 2 /* INT */)];
  const attrs = [...(transA ? bytes(5, attr('transA')) : []), ...(transB ? bytes(5, attr('transB')) : [])];
  const node = [...str(1, 'A'), ...str(1, 'B'), ...str(2, 'Y'), ...str(3, 'gemm'), ...str(4, 'Gemm'), ...attrs];
  const graph = [
    ...bytes(1, node),
    ...str(2, `dknn_gemm_${transA ? 't' : 'n'}${transB ? 't' : 'n'}`),
    ...bytes(11, floatInput('A', transA ? ['k', 'm'] : ['m', 'k'])),
    ...bytes(11, floatInput('B', transB ? ['n', 'k'] : ['k', 'n'])),
    ...bytes(12, floatInput('Y', ['m', 'n'])),
  ];
  const opset = [...str(1, ''), ...int(2, 13)];
  return Uint8Array.from([...int(1, 8), ...str(2, 'dknn-ts'), ...bytes(7, graph), ...bytes(8, opset)]);
}
