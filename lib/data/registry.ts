/**
 * The dataset registry: datasets by name, each loading its train and test splits as
 * {@link ImageDataset}s whose shapes, class counts and class names come from the data itself.
 * `setupExperiment({ dataset: 'mnist' })` looks names up here; a user's own dataset takes the same
 * path through {@link registerDataset} (or by passing the splits directly).
 */
import { loadGtsrb, loadMnist, loadNotMnist, type LoadOptions } from './datasets';
import type { ImageDataset } from './types';

/** A dataset's splits. `train` is absent for evaluation-only sets (e.g. notMNIST). */
export interface DatasetSplits {
  /** Registry name, e.g. 'mnist'. */
  name: string;
  train?: ImageDataset;
  test: ImageDataset;
}

/** How a registered dataset loads, and what goes with it. */
export interface DatasetEntry {
  /** One line for tables and reports. */
  description: string;
  load(options?: LoadOptions): Promise<DatasetSplits>;
  /** The zoo architecture whose committed weights were trained on it, if any. */
  pretrained?: string;
}

const REGISTRY = new Map<string, DatasetEntry>([
  ['mnist', {
    description: 'MNIST handwritten digits: 60,000 train / 10,000 test, 28×28 grey, 10 classes',
    load: async (o) => ({ name: 'mnist', ...(await loadMnist(o)) }),
    pretrained: 'mnist-cnn',
  }],
  ['gtsrb', {
    description: 'GTSRB traffic signs: 39,209 train (with tracks) / 12,630 test, 32×32 RGB, 43 classes',
    load: async (o) => ({ name: 'gtsrb', ...(await loadGtsrb(o)) }),
    pretrained: 'gtsrb-vgg',
  }],
  ['notmnist', {
    description: 'notMNIST letters A–J: a 10,000-image sample, 28×28 grey (out-of-distribution data for MNIST models)',
    load: async (o) => ({ name: 'notmnist', test: await loadNotMnist(o) }),
  }],
]);

/** Adds (or replaces) a dataset under `name`. */
export function registerDataset(name: string, entry: DatasetEntry): void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`registerDataset: name must be lower-case letters, digits and dashes, found ${JSON.stringify(name)}`);
  if (typeof entry?.load !== 'function') throw new Error(`registerDataset: ${name}: expected an entry with a load() function`);
  REGISTRY.set(name, entry);
}

/** Names of the registered datasets. */
export function datasetNames(): string[] {
  return [...REGISTRY.keys()];
}

/** The registry entry of `name`. @throws listing the registered names. */
export function datasetEntry(name: string): DatasetEntry {
  const entry = REGISTRY.get(name);
  if (!entry) throw new Error(`unknown dataset ${JSON.stringify(name)}; registered: ${datasetNames().join(', ')}`);
  return entry;
}

/** Loads the registered dataset `name` (checksums verified by its loader). */
export async function loadDataset(name: string, options?: LoadOptions): Promise<DatasetSplits> {
  return datasetEntry(name).load(options);
}
