/** `dk.plots`: every figure and table (data in, figure out), one palette. */
export type { Figure } from './plotly';
export { html, markdown, type Html, type Markdown, type Png } from './html';
export { PALETTE, seriesColor } from './palette';
export { table, adversarialSetTable, classCountTable, dknnConfigTable, epochTable, modelSummaryTable } from './tables';
export { summaryTable, type ReferenceNumbers, type SummaryRow } from './summary-table';
export { dataFrame } from './dataframe';
export { correctWrongHistogram, credibilityHistogram, reliabilityComparison, sampleGrid } from './dknn-figures';
export {
  histogramFigure,
  reliabilityFigure,
  type HistogramGroup,
  type HistogramOptions,
  type ReliabilityPanel,
} from './reliability';
export { adversarialGallery, neighborGallery, type GallerySet, type NeighborGalleryOptions } from './gallery';
export { trainingCurvesFigure } from './training';
export { tweakPanel, type TweakPanelOptions } from './tweak-panel';
export { sweepKFigure, sweepLayersFigure } from './sweep';
export { coverageFigure } from './sets';
export { oodCurveFigure, oodRocFigure, oodTable, type OodReference } from './ood';
export {
  detectorAurocFigure,
  detectorTable,
  detectorVerdictText,
  odinTuningText,
  METRIC_NAMES,
  type DetectorTableOptions,
} from './ood-detectors';
export { candidateLabelsFigure, neighborLabelsFigure } from './evidence';
export {
  agreementScatterFigure,
  indexComparisonTable,
  probesPerLayer,
  recallPerLayerTable,
  type IndexComparison,
} from './comparison';
export { knnBenchTable, readBenchResults, recallTimeFigures, type KnnBenchResults } from './knn-bench';
export { encodePng, imageGrid } from './png';
