/** `dk.dknn`: the DkNN, re-scoring, prediction sets and the comparison of its indexes. */
export { DkNN } from './dknn';
export type { DkNNInfo, DkNNOptions, DkNNPrediction, DkNNRunOptions, LayerNeighbors } from './types';
export type { RescoreOptions } from './rescore';
export { coverageCurve, predictionSets, setPValues, type SetOptions } from './prediction-sets';
export {
  compareIndexes,
  type CompareIndexesOptions,
  type IndexComparisonRow,
  type IndexConfig,
  type IndexRun,
} from './compare';
