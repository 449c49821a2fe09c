/** Nearest-neighbour search: the index contract, preprocessing, the exact index, LSH (FALCONN-style) and HNSW. */
export type { KnnResult, NeighborIndex, QueryOptions } from './types';
export { NOT_BUILT_MESSAGE } from './checks';
export { ExactIndex, type ExactBackend, type ExactIndexOptions, type ExactQueryStats } from './exact/exact';
export { applyCentre, fitCentre, normaliseRows, Preprocessor, PREPROCESSOR_NOT_FITTED } from './preprocess';
export { TopK } from './topk';
export { fht, isPowerOfTwo } from './lsh/fht';
export {
  AUTO_PRESET,
  checkLshParameters,
  computeNumberOfHashFunctions,
  crossPolytopeHashBits,
  defaultHashBits,
  defaultLshParameters,
  FALCONN_DEFAULT_SEED,
  log2Ceil,
  MAX_FLAT_HASH_BITS,
  MAX_HASH_BITS,
  nextPowerOfTwo,
  PAPER_PRESET,
  resolveLshParameters,
  type DefaultLshOptions,
  type LshDistance,
  type LshFamily,
  type LshParameters,
  type LshStorage,
  type ResolvedLshParameters,
} from './lsh/params';
export { LshIndex, lshIndexFactory, LshQuery, type LshIndexOptions, type LshQueryOptions, type LshQueryStats } from './lsh/lsh';
export { crossPolytopeWasmUnavailable } from '../native/lsh-wasm';
export { dotErrorBound, dotWasmUnavailable, WasmRowStore } from '../native/dot-wasm';
export { meanLowerBound, recallWithoutSelf, searchNumProbes, type LshTuneOptions, type LshTunePoint, type LshTuning } from './lsh/tune';
export { HNSW_DEFAULTS, HnswIndex, hnswIndexFactory, hnswUnavailable, type HnswIndexOptions, type HnswParameters, type HnswQueryStats } from './hnsw/hnsw';
export { agreement, recallAtK, type Agreement, type PredictionLike } from './compare';
