/**
 * Parameters of the LSH index ({@link LshIndex}), mirroring FALCONN's `LSHConstructionParameters`
 * (falconn/lsh_nn_table.h) and its two helpers:
 * - {@link computeNumberOfHashFunctions} = FALCONN's `compute_number_of_hash_functions`: how many
 *   hash functions per table (and, for cross-polytope, the dimension of the last cross-polytope)
 *   give a bucket key of a wanted number of bits;
 * - {@link defaultLshParameters} = FALCONN's `get_default_parameters`.
 *
 * FALCONN fills `k` and `last_cp_dimension` once the dimension is known. Since a DkNN builds one
 * index per layer (12,544 / 3,200 / 128 / 10 dims), a parameter object here may instead give
 * `hashBits`: `k` and `lastCpDim` are then computed from the data's dimension at `build`
 * ({@link resolveLshParameters}). {@link PAPER_PRESET} is written that way.
 *
 * Cross-polytope arithmetic (FALCONN's `cp_hash_helpers`): data of dimension `dim` are zero-padded to
 * the rotation dimension d' = next power of two ≥ dim. One cross-polytope hash on d' coordinates
 * takes 2·d' values (index and sign of the largest |coordinate|), i.e. log2(d') + 1 bits. The last of
 * the k cross-polytopes of a table may look at only its first `lastCpDim` coordinates (of the full
 * rotation), giving log2ceil(lastCpDim) + 1 bits. Bits per table:
 *   (k − 1)·(log2(d') + 1) + log2ceil(lastCpDim) + 1.
 */

/** Locality-sensitive hash family (FALCONN's `LSHFamily`). */
export type LshFamily = 'cross-polytope' | 'hyperplane';

/**
 * Distance the candidates are re-ranked by (FALCONN's `DistanceFunction`).
 * - `'euclidean-squared'`: ‖q − x‖², the canonical distance of `kernel.ts` (what the DkNN uses).
 * - `'negative-inner-product'`: −q·x (for unit vectors the same ranking as the angle); the
 *   `distances` of a result then hold −q·x instead of squared Euclidean distances.
 */
export type LshDistance = 'euclidean-squared' | 'negative-inner-product';

/**
 * How each table stores its buckets (FALCONN's `StorageHashTable`; its four variants are all
 * replaced by the two layouts that suit typed arrays).
 * - `'sorted-keys'` (default): the point ids sorted by bucket key, the distinct keys sorted with
 *   their ranges; lookup by binary search. Memory O(n + buckets) per table, any number of bits.
 * - `'flat'`: a dense offsets array with one entry per possible key (like FALCONN's
 *   `FlatHashTable`); O(1) lookup, memory O(n + 2^bits) per table, at most 24 bits.
 */
export type LshStorage = 'sorted-keys' | 'flat';

/** Construction parameters of an LSH index (FALCONN's `LSHConstructionParameters`). */
export interface LshParameters {
  /** Hash family. */
  family: LshFamily;
  /** Distance the candidates are re-ranked by. */
  distance: LshDistance;
  /** Number of hash tables (FALCONN `l`). */
  l: number;
  /**
   * Hash functions per table, concatenated into one bucket key (FALCONN `k`): cross-polytopes for
   * `'cross-polytope'`, hyperplanes (1 bit each) for `'hyperplane'`. Give either `k` (with
   * `lastCpDim` for cross-polytope) or `hashBits`.
   */
  k?: number;
  /**
   * Cross-polytope only: coordinates seen by the last of the k cross-polytopes, 1 … d' (FALCONN
   * `last_cp_dimension`). Default when `k` is given: d' (a full cross-polytope).
   */
  lastCpDim?: number;
  /**
   * Bits per bucket key; when `k` is absent, `k` and `lastCpDim` are computed from it and the
   * data's dimension at build time ({@link computeNumberOfHashFunctions}). `'auto'`: FALCONN's
   * default for the number of points n ({@link defaultHashBits}: about 4 points per bucket).
   */
  hashBits?: number | 'auto';
  /**
   * Cross-polytope only: pseudo-random rotations per hash, each a random ±1 diagonal followed by a
   * fast Hadamard transform (FALCONN `num_rotations`; FALCONN advises 1 for dense data, 2 for sparse).
   * Default 1.
   */
  numRotations?: number;
  /** Seed of the random hash functions (FALCONN `seed`). Default 409556018 (FALCONN's). */
  seed?: number;
  /** Bucket storage. Default `'sorted-keys'`. */
  storageHashTable?: LshStorage;
}

