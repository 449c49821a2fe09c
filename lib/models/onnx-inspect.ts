/**
 * What `loadOnnxModel` (onnx.ts) learns of an ONNX model before it runs it: its image input and
 * layout, the layout of every tensor, the candidate layers with their shapes (the model run once),
 * and the logits tensor (a softmax head's input).
 */
import { basename } from 'node:path';
import { createOnnxSession } from '../native/onnx-session';
import { withGraphOutputs, ONNX_FLOAT, type OnnxGraphInfo, type OnnxNode } from './onnx-proto';

/** The memory layout of an image batch: NCHW (PyTorch) or NHWC (TensorFlow, dknn-ts' images). */
export type ImageLayout = 'NCHW' | 'NHWC';

/** A candidate tensor: its operator, its per-image shape as flattened, whether it is read through a Transpose to NHWC, and the shape read. */
export interface LayerShape {
  op: string;
  dims: number[];
  transposed: boolean;
  /** Per image, the shape of the output fetched: `dims` when transposed, else the runtime's own (same order of values). */
  fetched: number[];
}

const HEADS = new Set(['Softmax', 'LogSoftmax', 'Sigmoid']);

/** Operators whose rank-4 outputs are NCHW (ONNX defines them on NCHW only). */
const NCHW_OPS = new Set([
  'Conv',
  'ConvTranspose',
  'MaxPool',
  'AveragePool',
  'LpPool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'GlobalLpPool',
  'BatchNormalization',
  'InstanceNormalization',
  'LRN',
  'SpaceToDepth',
  'DepthToSpace',
]);

/**
 * The layout of each node output, followed from the input's: NCHW out of the convolution and
 * pooling operators, switched by a Transpose of perm (0, 3, 1, 2) or (0, 2, 3, 1), another
 * operator's the same as its first input's that has one (none: flattened as it is).
 */
function tensorLayouts(g: OnnxGraphInfo, input: string, layout: ImageLayout): Map<string, ImageLayout> {
  const out = new Map<string, ImageLayout>([[input, layout]]);
  for (const n of g.nodes) {
    let l: ImageLayout | undefined;
    if (NCHW_OPS.has(n.opType)) l = 'NCHW';
    else if (n.opType === 'Transpose') {
      const perm = n.perm?.join(',');
      l = perm === '0,3,1,2' ? 'NCHW' : perm === '0,2,3,1' ? 'NHWC' : undefined;
    } else l = n.inputs.map((i) => out.get(i)).find((x) => x !== undefined);
    if (l) for (const o of n.outputs) out.set(o, l);
  }
  return out;
}

/** The input's layout: given, or the axis of 1 to 4 channels. @throws when neither axis tells. */
export function inputLayout(
  path: string,
  shape: readonly (number | string | null)[],
  given: ImageLayout | undefined,
): ImageLayout {
  if (given !== undefined) {
    if (given !== 'NCHW' && given !== 'NHWC')
      throw new Error(`layout: expected 'NCHW' or 'NHWC', found ${String(given)}`);
    return given;
  }
  const channels = (d: number | string | null) => typeof d === 'number' && d >= 1 && d <= 4;
  if (channels(shape[1]) && !channels(shape[3])) return 'NCHW';
  if (channels(shape[3]) && !channels(shape[1])) return 'NHWC';
  throw new Error(
    `${path}: cannot tell whether the input [${shape.join(', ')}] is NCHW or NHWC; pass layout: 'NCHW' or 'NHWC'`,
  );
}

/** The graph's one image input: its name, shape, layout, image shape and batch. */
export function imageInput(path: string, g: OnnxGraphInfo, layout: ImageLayout | undefined) {
  if (g.inputs.length !== 1) {
    throw new Error(
      `${path}: expected a model with one input (the images), found ${g.inputs.length}: ${g.inputs.map((i) => i.name).join(', ')}`,
    );
  }
  const input = g.inputs[0];
  const shape = input.shape;
  if (input.elemType !== ONNX_FLOAT || !shape || shape.length !== 4) {
    throw new Error(
      `${path}: expected a float32 image input of rank 4 (NCHW or NHWC), found ${input.name} of type ${input.elemType} and shape [${shape?.join(', ') ?? 'unknown'}]`,
    );
  }
  const chosen = inputLayout(path, shape, layout);
  const [a, b, c] = chosen === 'NCHW' ? [shape[2], shape[3], shape[1]] : [shape[1], shape[2], shape[3]];
  if (typeof a !== 'number' || typeof b !== 'number' || typeof c !== 'number') {
    throw new Error(
      `${path}: the input ${input.name} has shape [${shape.join(', ')}]; every axis but the batch must be a number (export the model with a fixed image size)`,
    );
  }
  const fixedBatch = typeof shape[0] === 'number' && shape[0] > 0 ? shape[0] : null;
  return { name: input.name, layout: chosen, imageShape: [a, b, c] as [number, number, number], fixedBatch };
}

