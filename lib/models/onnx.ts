/**
 * Bring your own model: {@link loadOnnxModel} makes an ONNX image classifier (opset ≥ 13, exported
 * from PyTorch, Keras through tf2onnx, …) a model the DkNN, the activations, the summaries, the
 * out-of-distribution scores and the explanations take where they take a tfjs LayersModel.
 *
 * ```ts
 * const model = await loadOnnxModel('resnet.onnx');
 * model.layers();                      // the tensors a DkNN may read: every float node output with a batch axis
 * const dknn = new DkNN(model, { layers: ['/block1/Relu_1_output_0', '/block2/Relu_1_output_0', model.logits] });
 * ```
 *
 * - Layers are tensor names (node outputs). At load the model runs once on two grey images with
 *   every node output exposed, which tells each tensor's type and shape; the candidates are the
 *   float32 ones whose first axis is the batch.
 * - Activations: the graph is edited to expose the asked tensors as outputs (`onnx-proto.ts`:
 *   appended, every other byte kept) and run by one onnxruntime session per set of tensors, on
 *   `threads` intra-op threads (all cores by default; not the tfjs worker pool: onnxruntime runs
 *   its own threads), writing straight into the caller's rows. Rows are flattened channels-last,
 *   as tfjs flattens: a rank-4 NCHW tensor (ONNX's convolutions and pooling work in NCHW, whatever
 *   the input's layout) is read through a Transpose (to NHWC) appended to the graph, so its rows
 *   match those of the same network in tfjs.
 * - Inputs: the images are NHWC float32 (dknn-ts' layout); an NCHW model's input is transposed
 *   for it. The layout is told from the input's shape (the axis of 1 to 4 channels), or given.
 * - Logits: the graph's output, or the tensor named `logits`; an output made by a Softmax (or
 *   LogSoftmax, Sigmoid) is replaced by that node's input, with a warning, as `logitsModel` does
 *   for a tfjs model.
 * - The cache key ({@link OnnxModel.hash}) is the sha256 of the file with the input layout.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { readFileBytes } from '../artifacts/atomic';
import { createOnnxSession, onnxRuntimeVersion, type FloatTensor, type OnnxSession } from '../native/onnx-session';
import { checkPositiveInt } from '../util/checks';
import { readOnnxGraph, withGraphOutputs, NHWC_SUFFIX, type OnnxGraphInfo } from './onnx-proto';
import { imageInput, logitsTensor, probeLayers, type ImageLayout, type LayerShape } from './onnx-inspect';

export type { ImageLayout } from './onnx-inspect';

/** Options of {@link loadOnnxModel}. */
export interface LoadOnnxModelOptions {
  /** The tensor holding the logits. Default: the graph's single output (the input of its Softmax when it is one). */
  logits?: string;
  /** The layers (tensor names) a DkNN reads when it is given none. Default: none (pass `layers` to the DkNN). */
  layers?: readonly string[];
  /** The input's layout. Default: told from its shape (the axis of 1 to 4 channels). */
  layout?: ImageLayout;
  /** onnxruntime's intra-op threads. Default: every core. */
  threads?: number;
  /** The file's expected sha256 (hex), checked before anything is read from it. */
  sha256?: string;
  /** Receives the softmax-head warning. Default `process.emitWarning`. */
  onWarning?: (message: string) => void;
}

/** What {@link OnnxModel.run} runs: `count` NHWC images, the tensors to write and where. */
export interface OnnxBatch {
  images: Float32Array;
  count: number;
  layers: readonly string[];
  /** One array per tensor of `layers`. */
  into: readonly Float32Array[];
  /** The row of `into` the first image's values go to. */
  row: number;
}

/** One candidate layer of an ONNX model. */
export interface OnnxLayerInfo {
  /** The tensor's name (what a DkNN's `layers` takes). */
  name: string;
  /** The operator that makes it ('Relu', 'Conv', 'Add', …). */
  op: string;
  /** Its shape per image, in the order its rows are flattened (channels last for an NCHW model's rank-4 tensors). */
  shape: number[];
  /** Values per image. */
  dim: number;
}

/** Sessions kept per model (one per set of exposed tensors); the oldest is released beyond. */
const MAX_SESSIONS = 4;

/** An ONNX image classifier, loaded by {@link loadOnnxModel} (see the module comment). */
export class OnnxModel {
  readonly kind = 'onnx' as const;
  /** The sessions, by the sorted tensor names they expose. */
  private readonly sessions = new Map<string, Promise<OnnxSession>>();
  private turn: Promise<unknown> = Promise.resolve();
  private scratch = new Float32Array(0);

