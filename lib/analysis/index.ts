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
