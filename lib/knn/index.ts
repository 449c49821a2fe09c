/** `dk.knn`: nearest-neighbor indexes (exact, LSH, HNSW), their factories for the DkNN, and how to compare them. */
export type { KnnResult, NeighborIndex, NeighborIndexFactory, QueryOptions } from './types';
export { ExactIndex, exactIndexFactory } from './exact/exact';
export { LshIndex, lshIndexFactory, type LshIndexFactoryOptions, type LshIndexOptions } from './lsh/lsh';
export { AUTO_PRESET, FALCONN_DEFAULT_SEED, PAPER_PRESET, type LshParameters } from './lsh/params';
export type { LshTuneOptions, LshTuning } from './lsh/tune';
export {
  HNSW_DEFAULTS,
  HnswIndex,
  hnswIndexFactory,
  hnswUnavailable,
  type HnswIndexFactoryOptions,
  type HnswParameters,
} from './hnsw/hnsw';
export { Preprocessor } from './preprocess';
export { agreement, recallAtK, type Agreement } from './compare';
export type { ExactBackend, ExactIndexOptions } from './exact/options';
