/** The contract every LSH hash family implements (cross-polytope, hyperplane). */
import type { ProbeSequence } from './probes';

/**
 * The l·k hash functions of an index for one dimension, evaluated on `lanes` points at a time.
 * `transform` exposes the values the probing sequence is built from (rotated coordinates or
 * hyperplane margins), laid out per (table, function) at {@link HashFunctions.segmentOffset}.
 */
export interface HashFunctions {
  readonly lanes: number;
  /** Values per point of `transform`. */
  readonly transformedSize: number;
  /** 'js' or 'wasm'. */
  readonly kernel: 'js' | 'wasm';
  /** Loads `count ≤ lanes` rows: row `rows[i]` of `data` (row-major, `dim` values). */
  load(data: Float32Array, rows: Int32Array, count: number): void;
  /** Bucket keys of the loaded points in every table: `out[t · lanes + lane]`. */
  keys(out: Float64Array): void;
  /** Transformed vectors of the loaded points: `out[lane]` gets `transformedSize` values. */
  transform(out: Float64Array[]): void;
  /** Bucket keys of every table from one transformed vector: `out[t]`. */
  keysFromTransformed(tv: Float64Array, out: Float64Array): void;
  /** A fresh multiprobe sequence of this family (one per query object). */
  probes(): ProbeSequence;
}
