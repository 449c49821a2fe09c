/** `dk.models`: the model zoo, saving and loading, weight hashes and the DkNN metadata a model records. */
export { createModel, MODEL_ZOO, modelSummary, pretrainedPath, type LayerSummary, type ZooEntry } from './zoo';
export { createMnistCnn, MNIST_CNN_DKNN_LAYERS, type MnistCnnArgs } from './mnist-cnn';
export { createVggCnn, VGG_CNN_DKNN_LAYERS, type VggCnnArgs } from './vgg-cnn';
export { loadModel, saveModel, type LoadModelOptions, type SavedModel } from './format';
export { modelHash, ModelFormatError } from './weights';
export { dknnMetadata, setDknnMetadata, type Architecture, type DkNNModelMetadata } from './metadata';
export { PerImageStandardization, standardizeImages } from './standardize';
export { evaluateAccuracy, predictLogits } from './predict';
export { headActivation, logitsModel, type HeadActivation } from './logits';
export {
  isOnnxModel,
  loadOnnxModel,
  OnnxModel,
  type ImageLayout,
  type LoadOnnxModelOptions,
  type OnnxBatch,
  type OnnxLayerInfo,
} from './onnx';
export { classifierHash, classifierLayerNames, type ClassifierModel } from './classifier';
