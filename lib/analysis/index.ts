/** Explanations: which inputs to look at, what their neighbours say per layer, suspicious labels. */
export { correctlyClassified, leastCredible, misclassified } from './select';
export { candidateLabelsFigure, layerEvidence, layerNonconformity, neighborLabelsFigure, suspiciousLabels, type LayerEvidence, type SuspiciousLabels } from './evidence';
