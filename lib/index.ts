/**
 * dknn-ts — Deep k-Nearest Neighbors (Papernot & McDaniel 2018) in TypeScript.
 * Public API only: data → model → activations → indexes → calibration → predictions → figures.
 */
export * as tf from '@tensorflow/tfjs';
export { backendInfo, initBackend, BACKEND_NAMES, type BackendInfo, type BackendName, type InitBackendOptions } from './backend';
export { registerFastWasmKernels, useStockWasmKernels, wasmKernelMode, FAST_WASM_KERNELS } from './kernels';
export * from './data';
export { createRng, type Rng } from './random';
export * from './models';
export * from './knn';
export * from './conformal';
export * from './metrics';
export * from './plots';
export * from './progress';
export * from './notebook';
export * from './artefacts';
export { DEFAULT_ACTIVATION_BATCH, extractActivations, layerDims, outputLayerName, type Activations, type ExtractActivationsOptions, type ImageBatch, type LayerActivations } from './activations';
export { activationCacheParts, cachedActivations, type CachedActivations, type CachedActivationsOptions } from './activation-cache';
export { CALL_CALIBRATE_BEFORE_PREDICT, CALL_FIT_BEFORE_CALIBRATE, DkNN, exactIndexFactory, type DkNNInfo, type DkNNOptions, type DkNNPrediction, type DkNNRunOptions, type LabelledImageBatch, type LayerNeighbors, type NeighborIndexFactory } from './dknn';
export * from './attacks';
export { compareIndexes, type CompareIndexesOptions, type IndexComparisonRow, type IndexConfig, type IndexRun } from './dknn-compare';