/** Each float32, batch-major node output with its operator and per-image shape (flattened order), by running the model once. */
export async function probeLayers(
  path: string,
  bytes: Uint8Array,
  g: OnnxGraphInfo,
  input: ReturnType<typeof imageInput>,
): Promise<Map<string, LayerShape>> {
  const producers = new Map<string, OnnxNode>();
  for (const n of g.nodes) for (const o of n.outputs) if (o !== '') producers.set(o, n);
  const names = [...producers.keys()];
  const layouts = tensorLayouts(g, input.name, input.layout);
  const session = await createOnnxSession(
    withGraphOutputs(bytes, names, new Set(g.outputs.map((o) => o.name))),
    1,
    path,
  );
  const batch = input.fixedBatch ?? 2;
  const [h, w, c] = input.imageShape;
  const dims = input.layout === 'NCHW' ? [batch, c, h, w] : [batch, h, w, c];
  try {
    const got = await session.probe(input.name, { data: new Float32Array(batch * h * w * c).fill(0.5), dims }, names);
    const out = new Map<string, LayerShape>();
    for (const name of names) {
      const t = got[name];
      if (t.type !== 'float32' || t.dims[0] !== batch || t.dims.length < 2) continue;
      const runtime = t.dims.slice(1);
      // Rank-4 NCHW tensors are flattened channels last, as tfjs flattens.
      const nchw = layouts.get(name) === 'NCHW' && runtime.length === 3;
      const dims = nchw ? [runtime[1], runtime[2], runtime[0]] : runtime;
      const transposed = nchw && runtime[0] > 1 && runtime[1] * runtime[2] > 1;
      out.set(name, { op: producers.get(name)!.opType, dims, transposed, fetched: transposed ? dims : runtime });
    }
    return out;
  } catch (e) {
    throw new Error(
      `${path}: the model does not run on ${batch} images of [${dims.slice(1).join(', ')}]: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  } finally {
    await session.release();
  }
}

/** The logits tensor: named or the single output, and the input of the Softmax making it (with a warning). */
export function logitsTensor(
  path: string,
  g: OnnxGraphInfo,
  shapes: ReadonlyMap<string, LayerShape>,
  options: { logits?: string; onWarning?: (message: string) => void },
): string {
  const outs = g.outputs.filter((o) => shapes.has(o.name));
  const name = options.logits ?? (outs.length === 1 ? outs[0].name : undefined);
  if (name === undefined) {
    throw new Error(
      `${path}: expected one float32 output with a batch axis (the logits), found ${outs.length}: ${g.outputs.map((o) => o.name).join(', ')}; pass logits: the name of the logits tensor`,
    );
  }
  if (!shapes.has(name)) {
    throw new Error(
      `${path}: logits: no tensor ${JSON.stringify(name)}; its layers are ${[...shapes.keys()].join(', ')}`,
    );
  }
  const node = g.nodes.find((n) => n.outputs.includes(name));
  if (
    node &&
    HEADS.has(node.opType) &&
    (node.domain === '' || node.domain === 'ai.onnx') &&
    shapes.has(node.inputs[0])
  ) {
    const input = node.inputs[0];
    (options.onWarning ?? ((m: string) => process.emitWarning(m, 'DkNNWarning')))(
      `${basename(path)}: the tensor ${name} is a ${node.opType} of ${input}; dknn-ts uses ${input} as the logits ` +
        `(the DkNN and the attacks apply the softmax themselves)`,
    );
    return input;
  }
  return name;
}
