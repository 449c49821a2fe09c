/**
 * The seam between the DkNN and its model: a {@link ClassifierModel} is a tfjs LayersModel or an
 * ONNX classifier ({@link loadOnnxModel}), and the few things the DkNN and the activations ask of
 * either — its layer names, its output size, the hash that keys the caches, the engine the
 * activations come from — are answered here; the forward passes are `extractActivations`'.
 */
import type * as tf from '@tensorflow/tfjs';
import { engineKey } from '../engine/kernels';
import { logitsModel } from './logits';
import { isOnnxModel, type OnnxModel } from './onnx';
import { modelHash } from './weights';

/** A model the DkNN and the activations take: a tfjs LayersModel, or an ONNX image classifier. */
export type ClassifierModel = tf.LayersModel | OnnxModel;

/** The sha256 that keys every cache derived from the model (a tfjs model's weights, an ONNX model's file). */
export function classifierHash(model: ClassifierModel): string {
  return isOnnxModel(model) ? model.hash : modelHash(model);
}

/** The names a DkNN's `layers` may take: a tfjs model's layers, an ONNX model's candidate tensors. */
export function classifierLayerNames(model: ClassifierModel): string[] {
  return isOnnxModel(model) ? model.layers() : model.layers.map((l) => l.name);
}

/** The size of the model's output (its logits' last axis), or null when it is not known. */
export function classifierOutputDim(model: ClassifierModel): number | null {
  if (isOnnxModel(model)) return model.numClasses;
  const shape = model.outputs[0].shape;
  const d = shape[shape.length - 1];
  return typeof d === 'number' ? d : null;
}

/**
 * `model` when it is a tfjs model.
 * @throws for an ONNX model, naming `where` and saying that it has no tfjs layers nor gradients.
 */
export function tfjsModel(model: ClassifierModel, where: string): tf.LayersModel {
  if (!isOnnxModel(model)) return model;
  throw new Error(
    `${where}: expected a tfjs model, found the ONNX model ${model.name}; what needs a tfjs model's layers or gradients (the gradient attacks, ODIN) cannot run on it`,
  );
}

/** What the activation cache records as the engine that computed them. */
export function classifierEngineKey(model: ClassifierModel): string {
  return isOnnxModel(model) ? model.engineKey : engineKey();
}

/**
 * The model whose output is logits: an ONNX model as it is (`loadOnnxModel` chose its logits), a
 * tfjs model through {@link logitsModel} (its softmax head dropped, with a warning).
 */
export function logitsClassifier(
  model: ClassifierModel,
  options: { onWarning?: (message: string) => void } = {},
): ClassifierModel {
  return isOnnxModel(model) ? model : logitsModel(model, options);
}
