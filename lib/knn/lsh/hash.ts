/**
 * LSH hash functions: the contract every hash family implements (cross-polytope in
 * `lsh-cross-polytope.ts`, hyperplane in `lsh-hyperplane.ts`, each with its own multiprobe
 * sequence), the factory that picks one, and the row hashing shared by the index and its build
 * workers. The workers import only this module (and the families), not the index.
 */
import { CrossPolytopeJs, CrossPolytopeWasmKernel, crossPolytopeSigns } from './cross-polytope';
import { HyperplaneHash } from './hyperplane';
import type { HashFunctions } from './family';
import type { ResolvedLshParameters } from './params';
import { crossPolytopeWasmUnavailable } from '../../native/lsh-wasm';

/**
 * The hash functions of `params` (also used by the build workers, `lsh-worker.ts`).
 * @throws Error for kernel 'wasm' without WebAssembly SIMD.
 */
export function createHashFunctions(params: ResolvedLshParameters, kernel: 'auto' | 'js' | 'wasm'): HashFunctions {
  if (params.family === 'hyperplane') return new HyperplaneHash(params);
  const signs = crossPolytopeSigns(params);
  if (kernel !== 'js') {
    const why = crossPolytopeWasmUnavailable();
    if (!why) return new CrossPolytopeWasmKernel(params, signs);
    if (kernel === 'wasm') throw new Error(`kernel 'wasm' is unavailable: ${why}`);
  }
  return new CrossPolytopeJs(params, signs);
}

/**
 * Hashes rows r0 … r0+count−1 of `data` into `out`: the key of row r in table t goes to
 * `out[t·outStride + outOffset + (r − r0)]` (internal: also used by the build workers).
 */
export function hashRows(
  hashes: HashFunctions,
  data: Float32Array,
  r0: number,
  count: number,
  out: Float64Array,
  outStride: number,
  outOffset: number,
): void {
  const lanes = hashes.lanes;
  const l = out.length / outStride;
  const keys = new Float64Array(l * lanes);
  const group = new Int32Array(lanes);
  for (let g = 0; g < count; g += lanes) {
    const n = Math.min(lanes, count - g);
    for (let i = 0; i < n; i++) group[i] = r0 + g + i;
    hashes.load(data, group, n);
    hashes.keys(keys);
    for (let t = 0; t < l; t++) {
      const o = t * outStride + outOffset + g;
      for (let i = 0; i < n; i++) out[o + i] = keys[t * lanes + i];
    }
  }
}

/** Work units (row × table × function × rotation × coordinate) hashed per second on one thread, measured. */
export const HASH_UNITS_PER_SECOND = 1.6e9;

/** Hashing work units of one point (see {@link HASH_UNITS_PER_SECOND}). */
export function hashUnitsPerRow(p: ResolvedLshParameters): number {
  return p.family === 'cross-polytope' ? p.l * p.k * p.numRotations * p.rotationDim : p.l * p.k * p.dim;
}
