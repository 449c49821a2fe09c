/** Nearest-neighbour search: the index contract, preprocessing and the exact index. */
export type { KnnResult, NeighborIndex, QueryOptions } from './types';
export { NOT_BUILT_MESSAGE } from './checks';
export { ExactIndex, type ExactBackend, type ExactIndexOptions, type ExactQueryStats } from './exact';
export { applyCentre, fitCentre, normaliseRows, Preprocessor, PREPROCESSOR_NOT_FITTED } from './preprocess';
export { TopK } from './topk';
