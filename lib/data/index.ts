/** `dk.data`: datasets (registered and your own), their splits, IDX files, checksums and the published numbers. */
export type { ImageBatch, ImageDataset, LabeledImages } from './types';
export { dataDir, classCounts, loadMnist, loadNotMnist, loadGtsrb, MNIST_CLASS_NAMES, NOTMNIST_CLASS_NAMES, type LoadOptions } from './datasets';
export { datasetEntry, datasetNames, loadDataset, registerDataset, type DatasetEntry, type DatasetSplits } from './registry';
export { gather, samplePerClass, seededPermutation, splitByGroup, subset, toTensors } from './split';
export { rotateImages } from './transforms';
export { gaussianClusters, type GaussianClustersOptions } from './synthetic';
export { encodeIdx, IdxFormatError, parseIdx, readIdxFile, type IdxArray, type IdxDtype } from './idx';
export { ChecksumError, readSha256Sums, sha256File, verifyFile } from './checksum';
export { CLEVERHANS_RUNS, PAPER, SITAWARIN_WAGNER, type PaperRow, type Source } from './reference';