/** Parameters with every field filled in for one data dimension (what an index built with). */
export interface ResolvedLshParameters {
  family: LshFamily;
  distance: LshDistance;
  l: number;
  k: number;
  /** Cross-polytope: dimension of the last cross-polytope; hyperplane: 0 (unused). */
  lastCpDim: number;
  /** Cross-polytope: rotations per hash; hyperplane: 0 (unused). */
  numRotations: number;
  seed: number;
  storageHashTable: LshStorage;
  /** Data dimension. */
  dim: number;
  /** Cross-polytope: d' = next power of two ≥ dim (the data are zero-padded to it); hyperplane: dim. */
  rotationDim: number;
  /** Bits per bucket key. */
  hashBits: number;
}

/** FALCONN's default seed (`LSHConstructionParameters::seed`). */
export const FALCONN_DEFAULT_SEED = 409556018;

/** Most bits a bucket key may have: keys are JavaScript numbers (exact integers below 2^53). */
export const MAX_HASH_BITS = 52;

/** Most bits of a `'flat'` table (its offsets array has 2^bits + 1 entries). */
export const MAX_FLAT_HASH_BITS = 24;

/**
 * The reference DkNN's LSH (CleverHans `dknn.py`, FALCONN): cross-polytope, squared Euclidean,
 * l = 200 tables, 17 bits per table (k and lastCpDim follow from each layer's dimension), 2
 * pseudo-random rotations, seed 5721840. Query it with `numProbes = l` (the default: no multiprobe).
 */
export const PAPER_PRESET: Readonly<LshParameters> = Object.freeze({
  family: 'cross-polytope',
  distance: 'euclidean-squared',
  l: 200,
  hashBits: 17,
  numRotations: 2,
  seed: 5721840,
});

/**
 * FALCONN's defaults ({@link defaultLshParameters}) for any n and dimension: cross-polytope, l = 10
 * tables, `hashBits: 'auto'` (about 4 points per bucket), 1 rotation, FALCONN's seed. Built with
 * `numProbes: 'auto'` (`LshIndexOptions`), the index then raises the number of probes until a
 * recall target is met on a sample of its own points — FALCONN's advice, automated. This is the
 * project's tuned LSH configuration (see the README's kNN-backends table).
 */
export const AUTO_PRESET: Readonly<LshParameters> = Object.freeze({
  family: 'cross-polytope',
  distance: 'euclidean-squared',
  l: 10,
  hashBits: 'auto',
  numRotations: 1,
  seed: FALCONN_DEFAULT_SEED,
});

/**
 * FALCONN's default bits per table for n points (from `get_default_parameters`): the largest b with
 * 2^(b + 2) ≤ n, at least 1 — about 4 points per bucket. E.g. n = 60,000 → 14.
 * @throws RangeError when n is not a positive integer.
 */
export function defaultHashBits(n: number): number {
  checkPositiveInt('n', n, 'defaultHashBits');
  let bits = 1;
  while (2 ** (bits + 2) <= n) bits++;
  return bits;
}

/** Smallest power of two ≥ x (FALCONN `find_next_power_of_two`); 1 for x ≤ 1. */
export function nextPowerOfTwo(x: number): number {
  let r = 1;
  while (r < x) r *= 2;
  return r;
}

/** ⌈log2 x⌉ (FALCONN `log2ceil`); 0 for x ≤ 1. */
export function log2Ceil(x: number): number {
  let r = 0;
  let c = 1;
  while (c < x) {
    c *= 2;
    r++;
  }
  return r;
}

function checkPositiveInt(name: string, v: unknown, where = 'LSH parameters'): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`${where}: ${name} must be a positive integer, found ${String(v)}`);
  }
}

function checkFamily(family: unknown): asserts family is LshFamily {
  if (family !== 'cross-polytope' && family !== 'hyperplane') {
    throw new RangeError(
      `LSH parameters: family must be 'cross-polytope' or 'hyperplane', found ${JSON.stringify(family)}`,
    );
  }
}

/**
 * FALCONN's `compute_number_of_hash_functions`: the `k` (and, for cross-polytope, `lastCpDim`) that
 * give bucket keys of `bits` bits for data of dimension `dim`. Returns a copy of `params` with `k`,
 * `lastCpDim` and `hashBits` set.
 *
 * - hyperplane: k = bits (one bit per hyperplane).
 * - cross-polytope: with d' = next power of two ≥ dim, each full cross-polytope gives
 *   b = log2(d') + 1 bits; k = ⌊bits / b⌋ full ones, and if bits is not a multiple of b, one more
 *   whose dimension 2^(r − 1) gives the r remaining bits (else lastCpDim = d').
 *   E.g. bits 17, dim 3,200: d' = 4,096, b = 13 → k = 2, lastCpDim = 2^(4 − 1) = 8.
 *
 * @throws RangeError for bits or dim that are not positive integers, an unknown family, or bits > 52.
 */
