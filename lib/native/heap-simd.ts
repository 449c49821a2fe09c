/**
 * WebAssembly SIMD loops that run on the tfjs wasm backend's own heap (its `WebAssembly.Memory`,
 * imported by the AssemblyScript module `assembly/heap.ts`): the scatter-adds of col2im, which in
 * JavaScript cost ~4 ns per float (a float32 load, convert, add, convert, store per element) and
 * took as long as the GEMM of an input gradient (MNIST's second convolution: 28 vs 35 ms per 100
 * images).
 *
 * `add(dst, src, n)`: dst[0 … n) += src[0 … n), float32, byte addresses on the heap; four lanes at
 * a time, then one at a time. The sums are those of the scalar loop (the same float32 additions).
 * `biasAct`: the bias and ReLU of a convolution's output (`biasActivation` in `wasm-util.ts`: ~3.6
 * ns per float in JavaScript, a quarter of a VGG forward pass), with the same values.
 */
import { WasmKernel } from './wasm-kernel';
import { wasmBackendMemory, type BackendWasm } from './tfjs-wasm';

/** The module's exports. `add`: adds n floats at byte address src to those at dst. */
export interface HeapSimd {
  add(dst: number, src: number, n: number): void;
  /** y[r·n + c] += bias[c] for r < rows, c < n (n a multiple of 4), then ReLU when `relu` is 1 (as `y < 0 ? 0 : y`: −0 and NaN kept). */
  biasAct(y: number, bias: number, rows: number, n: number, relu: number): void;
}

/** The kernel: `assembly/heap.ts`. */
const kernel = new WasmKernel<HeapSimd>('heap add', 'heap.wasm');
const instances = new WeakMap<object, HeapSimd | null>();

/** The SIMD loops on `backend`'s heap, or null where they cannot run (then callers use JavaScript). */
export function heapSimd(backend: BackendWasm): HeapSimd | null {
  const memory = wasmBackendMemory(backend);
  if (memory === null) return null;
  let inst = instances.get(memory);
  if (inst === undefined) {
    try {
      inst = kernel.instantiateOn(memory);
    } catch {
      inst = null;
    }
    instances.set(memory, inst);
  }
  return inst;
}
