/** Data loading: IDX parsing, checksums, MNIST/notMNIST loaders, splits. */
export {
  IDX_DEFAULT_MAX_ELEMENTS,
  IDX_ELEMENT_BYTES,
  IDX_MAX_DIMS,
  IDX_TYPE_CODES,
  IdxFormatError,
  encodeIdx,
  parseIdx,
  readIdxFile,
  readIdxFileSync,
} from './idx';
export type { IdxArray, IdxDtype, IdxParseOptions, IdxTypedArray } from './idx';
export {
  ChecksumError,
  Sha256SumsFormatError,
  parseSha256Sums,
  readSha256Sums,
  sha256Bytes,
  sha256File,
  verifyBytes,
  verifyFile,
} from './checksum';
export {
  MNIST_CLASS_NAMES,
  MNIST_FILES,
  NOTMNIST_CLASS_NAMES,
  NOTMNIST_FILES,
  classCounts,
  clearDatasetCache,
  dataDir,
  loadMnist,
  loadNotMnist,
  loadGtsrb,
  GTSRB_FILES,
  parseCsvLine,
} from './datasets';
export type { ImageDataset, LoadOptions } from './datasets';
export { gather, samplePerClass, seededPermutation, splitByGroup, subset, toTensors } from './split';
export { gaussianClusters, type GaussianClustersOptions } from './synthetic';
export { datasetEntry, datasetNames, loadDataset, registerDataset, type DatasetEntry, type DatasetSplits } from './registry';
export { rotateImages } from './transforms';