export function computeNumberOfHashFunctions<P extends { family: LshFamily }>(
  bits: number,
  dim: number,
  params: P,
): P & { k: number; lastCpDim: number; hashBits: number } {
  checkPositiveInt('bits', bits, 'computeNumberOfHashFunctions');
  checkPositiveInt('dim', dim, 'computeNumberOfHashFunctions');
  checkFamily(params.family);
  if (bits > MAX_HASH_BITS) {
    throw new RangeError(
      `computeNumberOfHashFunctions: bits must be at most ${MAX_HASH_BITS} (keys are exact JavaScript integers), found ${bits}`,
    );
  }
  if (params.family === 'hyperplane') return { ...params, k: bits, lastCpDim: 0, hashBits: bits };
  const rotationDim = nextPowerOfTwo(dim);
  const bitsPerCp = log2Ceil(rotationDim) + 1;
  let k = Math.floor(bits / bitsPerCp);
  let lastCpDim = rotationDim;
  if (k * bitsPerCp < bits) {
    const remaining = bits - k * bitsPerCp;
    k += 1;
    lastCpDim = 2 ** (remaining - 1);
  }
  return { ...params, k, lastCpDim, hashBits: bits };
}

/**
 * FALCONN's `compute_number_of_hash_bits` for cross-polytope: (k − 1)·(log2 d' + 1) + log2ceil(lastCpDim) + 1.
 */
export function crossPolytopeHashBits(rotationDim: number, k: number, lastCpDim: number): number {
  return (k - 1) * (log2Ceil(rotationDim) + 1) + log2Ceil(lastCpDim) + 1;
}

/** Options of {@link defaultLshParameters}. */
export interface DefaultLshOptions {
  /** Distance of the re-ranking. Default `'euclidean-squared'`. */
  distance?: LshDistance;
  /**
   * FALCONN's `is_sufficiently_dense`: 1 pseudo-random rotation when true, 2 when false. Default
   * true (centered activations are dense).
   */
  sufficientlyDense?: boolean;
  /** Seed. Default FALCONN's 409556018. */
  seed?: number;
}

/**
 * FALCONN's `get_default_parameters(n, dim, distance, is_sufficiently_dense)`: cross-polytope,
 * l = 10 tables, 1 rotation for dense data (2 otherwise), and the number of bits b the largest with
 * 2^(b + 2) ≤ n (at least 1), i.e. about 4 points per bucket; k and lastCpDim from
 * {@link computeNumberOfHashFunctions}. FALCONN's advice: then raise the number of probes until the
 * recall is good enough (or raise l to trade build time for query time).
 *
 * E.g. n = 60,000, dim = 3,200: 14 bits → k = 2, lastCpDim = 1.
 * @throws RangeError for n or dim that are not positive integers.
 */
export function defaultLshParameters(n: number, dim: number, options: DefaultLshOptions = {}): ResolvedLshParameters {
  checkPositiveInt('n', n, 'defaultLshParameters');
  checkPositiveInt('dim', dim, 'defaultLshParameters');
  const bits = defaultHashBits(n);
  const params = computeNumberOfHashFunctions(bits, dim, {
    family: 'cross-polytope' as const,
    distance: options.distance ?? 'euclidean-squared',
    l: 10,
    numRotations: options.sufficientlyDense === false ? 2 : 1,
    seed: options.seed ?? FALCONN_DEFAULT_SEED,
    storageHashTable: 'sorted-keys' as const,
  });
  return resolveLshParameters(params, dim);
}

/**
 * Checks the fields of `params` that do not depend on the data's dimension (everything but the
 * range of lastCpDim and the bit count); {@link resolveLshParameters} checks the rest at build.
 * @throws TypeError / RangeError naming the field, what was expected and what was found.
 */
