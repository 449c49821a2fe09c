/** `dk.analysis`: typed rows computed from predictions: summaries, out of distribution, explanations, sweeps, attacks. */
export {
  perInputColumns,
  summarizePrediction,
  type PerInputOptions,
  type PredictionSummary,
  type SummaryOptions,
} from './summary';
export { correctlyClassified, leastCredible, misclassified } from './select';
export {
  evidenceByLayer,
  layerEvidence,
  layerNonconformity,
  suspiciousLabels,
  type LayerEvidence,
  type LayerEvidenceMean,
  type SuspiciousLabels,
} from './evidence';
export { oodRocCurves, outOfDistribution, type OodRocCurve, type OodRow } from './ood';
export { sweepK, sweepLayers, type SweepRow } from './sweep';
export { worstCaseOverAttacks, type AttackRun, type WorstCase } from './worst-case';
export {
  adaptiveAttackSweep,
  type AdaptiveSweepOptions,
  type AdaptiveSweepRow,
  type AttackBench,
} from './adaptive-sweep';
export { adversarialSetRows, type AdversarialSetRow } from './adversarial';
export {
  credibilityScore,
  energyScore,
  knnDistanceScore,
  maxSoftmaxScore,
  type InDistributionScores,
  type Rows,
} from './ood-scores';
export { fitMahalanobis, mahalanobisScore, type MahalanobisModel } from './mahalanobis';
export {
  ODIN_GRID,
  odinScore,
  permutedPixels,
  tuneOdin,
  type OdinGridPoint,
  type OdinParameters,
  type OdinScoreOptions,
  type OdinTuning,
  type TuneOdinOptions,
} from './odin';
export {
  fitOodDetectors,
  OOD_DETECTORS,
  type DetectorName,
  type DetectorScores,
  type OodDetectors,
  type OodDetectorsOptions,
} from './ood-detectors';
export {
  compareDetectors,
  detectorVerdict,
  METRIC_DIRECTION,
  type CompareDetectorsOptions,
  type DetectorRow,
  type DetectorSummary,
  type DetectorVerdict,
  type HeadToHead,
  type ShiftedScores,
  type ShiftGroup,
} from './ood-benchmark';
