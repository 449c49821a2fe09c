/**
 * WebAssembly SIMD loops that run on the tfjs wasm backend's own heap (its `WebAssembly.Memory`,
 * imported by a small module assembled here): the scatter-adds of col2im, which in JavaScript cost
 * ~4 ns per float (a float32 load, convert, add, convert, store per element) and took as long as
 * the GEMM of an input gradient (MNIST's second convolution: 28 vs 35 ms per 100 images).
 *
 * `add(dst, src, n)`: dst[0 … n) += src[0 … n), float32, byte addresses on the heap; four lanes at
 * a time, then one at a time. The sums are those of the scalar loop (the same float32 additions).
 * `biasAct`: the bias and ReLU of a convolution's output (`biasActivation` in `wasm-util.ts`: ~3.6
 * ns per float in JavaScript, a quarter of a VGG forward pass), with the same values.
 */
import { addLocal, addTo, assembleModule, I32, op, V128, whileLt, WasmKernel, type Fn } from './wasm-asm';
import { wasmBackendMemory, type BackendWasm } from './tfjs-wasm';

/** The module's export: adds n floats at byte address src to those at dst. */
export interface HeapSimd {
  add(dst: number, src: number, n: number): void;
  /** y[r·n + c] += bias[c] for r < rows, c < n (n a multiple of 4), then ReLU when `relu` is 1 (as `y < 0 ? 0 : y`: −0 and NaN kept). */
  biasAct(y: number, bias: number, rows: number, n: number, relu: number): void;
}

function assemble(): Uint8Array {
  // params: 0 dst, 1 src, 2 n (floats); locals: 3 i (bytes), 4 end of the vector part, 5 a, 6 b, 7 bytes
  const at = (base: number, into: number) => [op.get(base), op.get(3), op.i32Add, op.set(into)];
  const body: number[][] = [
    op.get(2), op.i32(2), op.i32Shl, op.set(7),
    op.i32(0), op.set(3),
    op.get(7), op.i32(-16), op.i32And, op.set(4),
    ...whileLt(3, 4, [
      ...at(0, 5), ...at(1, 6),
      op.get(5), op.get(5), op.v128Load(), op.get(6), op.v128Load(), op.f32x4Add, op.v128Store(),
      ...addTo(3, 16),
    ]),
    ...whileLt(3, 7, [
      ...at(0, 5), ...at(1, 6),
      op.get(5), op.get(5), op.f32Load, op.get(6), op.f32Load, op.f32Add, op.f32Store,
      ...addTo(3, 4),
    ]),
  ]; // prettier-ignore
  return assembleModule([{ params: 3, locals: [{ count: 5, type: I32 }], body }, biasActFn()], ['add', 'biasAct']);
}

function biasActFn(): Fn {
  // params: 0 y, 1 bias, 2 rows, 3 n, 4 relu; locals: 5 end of y, 6 row bytes, 7 j, 8 p (y + j), 9 v (v128)
  const body: number[][] = [
    op.get(3), op.i32(2), op.i32Shl, op.set(6),
    op.get(0), op.get(2), op.get(6), op.i32Mul, op.i32Add, op.set(5),
    ...whileLt(0, 5, [
      op.i32(0), op.set(7),
      ...whileLt(7, 6, [
        op.get(0), op.get(7), op.i32Add, op.set(8),
        op.get(8), op.v128Load(), op.get(1), op.get(7), op.i32Add, op.v128Load(), op.f32x4Add, op.set(9),
        op.get(4), op.if, op.get(9), op.v128Zero, op.f32x4Pmax, op.set(9), op.end, // pmax(v, 0) = v < 0 ? 0 : v
        op.get(8), op.get(9), op.v128Store(),
        ...addTo(7, 16),
      ]),
      ...addLocal(0, 6),
    ]),
  ]; // prettier-ignore
  return {
    params: 5,
    locals: [
      { count: 4, type: I32 },
      { count: 1, type: V128 },
    ],
    body,
  };
}

const kernel = new WasmKernel<HeapSimd>('heap add', assemble);
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