export function checkLshParameters(params: LshParameters): void {
  if (typeof params !== 'object' || params === null) {
    throw new TypeError(`LSH parameters must be an object, found ${params === null ? 'null' : typeof params}`);
  }
  checkFamily(params.family);
  if (params.distance !== 'euclidean-squared' && params.distance !== 'negative-inner-product') {
    throw new RangeError(
      `LSH parameters: distance must be 'euclidean-squared' or 'negative-inner-product', found ${JSON.stringify(params.distance)}`,
    );
  }
  checkPositiveInt('l', params.l);
  const seed = params.seed ?? FALCONN_DEFAULT_SEED;
  if (!Number.isSafeInteger(seed))
    throw new RangeError(`LSH parameters: seed must be a safe integer, found ${String(seed)}`);
  const storage = params.storageHashTable ?? 'sorted-keys';
  if (storage !== 'sorted-keys' && storage !== 'flat') {
    throw new RangeError(
      `LSH parameters: storageHashTable must be 'sorted-keys' or 'flat', found ${JSON.stringify(storage)}`,
    );
  }
  if (params.k === undefined && params.hashBits === undefined) {
    throw new RangeError(
      'LSH parameters: expected k (hash functions per table) or hashBits (bits per table), found neither',
    );
  }
  if (params.k !== undefined) checkPositiveInt('k', params.k);
  if (params.hashBits !== undefined && params.hashBits !== 'auto') {
    checkPositiveInt('hashBits', params.hashBits);
    if (params.hashBits > MAX_HASH_BITS) {
      throw new RangeError(
        `LSH parameters: at most ${MAX_HASH_BITS} bits per table (keys are exact JavaScript integers), found hashBits = ${params.hashBits}`,
      );
    }
  }
  if (params.family === 'hyperplane') {
    for (const f of ['lastCpDim', 'numRotations'] as const) {
      if (params[f] !== undefined)
        throw new RangeError(
          `LSH parameters: ${f} applies to the cross-polytope family only, found ${f} = ${params[f]} with family 'hyperplane'`,
        );
    }
  } else {
    if (params.numRotations !== undefined) checkPositiveInt('numRotations', params.numRotations);
    if (params.lastCpDim !== undefined) {
      checkPositiveInt('lastCpDim', params.lastCpDim);
      if (params.k === undefined) {
        throw new RangeError(
          `LSH parameters: lastCpDim is computed from hashBits; give k with it, found lastCpDim = ${params.lastCpDim} without k`,
        );
      }
    }
    if (params.hashBits === 'auto' && params.k !== undefined) {
      throw new RangeError(
        `LSH parameters: hashBits 'auto' computes k; give one of them, found k = ${params.k} with hashBits 'auto'`,
      );
    }
  }
}

/**
 * Checks `params` and fills every field for data of dimension `dim` (computing k and lastCpDim from
 * `hashBits` when `k` is absent). Errors name the field, what was expected and what was found.
 * @param n points in the index: needed for `hashBits: 'auto'` only.
 * @throws RangeError on any invalid or inconsistent field.
 */
export function resolveLshParameters(params: LshParameters, dim: number, n?: number): ResolvedLshParameters {
  checkLshParameters(params);
  checkPositiveInt('dim', dim);
  let bitsWanted: number | undefined;
  if (params.hashBits === 'auto') {
    if (n === undefined)
      throw new RangeError(
        "LSH parameters: hashBits 'auto' depends on the number of points; resolve them with n (as build does)",
      );
    bitsWanted = defaultHashBits(n);
  } else {
    bitsWanted = params.hashBits;
  }
  const seed = params.seed ?? FALCONN_DEFAULT_SEED;
  const storage = params.storageHashTable ?? 'sorted-keys';
  let k: number;
  let lastCpDim = 0;
  let numRotations = 0;
  let rotationDim = dim;
  let hashBits: number;
  if (params.family === 'hyperplane') {
    k = params.k ?? bitsWanted!;
    hashBits = k;
  } else {
    numRotations = params.numRotations ?? 1;
    rotationDim = nextPowerOfTwo(dim);
    if (params.k !== undefined) {
      k = params.k;
      lastCpDim = params.lastCpDim ?? rotationDim;
      if (lastCpDim > rotationDim) {
        throw new RangeError(
          `LSH parameters: lastCpDim must be at most the rotation dimension ${rotationDim} (next power of two ≥ dim ${dim}), found ${lastCpDim}`,
        );
      }
    } else {
      const c = computeNumberOfHashFunctions(bitsWanted!, dim, { family: 'cross-polytope' });
      k = c.k;
      lastCpDim = c.lastCpDim;
    }
    hashBits = crossPolytopeHashBits(rotationDim, k, lastCpDim);
  }
  if (bitsWanted !== undefined && bitsWanted !== hashBits) {
    throw new RangeError(
      `LSH parameters: k = ${k}${params.family === 'cross-polytope' ? `, lastCpDim = ${lastCpDim} (rotation dimension ${rotationDim})` : ''} give ${hashBits} bits per table, but hashBits = ${params.hashBits}`,
    );
  }
  if (hashBits > MAX_HASH_BITS) {
    throw new RangeError(
      `LSH parameters: at most ${MAX_HASH_BITS} bits per table (keys are exact JavaScript integers), found ${hashBits} (k = ${k})`,
    );
  }
  if (storage === 'flat' && hashBits > MAX_FLAT_HASH_BITS) {
    throw new RangeError(
      `LSH parameters: storageHashTable 'flat' holds at most ${MAX_FLAT_HASH_BITS} bits per table, found ${hashBits}; use 'sorted-keys'`,
    );
  }
  return {
    family: params.family,
    distance: params.distance,
    l: params.l,
    k,
    lastCpDim,
    numRotations,
    seed,
    storageHashTable: storage,
    dim,
    rotationDim,
    hashBits,
  };
}
