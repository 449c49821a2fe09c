export { createMnistCnn, initialiseUnitNorm, MNIST_CNN_DKNN_LAYERS, type MnistCnnArgs } from './mnist-cnn';
export { loadModelTensors, modelHash, modelTensors, ModelFormatError, type StoredTensor } from './weights';
export { readWeightsFile, writeWeightsFile, type WeightsFile, type WeightsHeader } from './legacy';
export { loadModel, MODEL_JSON, MODEL_WEIGHTS, saveModel, type SavedModel } from './format';
export { dknnMetadata, setDknnMetadata, type DkNNModelMetadata } from './metadata';
export { argmaxRows, evaluateAccuracy, predictLogits, randomShiftAugment, trainModel, type EpochRecord, type LabelledImages, type StepRecord, type TrainArgs, type TrainResult } from './train';
export { createModel, MODEL_ZOO, modelSummary, pretrainedPath, type Architecture, type LayerSummary, type ZooEntry } from './zoo';
export { trainingHistory, type TrainingHistory } from './record';
