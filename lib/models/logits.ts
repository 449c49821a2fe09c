/**
 * The DkNN, the attacks and the DNN's confidence read a model's output as **logits** and apply the
 * softmax themselves. A model whose last layer already applies a softmax (or a sigmoid) would get
 * it twice, silently. {@link logitsModel} detects such a head and returns a model that outputs its
 * input instead: the pre-activation of the last layer, i.e. the logits.
 */
import * as tf from '@tensorflow/tfjs';

/** The squashing activations a classifier's head may end with. */
export type HeadActivation = 'softmax' | 'sigmoid';

/** A layer's own activation name ('linear' for none), as tfjs serializes it. */
function activationOf(layer: tf.layers.Layer): string {
  const className = layer.getClassName();
  if (className === 'Softmax') return 'softmax';
  const a = layer.getConfig()['activation'];
  return typeof a === 'string' ? a : 'linear';
}

/** The layer that makes the model's single output (null for a model with several outputs). */
function outputLayer(model: tf.LayersModel): tf.layers.Layer | null {
  return model.outputs.length === 1 ? (model.outputs[0]!.sourceLayer as tf.layers.Layer) : null;
}

/** The activation the model's (single) output ends with, when it is a softmax or a sigmoid; else null. */
export function headActivation(model: tf.LayersModel): HeadActivation | null {
  const last = outputLayer(model);
  if (!last) return null;
  const a = activationOf(last);
  return a === 'softmax' || a === 'sigmoid' ? a : null;
}

const memo = new WeakMap<tf.LayersModel, tf.LayersModel>();

/**
 * `model` itself when its output is already logits; otherwise a model sharing its layers whose
 * output is the pre-activation of the last layer (a `Softmax`/`Activation` layer is dropped; a
 * `Dense` layer with a softmax or sigmoid is replaced by a linear copy of the same name and weights,
 * so the layer names a DkNN reads stay valid). `onWarning` (default: a process warning) is told
 * once per model what was done.
 * @throws Error when the head ends with a softmax or sigmoid inside another kind of layer (e.g. a
 * convolution), saying how to make the model end with logits.
 */
export function logitsModel(
  model: tf.LayersModel,
  options: { onWarning?: (message: string) => void } = {},
): tf.LayersModel {
  const done = memo.get(model);
  if (done) return done;
  const activation = headActivation(model);
  if (activation === null) return model;
  const last = outputLayer(model)!;
  const className = last.getClassName();
  let out: tf.LayersModel;
  if (className === 'Softmax' || className === 'Activation') {
    out = tf.model({ inputs: model.inputs, outputs: last.input as tf.SymbolicTensor, name: `${model.name}_logits` });
  } else if (className === 'Dense') {
    const config = last.getConfig();
    const linear = tf.layers.dense({
      units: Number(config['units']),
      useBias: Boolean(config['useBias']),
      name: last.name,
    });
    const output = linear.apply(last.input as tf.SymbolicTensor) as tf.SymbolicTensor;
    linear.setWeights(last.getWeights());
    out = tf.model({ inputs: model.inputs, outputs: output, name: `${model.name}_logits` });
  } else {
    throw new Error(
      `the model's last layer ${last.name} (${className}) applies a ${activation}, but the DkNN and the attacks need ` +
        `logits (they apply the softmax themselves); end the model with a linear layer, or with a separate ` +
        `tf.layers.activation({ activation: '${activation}' }) layer, which dknn-ts then skips`,
    );
  }
  const meta = model.getUserDefinedMetadata();
  if (meta) out.setUserDefinedMetadata(meta);
  memo.set(model, out);
  memo.set(out, out);
  (options.onWarning ?? ((m: string) => process.emitWarning(m, 'DkNNWarning')))(
    `the model's last layer ${last.name} applies a ${activation}; dknn-ts uses its input as the logits ` +
      `(the DkNN and the attacks apply the softmax themselves)`,
  );
  return out;
}
