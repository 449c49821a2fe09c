export { createMnistCnn, initialiseUnitNorm, MNIST_CNN_DKNN_LAYERS, type MnistCnnArgs } from './mnist-cnn';
export { modelHash, readWeightsFile, writeWeightsFile, WeightsFormatError, type StoredTensor, type WeightsFile, type WeightsHeader } from './serialize';
export { argmaxRows, evaluateAccuracy, predictLogits, trainModel, type EpochRecord, type LabelledImages, type StepRecord, type TrainArgs, type TrainResult } from './train';
export { createModel, loadModel, MODEL_ZOO, modelSummary, pretrainedPath, saveModel, type Architecture, type LayerSummary, type SavedModel, type ZooEntry } from './zoo';
