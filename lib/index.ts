/**
 * dknn-ts — Deep k-Nearest Neighbors (Papernot & McDaniel 2018) in TypeScript.
 *
 * What a user calls, in the order of the pipeline: data → model → activations → indexes →
 * calibration → predictions → summaries and figures. Internals (kernels, LSH hashing, the
 * container format, …) are reachable through subpaths, e.g. `dknn-ts/dist/knn`, `dknn-ts/dist/artefacts`.
 */
export * as tf from '@tensorflow/tfjs';
export { backendInfo, initBackend, type BackendInfo, type BackendName, type InitBackendOptions } from './engine/backend';

// Experiments: engine + dataset + splits + model in one call, then the usual steps.
export { Experiment, setupExperiment, type ExperimentOptions, type FitDkNNOptions, type ModelInfo, type ProgressMode } from './experiment/experiment';

// Data.
export {
  classCounts, dataDir, datasetNames, gather, loadDataset, loadMnist, loadNotMnist, registerDataset, rotateImages, samplePerClass, seededPermutation, subset, toTensors,
  ChecksumError, IdxFormatError, type DatasetEntry, type DatasetSplits, type ImageDataset, type LoadOptions,
} from './data';

// Models.
export {
  createModel, dknnMetadata, evaluateAccuracy, loadModel, MODEL_ZOO, modelHash, modelSummary, ModelFormatError, predictLogits, pretrainedPath, saveModel,
  trainingHistory, trainModel, MNIST_CNN_DKNN_LAYERS,
  type Architecture, type DkNNModelMetadata, type EpochRecord, type SavedModel, type StepRecord, type TrainArgs, type TrainingHistory, type TrainResult,
} from './models';
export { extractActivations, type ImageBatch } from './activations/extract';

// The DkNN.
export { type RescoreOptions } from './dknn/rescore';
export { coverageCurve, coverageFigure, dknnPredictionSets, setPValues, type SetOptions } from './dknn/prediction-sets';
export { mondrianPValues, predictionSets, setCoverage, setSizeStats, type PredictionSets, type SetCoverage } from './conformal/sets';
export { sweepK, sweepKFigure, sweepLayers, sweepLayersFigure, type SweepRow } from './analysis/sweep';
export { DkNN, exactIndexFactory, type DkNNInfo, type DkNNOptions, type DkNNPrediction, type DkNNRunOptions, type LabelledImageBatch, type LayerNeighbors } from './dknn/dknn';
export { NOT_FITTED_SENTENCES, NotFittedError, type NotFittedStep } from './util/errors';
export { ConformalCalibrator, type PValueFormula } from './conformal/calibrator';
export type { MissingNeighborRule } from './conformal/nonconformity';
export { compareIndexes, type CompareIndexesOptions, type IndexComparisonRow, type IndexConfig, type IndexRun } from './dknn/compare';

// Nearest-neighbour indexes.
export type { KnnResult, NeighborIndex, NeighborIndexFactory } from './knn/types';
export { ExactIndex, type ExactIndexOptions } from './knn/exact/exact';
export { AUTO_PRESET, FALCONN_DEFAULT_SEED, PAPER_PRESET, type LshParameters } from './knn/lsh/params';
export { LshIndex, lshIndexFactory, type LshIndexOptions } from './knn/lsh/lsh';
export { HnswIndex, hnswIndexFactory, hnswUnavailable, type HnswIndexOptions } from './knn/hnsw/hnsw';
export { agreement, recallAtK, type Agreement } from './knn/compare';

// Attacks.
export {
  bim, bimAttack, carliniWagnerL2, cleverhansBim, craftAdversarial, cwL2Attack, dknnGuidedAttack, fgsm, fgsmAttack, logitsFn, adaptiveAttackSweep, meanOfClassAttack, paperAttacks, perturbationNorms, worstCaseOverAttacks, GRADIENT_SEMANTICS,
  type AdaptiveSweepRow, type AdversarialSet, type AttackRun, type WorstCase, type Attack, type BimOptions, type CarliniWagnerL2Options, type FgsmOptions, type GradientSemantics,
} from './attacks';

// Numbers: metrics, summaries, published results.
export { accuracy, expectedCalibrationError, histogram, reliabilityBins, rocAuc, rocCurve, type ReliabilityDiagram, type RocCurve } from './metrics/classification';
export { dataFrame, perInputColumns, summarizePrediction, summaryRecords, summaryTable, type PredictionSummary, type ReferenceNumbers, type SummaryRow } from './analysis/summary';
export { CLEVERHANS_RUNS, PAPER, SITAWARIN_WAGNER } from './data/reference';
export { candidateLabelsFigure, correctlyClassified, layerEvidence, layerNonconformity, leastCredible, misclassified, neighborLabelsFigure, suspiciousLabels, type LayerEvidence, type SuspiciousLabels } from './analysis';
export { oodCurveFigure, oodRocFigure, oodTable, outOfDistribution, type OodReference, type OodRow } from './analysis/ood';

// Figures and tables (data in, figure out) and the display helper.
export * from './plots';
export { html, markdown, notebookProgress, parameters, provenance, provenanceTable, readResults, reportDir, show, StageTimer, toCsv, writeResults, type Displayable, type NotebookResults, type Provenance } from './report';
export { htmlProgress, terminalProgress, type ProgressCallback, type ProgressEvent } from './util/progress';
