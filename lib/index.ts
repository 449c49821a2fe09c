/**
 * dknn-ts — Deep k-Nearest Neighbors (Papernot & McDaniel 2018) in TypeScript.
 *
 * The root holds what a notebook calls on the main path, in pipeline order: the engine, an
 * experiment (data, splits, model), the DkNN, summaries, the common figures and tables, `show`, the
 * attack values. Everything else is in a namespace: `dk.data`, `dk.models`, `dk.training`,
 * `dk.engine`, `dk.knn`, `dk.conformal`, `dk.activations`, `dk.dknn`, `dk.attacks`,
 * `dk.analysis`, `dk.plots`, `dk.report`, `dk.metrics`, `dk.artifacts`. `dk.tf` is the tfjs the
 * library runs on: build your own model with it, after `initBackend()`.
 */
export * as tf from '@tensorflow/tfjs';
export { initBackend } from './engine/backend';

// An experiment: engine, data, splits and model in one call.
export { Experiment, setupExperiment, type ExperimentOptions } from './experiment/experiment';
export { parameters } from './report/parameters';
export { show, type Displayable } from './report/display';
export { loadDataset, subset } from './data';
export type { ImageDataset, LabeledImages } from './data/types';
export { loadModel } from './models/format';
export { loadOnnxModel } from './models/onnx';

// The DkNN.
export { DkNN } from './dknn/dknn';
export type { DkNNOptions, DkNNPrediction } from './dknn/types';
export type { PValueFormula } from './conformal/calibrator';

// Numbers: summaries, inputs worth a look, published results.
export { perInputColumns, summarizePrediction, type PredictionSummary } from './analysis/summary';
export { correctlyClassified, leastCredible, misclassified } from './analysis/select';
export { CLEVERHANS_RUNS, PAPER } from './data/reference';

// The common figures and tables.
export { adversarialSetTable, dknnConfigTable, table } from './plots/tables';
export { summaryTable } from './plots/summary-table';
export { correctWrongHistogram, credibilityHistogram, reliabilityComparison, sampleGrid } from './plots/dknn-figures';
export { adversarialGallery, neighborGallery } from './plots/gallery';

// Attacks as values.
export { bimAttack, cwL2Attack, fgsmAttack, type Attack } from './attacks/attack';
export { paperAttacks } from './attacks/presets';
export type { GradientSemantics } from './attacks/utils';

// Namespaces.
export * as data from './data';
export * as models from './models';
export * as training from './training';
export * as engine from './engine';
export * as knn from './knn';
export * as conformal from './conformal';
export * as activations from './activations';
export * as dknn from './dknn';
export * as attacks from './attacks';
export * as analysis from './analysis';
export * as plots from './plots';
export * as report from './report';
export * as metrics from './metrics';
export * as artifacts from './artifacts';
