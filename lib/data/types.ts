/**
 * The image-set type, in one place: images as flat NHWC float32 with their shape
 * ({@link ImageBatch}), the same with labels ({@link LabeledImages}: what the DkNN, training and
 * the attacks on the DkNN take), and a loaded dataset split ({@link ImageDataset}: labeled images
 * with everything the loaders know). Each extends the one before, so a dataset split goes wherever
 * labeled images or plain images are asked for.
 */

/** Images as flat NHWC float32. */
export interface ImageBatch {
  /** n × height × width × channels values, NHWC. */
  images: Float32Array;
  n: number;
  height: number;
  width: number;
  channels: number;
}

/** Labeled images. */
export interface LabeledImages extends ImageBatch {
  /** n class indices in [0, numClasses). */
  labels: ArrayLike<number>;
  /** Number of classes (the DkNN's fit uses it when its options give none). */
  numClasses?: number;
  /** Name for cache records and tables, e.g. 'mnist-train'. */
  name?: string;
  /** The range every pixel lies in (e.g. [0, 1]); when the training set gives one, the DkNN checks inputs against it. */
  pixelRange?: readonly [number, number];
}

/** A dataset split as the loaders return it. */
export interface ImageDataset extends LabeledImages {
  /** e.g. 'mnist-train', 'notmnist'. */
  name: string;
  /** n class indices in [0, numClasses). */
  labels: Uint8Array;
  numClasses: number;
  /** Human-readable name of each class index. */
  classNames: string[];
  /**
   * The group of each example (e.g. GTSRB's track: frames of one physical sign), when the data
   * have groups: validation splits keep every group on one side (see `splitByGroup`).
   */
  groups?: Int32Array;
  /** Source file (relative to the data dir, '/'-separated) -> lower-case hex SHA-256. */
  checksums: Record<string, string>;
}
