/** What dknn-ts knows about a model, kept in the model itself: `userDefinedMetadata.dknn`. */
import type * as tf from '@tensorflow/tfjs';

/** The architecture of a zoo model: its zoo name and the arguments it was built with. */
export interface Architecture {
  name: string;
  args: Record<string, unknown>;
}

/** What dknn-ts records in `userDefinedMetadata.dknn`. */
export interface DkNNModelMetadata {
  /** Layers the DkNN reads by default (e.g. the reference's ReLU1, ReLU3, ReLU5, logits). */
  layers?: string[];
  /** The zoo architecture the model was built from, when it was. */
  architecture?: Architecture | null;
  /** Free-form record (training parameters and history, accuracy, commit, …). */
  record?: Record<string, unknown>;
  /** Output of the model: 'logits' (dknn-ts models) — the DkNN applies the softmax itself. */
  output?: 'logits';
}

/** The dknn-ts metadata of a model (set by the zoo, by {@link saveModel} and {@link loadModel}), or {}. */
export function dknnMetadata(model: tf.LayersModel): DkNNModelMetadata {
  const m = model.getUserDefinedMetadata() as { dknn?: DkNNModelMetadata } | undefined;
  return m?.dknn && typeof m.dknn === 'object' ? m.dknn : {};
}

/** Merges `meta` into the model's `userDefinedMetadata.dknn`. */
export function setDknnMetadata(model: tf.LayersModel, meta: DkNNModelMetadata): void {
  const current = (model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  model.setUserDefinedMetadata({ ...current, dknn: { ...dknnMetadata(model), ...meta } });
}