  /** @internal use {@link loadOnnxModel}. */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly graph: OnnxGraphInfo,
    private readonly shapes: ReadonlyMap<string, LayerShape>,
    readonly info: {
      path: string;
      fileSha256: string;
      layout: ImageLayout;
      inputName: string;
      /** [height, width, channels] of the images the model takes. */
      imageShape: [number, number, number];
      /** The batch size the model requires, or null when its batch axis is free. */
      fixedBatch: number | null;
      logits: string;
      layers: string[] | null;
      threads: number;
      runtime: string;
    },
  ) {}

  /** The file's name. */
  get name(): string {
    return basename(this.info.path);
  }
  /** The tensor holding the logits. */
  get logits(): string {
    return this.info.logits;
  }
  /** Number of classes (the logits' size). */
  get numClasses(): number {
    return this.layerDim(this.info.logits);
  }
  /** [height, width, channels] of the images the model takes (NHWC, whatever its own layout). */
  get imageShape(): [number, number, number] {
    return [...this.info.imageShape];
  }
  /** The layers a DkNN reads by default (the `layers` option of the load), or null. */
  get dknnLayers(): string[] | null {
    return this.info.layers ? [...this.info.layers] : null;
  }
  /** The activation cache's key of this model: sha256 of the file and the input layout. */
  get hash(): string {
    return createHash('sha256').update(`onnx;${this.info.fileSha256};${this.info.layout}`).digest('hex');
  }
  /** What the cache records as the engine: onnxruntime-node and its version. */
  get engineKey(): string {
    return `onnxruntime-node ${this.info.runtime} cpu`;
  }

  /** The tensors a DkNN may read (float32, with a batch axis), in graph order; the logits among them. */
  layers(): string[] {
    return [...this.shapes.keys()];
  }

  /** Every candidate layer with its operator, shape and size. */
  layerInfo(): OnnxLayerInfo[] {
    return [...this.shapes].map(([name, s]) => ({ name, op: s.op, shape: [...s.dims], dim: prod(s.dims) }));
  }

  /**
   * The values per image of tensor `name`.
   * @throws Error naming the tensor and listing the candidates when the model has no such tensor.
   */
  layerDim(name: string, where = 'OnnxModel'): number {
    const s = this.shapes.get(name);
    if (!s) {
      const other = this.graph.nodes.some((n) => n.outputs.includes(name))
        ? ` (${name} is a node output, but not a float32 tensor with a batch axis)`
        : '';
      throw new Error(
        `${where}: ${this.name} has no layer ${JSON.stringify(name)}${other}; its layers are ${this.layers().join(', ')}`,
      );
    }
    return prod(s.dims);
  }

  /**
   * Runs the model on `count` NHWC images and writes the flattened values of each tensor of
   * `layers` into `into[l]` from row `row` (each array holding at least (row + count) × dim values).
   * Calls run one at a time.
   */
  run(batch: OnnxBatch): Promise<void> {
    const { images, count, layers, into, row } = batch;
    const next = this.turn.then(() => this.runNow(images, count, layers, into, row));
    this.turn = next.catch(() => undefined);
    return next;
  }

  private async runNow(
    images: Float32Array,
    count: number,
    layers: readonly string[],
    out: readonly Float32Array[],
    row: number,
  ): Promise<void> {
    const [h, w, c] = this.info.imageShape;
    const pixels = h * w * c;
    if (images.length < count * pixels) {
      throw new Error(`${this.name}: expected ${count} × ${h}×${w}×${c} pixel values, found ${images.length}`);
    }
    if (new Set(layers).size !== layers.length)
      throw new Error(`${this.name}: a layer is listed twice in ${layers.join(', ')}`);
    const plan = layers.map((name) => {
      const shape = this.shapes.get(name);
      if (!shape) this.layerDim(name); // throws, naming the candidates
      // A transposed tensor is read from the Transpose appended to the graph (already NHWC).
      return { output: shape!.transposed ? name + NHWC_SUFFIX : name, dims: shape!.fetched, dim: prod(shape!.dims) };
    });
    const session = await this.session(layers);
    const step = this.info.fixedBatch ?? count;
    for (let s = 0; s < count; s += step) {
      const m = Math.min(step, count - s);
      const batch = this.info.fixedBatch ?? m;
      const input = this.inputTensor(images.subarray(s * pixels, (s + m) * pixels), m, batch);
      // Straight into the caller's rows; through scratch when the batch is padded to the model's.
      if (batch !== m && this.scratch.length < batch * plan.reduce((a, p) => a + p.dim, 0)) {
        this.scratch = new Float32Array(batch * plan.reduce((a, p) => a + p.dim, 0));
      }
      const outputs: Record<string, FloatTensor> = {};
      let at = 0;
      const targets = plan.map((p, l) => {
        const target = out[l].subarray((row + s) * p.dim, (row + s + m) * p.dim);
        const data = batch === m ? target : this.scratch.subarray(at, (at += batch * p.dim));
        outputs[p.output] = { data, dims: [batch, ...p.dims] };
        return target;
      });
      await session.runInto(this.info.inputName, input, outputs);
      if (batch !== m) plan.forEach((p, l) => targets[l].set(outputs[p.output].data.subarray(0, m * p.dim)));
    }
  }

  /** The input of a batch of `m` NHWC images, padded to `batch` with zeros, in the model's layout. */
  private inputTensor(images: Float32Array, m: number, batch: number): FloatTensor {
    const [h, w, c] = this.info.imageShape;
    const nchw = this.info.layout === 'NCHW';
    const dims = nchw ? [batch, c, h, w] : [batch, h, w, c];
    if (batch === m && (!nchw || c === 1)) return { data: images, dims };
    const data = new Float32Array(batch * h * w * c);
    if (nchw && c > 1) hwcToChw(images, data, m, [h, w, c]);
    else data.set(images);
    return { data, dims };
  }

  private session(layers: readonly string[]): Promise<OnnxSession> {
    const names = [...new Set(layers)].sort();
    const key = names.join('\n');
    let s = this.sessions.get(key);
    if (s) return s;
    if (this.sessions.size >= MAX_SESSIONS) {
      const [oldest, session]: [string, Promise<OnnxSession>] = this.sessions.entries().next().value!;
      this.sessions.delete(oldest);
      void session.then((x) => x.release()).catch(() => undefined);
    }
    const toNhwc = new Set(names.filter((n) => this.shapes.get(n)?.transposed));
    const exposed = withGraphOutputs(this.bytes, names, new Set(this.graph.outputs.map((o) => o.name)), toNhwc);
    s = createOnnxSession(exposed, this.info.threads, this.info.path);
    s.catch(() => this.sessions.delete(key));
    this.sessions.set(key, s);
    return s;
  }

  /** Releases the model's sessions (a later run makes new ones). */
  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.then((x) => x.release()).catch(() => undefined)));
  }
}

