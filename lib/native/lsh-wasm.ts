/**
 * WebAssembly SIMD kernel of the cross-polytope hash: the pseudo-random rotations (random ±1
 * diagonal, then fast Hadamard transform) and the cross-polytope decoding, for 4 points at once.
 *
 * Layout: 4 points are interleaved, coordinate-major: coordinate j of point `lane` is the float32
 * at byte `ptr + 16·j + 4·lane`, so every butterfly is one f32x4 operation with no shuffles.
 *
 * The arithmetic is the same float32 radix-2 FHT as `fht.ts` (two stages per pass, with the same
 * pairing, so each value is bit-identical), the same fold for a partial last rotation and the same
 * decoding rule as the JavaScript kernel of `lsh.ts`: both kernels give identical hashes.
 *
 * The module is the AssemblyScript kernel `assembly/lsh.ts` (~1 KB of wasm); it imports its memory
 * (`env.memory`). Exported functions (pointers are byte offsets, counts are coordinates of 16 bytes):
 * - `fht(ptr, n)`: in-place FHT of length n (a power of two) of the 4 interleaved vectors;
 * - `signFht(src, dst, signs, n)`: dst[j] = src[j]·signs[j] (signs: n float32 ±1), then `fht(dst, n)`
 *   (the multiplication is fused with the first two FHT stages: one memory pass less);
 * - `signFold(src, dst, signs, m, n)`: the first m outputs of `signFht` computed in O(n):
 *   dst[i] = Σ_{j ≡ i mod m} src[j]·signs[j] in increasing j, then `fht(dst, m)` (m a power of two ≤ n);
 * - `decode(ptr, dim, out)`: per lane, the cross-polytope hash of the first `dim` coordinates (index
 *   of the first largest |coordinate|, plus dim when that coordinate is negative), 4 int32 at `out`.
 */

import { WasmKernel, type WasmInstance } from './wasm-kernel';

/** The kernel: `assembly/lsh.ts`. */
const kernel = new WasmKernel<CrossPolytopeWasmExports>('cross-polytope', 'lsh.wasm');

/** The kernel's exported functions. */
export interface CrossPolytopeWasmExports {
  fht(ptr: number, n: number): void;
  signFht(src: number, dst: number, signs: number, n: number): void;
  signFold(src: number, dst: number, signs: number, m: number, n: number): void;
  decode(ptr: number, dim: number, out: number): void;
}

/** One instance of the kernel with its own memory. */
export type CrossPolytopeWasm = WasmInstance<CrossPolytopeWasmExports>;

/**
 * Why the SIMD kernel cannot run here (no WebAssembly SIMD support), or null when it can.
 * Checked once per process.
 */
export function crossPolytopeWasmUnavailable(): string | null {
  return kernel.unavailable();
}

/**
 * Instantiates the kernel with a fresh memory of at least `bytes` bytes (the memory never grows
 * afterwards, so typed-array views of it stay valid).
 * @throws Error when WebAssembly SIMD is unavailable.
 */
export function instantiateCrossPolytopeWasm(bytes: number): CrossPolytopeWasm {
  return kernel.instantiate(bytes);
}
