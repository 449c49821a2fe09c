/** `dk.conformal`: nonconformity, calibration into p-values, credibility and confidence, prediction sets. */
export {
  knnCounts,
  nonconformity,
  scoresAtLabels,
  type LayerNeighborLabels,
  type MissingNeighborRule,
  type NonconformityScores,
} from './nonconformity';
export { ConformalCalibrator, type ConformalCalibratorOptions, type PValueFormula } from './calibrator';
export { conformalPredict, type ConformalPrediction } from './predict';
export {
  mondrianPValues,
  setCoverage,
  setSizeStats,
  setsFromPValues,
  type PredictionSets,
  type SetCoverage,
} from './sets';