function prod(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** `m` images of [h, w, c] (NHWC rows) into [c, h, w] (NCHW rows). */
function hwcToChw(from: Float32Array, to: Float32Array, m: number, [h, w, c]: readonly number[]): void {
  const hw = h * w;
  for (let i = 0; i < m; i++) {
    const o = i * hw * c;
    for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) to[o + k * hw + p] = from[o + p * c + k];
  }
}

/**
 * Loads the ONNX image classifier at `path` (see the module comment).
 * @throws Error naming the file and what was expected and found: not an ONNX model, an opset
 *   below 13, not one float32 rank-4 image input, an input layout it cannot tell, a model
 *   onnxruntime refuses, an unknown `logits` or `layers` name (listing the candidates), a sha256
 *   other than `sha256`.
 */
export async function loadOnnxModel(path: string, options: LoadOnnxModelOptions = {}): Promise<OnnxModel> {
  const threads = options.threads ?? availableParallelism();
  checkPositiveInt('threads', threads);
  const bytes = readFileBytes(path);
  const fileSha256 = createHash('sha256').update(bytes).digest('hex');
  if (options.sha256 !== undefined && options.sha256.toLowerCase() !== fileSha256) {
    throw new Error(`${path}: SHA-256 mismatch: expected ${options.sha256}, found ${fileSha256}`);
  }
  const g = readOnnxGraph(bytes, path);
  if (g.opset === null || g.opset < 13) {
    throw new Error(
      `${path}: expected an ONNX model of opset 13 or later, found ${g.opset === null ? 'no ai.onnx opset' : `opset ${g.opset}`} (export it again with opset_version=13 or later)`,
    );
  }
  const input = imageInput(path, g, options.layout);
  const shapes = await probeLayers(path, bytes, g, input);
  const logits = logitsTensor(path, g, shapes, options);
  const layers = options.layers === undefined ? null : [...options.layers];
  for (const l of layers ?? []) {
    if (!shapes.has(l))
      throw new Error(
        `${path}: layers: no tensor ${JSON.stringify(l)}; its layers are ${[...shapes.keys()].join(', ')}`,
      );
  }
  return new OnnxModel(bytes, g, shapes, {
    path,
    fileSha256,
    layout: input.layout,
    inputName: input.name,
    imageShape: input.imageShape,
    fixedBatch: input.fixedBatch,
    logits,
    layers,
    threads,
    runtime: await onnxRuntimeVersion(),
  });
}

/** Whether `model` is an {@link OnnxModel}. */
export function isOnnxModel(model: unknown): model is OnnxModel {
  return model instanceof OnnxModel;
}
