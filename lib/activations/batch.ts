/**
 * One batch of activations on this thread: the sub-model with an output per named layer (sharing
 * the model's layers and weights) runs images [b, e) of the data, and each output lands in its
 * layer's array at row `b − rowZero`. `extractActivations` runs every batch this way on one
 * thread; the worker pool runs this thread's share of the batches this way too, so a batch gives
 * the same values whichever thread computes it.
 */
import * as tf from '@tensorflow/tfjs';
import { activeWasmBackend } from '../native/tfjs-wasm';
import type { ImageBatch } from '../data/types';

/** A model with one output per layer of `layers` (never dispose it: that would dispose the shared weights). */
export function layersModel(model: tf.LayersModel, layers: readonly string[]): tf.LayersModel {
  return tf.model({
    inputs: model.inputs,
    outputs: layers.map((name) => model.getLayer(name).output as tf.SymbolicTensor),
  });
}

/** Runs `sub` on images [b, e) of `data` and writes layer l's rows into `out[l]` from row `b − rowZero`. */
export async function extractBatchHere(
  sub: tf.LayersModel,
  data: ImageBatch,
  b: number,
  e: number,
  out: readonly Float32Array[],
  dims: readonly number[],
  rowZero: number,
): Promise<void> {
  const { height, width, channels } = data;
  const pixels = height * width * channels;
  const outputs = tf.tidy(() => {
    const x = tf.tensor4d(data.images.subarray(b * pixels, e * pixels), [e - b, height, width, channels]);
    const y = sub.predictOnBatch(x);
    return Array.isArray(y) ? y : [y];
  });
  // On the wasm backend the rows are copied straight from its heap: no array per batch and layer
  // (a 12 MB one per ReLU1 batch of 250 on MNIST) for the allocator to keep.
  const heap = activeWasmBackend();
  try {
    for (let l = 0; l < out.length; l++) {
      const values =
        heap && outputs[l].dtype === 'float32' ? heap.typedArrayFromHeap(outputs[l]) : await outputs[l].data();
      out[l].set(values as Float32Array, (b - rowZero) * dims[l]);
    }
  } finally {
    tf.dispose(outputs);
  }
}

/**
 * The float32 offsets in a worker's staging slot (`activation-workers.ts`) of a batch of `count`
 * images: the images (count × pixels) from 0, then each layer's rows (count × dims[l]) in order.
 */
export function slotLayout(
  count: number,
  pixels: number,
  dims: readonly number[],
): { layers: number[]; floats: number } {
  let at = count * pixels;
  const layers = dims.map((d) => {
    const here = at;
    at += count * d;
    return here;
  });
  return { layers, floats: at };
}
