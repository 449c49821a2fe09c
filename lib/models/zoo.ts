import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { setDknnMetadata, type Architecture } from './metadata';
import { createMnistCnn, MNIST_CNN_DKNN_LAYERS, type MnistCnnArgs } from './mnist-cnn';
import { createVggCnn, VGG_CNN_DKNN_LAYERS, type VggCnnArgs } from './vgg-cnn';

/** An architecture of the zoo: how to build it, and the layers the DkNN reads by default. */
export interface ZooEntry {
  create(args: Record<string, unknown>): tf.LayersModel;
  dknnLayers: readonly string[];
  /** Committed pretrained model folder, relative to the data folder. */
  pretrained?: string;
}

/** The model zoo, by architecture name. */
export const MODEL_ZOO: Readonly<Record<string, ZooEntry>> = Object.freeze({
  'mnist-cnn': {
    create: (args: Record<string, unknown>) => createMnistCnn(args as MnistCnnArgs),
    dknnLayers: MNIST_CNN_DKNN_LAYERS,
    pretrained: 'pretrained/mnist-cnn',
  },
  // CleverHans' basic CNN for 32×32 RGB inputs and GTSRB's 43 classes (the paper's GTSRB network
  // is not published): ReLU1 16×16×64, ReLU3 6×6×128, ReLU5 2×2×128, logits 43.
  'gtsrb-cnn': {
    create: (args: Record<string, unknown>) =>
      createMnistCnn({ height: 32, width: 32, channels: 3, numClasses: 43, ...(args as MnistCnnArgs) }),
    dknnLayers: MNIST_CNN_DKNN_LAYERS,
    pretrained: 'pretrained/gtsrb-cnn',
  },
  // The same network behind a per-image standardisation layer (zero mean, unit variance per image,
  // as tf.image.per_image_standardization): photographs of one sign vary mostly in lighting.
  'gtsrb-cnn-std': {
    create: (args: Record<string, unknown>) =>
      createMnistCnn({
        height: 32,
        width: 32,
        channels: 3,
        numClasses: 43,
        ...(args as MnistCnnArgs),
        standardize: true,
      }),
    dknnLayers: MNIST_CNN_DKNN_LAYERS,
    pretrained: 'pretrained/gtsrb-cnn-std',
  },
  // A wider network for GTSRB: three VGG blocks (2 × conv 3×3 + max-pool: 32, 64, 128 filters),
  // dense 256, logits 43; per-image standardisation first. DkNN layers: the three pooled blocks
  // (16×16×32, 8×8×64, 4×4×128), the dense layer and the logits.
  'gtsrb-vgg': {
    create: (args: Record<string, unknown>) =>
      createVggCnn({ height: 32, width: 32, channels: 3, numClasses: 43, ...(args as VggCnnArgs) }),
    dknnLayers: VGG_CNN_DKNN_LAYERS,
    pretrained: 'pretrained/gtsrb-vgg',
  },
});

function zooEntry(name: unknown, where: string): ZooEntry {
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(MODEL_ZOO, name)) {
    throw new Error(
      `${where}: unknown architecture ${JSON.stringify(name)}; the zoo has ${Object.keys(MODEL_ZOO).join(', ')}`,
    );
  }
  return MODEL_ZOO[name];
}

/** Builds a fresh model of the zoo, its DkNN layers and architecture recorded in its metadata. The caller owns it. */
export function createModel(architecture: Architecture): tf.LayersModel {
  const entry = zooEntry(architecture?.name, 'createModel');
  const model = entry.create(architecture.args ?? {});
  setDknnMetadata(model, {
    layers: [...entry.dknnLayers],
    architecture: { name: architecture.name, args: architecture.args ?? {} },
    output: 'logits',
  });
  return model;
}

/** Path of the committed pretrained model folder of a zoo architecture, inside `dataDir`. */
export function pretrainedPath(name: string, dataDir: string): string {
  const entry = zooEntry(name, 'pretrainedPath');
  if (!entry.pretrained)
    throw new Error(
      `pretrainedPath: no pretrained weights for ${JSON.stringify(name)}; available: ${Object.entries(MODEL_ZOO)
        .filter(([, e]) => e.pretrained)
        .map(([n]) => n)
        .join(', ')}`,
    );
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
