import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { createMnistCnn, MNIST_CNN_DKNN_LAYERS, type MnistCnnArgs } from './mnist-cnn';
import { loadModelTensors, modelTensors, readWeightsFile, WeightsFormatError, writeWeightsFile } from './serialize';

/** An architecture of the zoo: how to build it, and the layers the DkNN reads by default. */
export interface ZooEntry {
  create(args: Record<string, unknown>): tf.LayersModel;
  dknnLayers: readonly string[];
  /** Committed pretrained weights, relative to the data folder. */
  pretrained?: string;
}

/** The model zoo, by architecture name. */
export const MODEL_ZOO: Record<string, ZooEntry> = {
  'mnist-cnn': {
    create: (args) => createMnistCnn(args as MnistCnnArgs),
    dknnLayers: MNIST_CNN_DKNN_LAYERS,
    pretrained: 'pretrained/mnist-cnn.dknnw',
  },
};

/** The architecture of a saved model: its zoo name and the arguments it was built with. */
export interface Architecture {
  name: string;
  args: Record<string, unknown>;
}

/** Builds a fresh model of the zoo. The caller owns it. */
export function createModel(architecture: Architecture): tf.LayersModel {
  const entry = MODEL_ZOO[architecture.name];
  if (!entry) throw new Error(`createModel: unknown architecture ${JSON.stringify(architecture.name)}; the zoo has ${Object.keys(MODEL_ZOO).join(', ')}`);
  return entry.create(architecture.args);
}

/** A model with what is known about it. */
export interface SavedModel {
  model: tf.LayersModel;
  architecture: Architecture;
  /** Free-form record stored with the weights (training parameters, accuracy, …). */
  record: Record<string, unknown>;
}

/** Saves `model`'s weights with its architecture and a record, atomically, to one `.dknnw` file. */
export function saveModel(path: string, model: tf.LayersModel, architecture: Architecture, record: Record<string, unknown> = {}): void {
  writeWeightsFile(path, modelTensors(model), { kind: 'model', architecture, record });
}

/** Loads a model saved by {@link saveModel}: rebuilds the architecture and sets the weights. The caller owns the model. */
export function loadModel(path: string): SavedModel {
  const file = readWeightsFile(path);
  const meta = file.header.meta as { kind?: string; architecture?: Architecture; record?: Record<string, unknown> };
  if (meta.kind !== 'model' || !meta.architecture) {
    throw new WeightsFormatError(`${path}: expected a saved model (meta.kind "model"), found ${JSON.stringify(meta.kind)}`);
  }
  const model = createModel(meta.architecture);
  try {
    loadModelTensors(model, file.tensors, path);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, architecture: meta.architecture, record: meta.record ?? {} };
}

/** Path of the committed pretrained weights of a zoo architecture, inside `dataDir`. */
export function pretrainedPath(name: string, dataDir: string): string {
  const entry = MODEL_ZOO[name];
  if (!entry?.pretrained) throw new Error(`pretrainedPath: no pretrained weights for ${JSON.stringify(name)}; available: ${Object.entries(MODEL_ZOO).filter(([, e]) => e.pretrained).map(([n]) => n).join(', ')}`);
  return join(dataDir, entry.pretrained);
}

/** One row of {@link modelSummary}. */
export interface LayerSummary {
  layer: string;
  type: string;
  outputShape: string;
  params: number;
}

/** The layers of `model` with their output shapes and parameter counts (like Keras' `summary()`, as data). */
export function modelSummary(model: tf.LayersModel): LayerSummary[] {
  return model.layers.map((l) => ({
    layer: l.name,
    type: l.getClassName(),
    outputShape: JSON.stringify(l.outputShape).replace(/null/g, 'N'),
    params: l.countParams(),
  }));
}
