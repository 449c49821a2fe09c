/**
 * Micro-benchmark of the wasm conv gradient kernels on the CleverHans MNIST CNN
 * (Conv 64 8×8 /2 SAME → ReLU → Conv 128 6×6 /2 VALID → ReLU → Conv 128 5×5 /1 VALID → ReLU →
 * Flatten → Dense 10 → softmax cross-entropy), single-threaded wasm.
 *
 *   npx tsx bench/kernels.ts [--batch 500] [--steps 3] [--no-stock] [--stock-step] [--profile]
 *
 * Prints (1) per-kernel times at the network's shapes, fast vs stock (the package's scalar
 * Conv2DBackpropInput; for Conv2DBackpropFilter, which the package lacks, the naive JS loop of
 * lib/kernels/reference.ts), and (2) training img/s of one Adam step with the fast kernels
 * (and, with --stock-step, one step with the stock ones: slow, ~20 s).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/engine/backend';
import { useStockWasmKernels } from '../lib/engine/kernels';

interface Args {
  batch: number;
  steps: number;
  stock: boolean;
  stockStep: boolean;
  profile: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { batch: 500, steps: 3, stock: true, stockStep: false, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--batch') args.batch = Number(argv[++i]);
    else if (a === '--steps') args.steps = Number(argv[++i]);
    else if (a === '--no-stock') args.stock = false;
    else if (a === '--stock-step') args.stockStep = true;
    else if (a === '--profile') args.profile = true;
    else throw new Error(`bench/kernels: unknown argument '${a}'`);
  }
  return args;
}

/** Deterministic uniform [-scale, scale) data (LCG), so runs are comparable. */
function seeded(shape: number[], seed: number, scale = 1): tf.Tensor {
  const n = tf.util.sizeFromShape(shape);
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return tf.tensor(a, shape);
}

/** Milliseconds of `f()` (which returns a tensor that is read back and disposed): best of `reps`. */
function timeKernel(f: () => tf.Tensor, reps: number): number {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const out = f();
    out.dataSync();
    best = Math.min(best, performance.now() - t0);
    out.dispose();
  }
  return best;
}

interface Layer {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: number;
  pad: 'same' | 'valid';
  /** Whether training computes this layer's input gradient (not for the first layer). */
  needsDx: boolean;
}

function layers(batch: number): Layer[] {
  return [
    { name: 'conv1 8x8/2 SAME 1->64', x: [batch, 28, 28, 1], w: [8, 8, 1, 64], stride: 2, pad: 'same', needsDx: false },
    {
      name: 'conv2 6x6/2 VALID 64->128',
      x: [batch, 14, 14, 64],
      w: [6, 6, 64, 128],
      stride: 2,
      pad: 'valid',
      needsDx: true,
    },
    {
      name: 'conv3 5x5/1 VALID 128->128',
      x: [batch, 5, 5, 128],
      w: [5, 5, 128, 128],
      stride: 1,
      pad: 'valid',
      needsDx: true,
    },
  ];
}

function benchKernels(batch: number, withStock: boolean): void {
  console.log(`\nPer-kernel time, batch ${batch} (ms; fast: best of 3, stock: 1 run)`);
  console.log('layer                        | kernel         |   fast ms |  stock ms | speed-up');
  for (const l of layers(batch)) {
    const x = seeded(l.x, 1) as tf.Tensor4D;
    const w = seeded(l.w, 2, 0.1) as tf.Tensor4D;
    const y = tf.conv2d(x, w, l.stride, l.pad);
    const dy = seeded(y.shape, 3) as tf.Tensor4D;
    const runs: [string, () => tf.Tensor][] = [['BackpropFilter', () => convFilterGrad(x, dy, l)]];
    if (l.needsDx) runs.push(['BackpropInput', () => tf.conv2dTranspose(dy, w, l.x, l.stride, l.pad)]);
    runs.push(['Conv2D (fwd)', () => tf.conv2d(x, w, l.stride, l.pad)]);
    for (const [kernel, f] of runs) {
      useStockWasmKernels(false);
      const fast = timeKernel(f, 3);
      let stock = NaN;
      if (withStock && kernel !== 'Conv2D (fwd)') {
        useStockWasmKernels(true);
        stock = timeKernel(f, 1);
        useStockWasmKernels(false);
      }
      const up = Number.isNaN(stock) ? '' : `${(stock / fast).toFixed(1)}x`;
      console.log(
        `${l.name.padEnd(28)} | ${kernel.padEnd(14)} | ${fast.toFixed(1).padStart(9)} | ` +
          `${Number.isNaN(stock) ? '        -' : stock.toFixed(1).padStart(9)} | ${up}`,
      );
    }
    tf.dispose([x, w, y, dy]);
  }
}

function convFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, l: Layer): tf.Tensor {
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
    strides: [l.stride, l.stride],
    pad: l.pad,
    dataFormat: 'NHWC',
    filterShape: l.w,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** The MNIST CNN as plain ops on variables, with an Adam optimizer. */
class MnistCnn {
  readonly vars: tf.Variable[];
  readonly optimizer = tf.train.adam(1e-3);

  constructor() {
    const shapes = [
      [8, 8, 1, 64],
      [6, 6, 64, 128],
      [5, 5, 128, 128],
      [128, 10],
    ];
    this.vars = tf.tidy(() => {
      const vars = shapes.map((s, i) =>
        tf.variable(seeded(s, 10 + i, 1 / Math.sqrt(s.slice(0, -1).reduce((a, b) => a * b)))),
      );
      return [...vars, tf.variable(tf.zeros([10]))];
    });
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    const [w1, w2, w3, wd, bd] = this.vars as unknown as [
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor2D,
      tf.Tensor1D,
    ];
    const h1 = tf.relu(tf.conv2d(x, w1, 2, 'same'));
    const h2 = tf.relu(tf.conv2d(h1, w2, 2, 'valid'));
    const h3 = tf.relu(tf.conv2d(h2, w3, 1, 'valid'));
    return tf.add(tf.matMul(tf.reshape(h3, [x.shape[0], 128]), wd), bd);
  }

  /** One forward + backward + Adam update; returns the loss. */
  step(x: tf.Tensor4D, y: tf.Tensor2D): number {
    const loss = this.optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, this.logits(x)), true);
    const v = loss!.dataSync()[0]!;
    loss!.dispose();
    return v;
  }

  dispose(): void {
    tf.dispose(this.vars);
    this.optimizer.dispose();
  }
}

async function benchStep(batch: number, steps: number, label: string, profile: boolean): Promise<void> {
  const x = tf.tidy(() => seeded([batch, 28, 28, 1], 7).add(1).div(2)) as tf.Tensor4D;
  const labels = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Array.from({ length: batch }, (_, i) => (i * 7) % 10),
        'int32',
      ),
      10,
    ),
  ) as tf.Tensor2D;
  const net = new MnistCnn();
  const t0 = performance.now();
  let loss = net.step(x, labels); // warm-up: creates the optimizer slots and XNNPACK operators
  const warm = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    loss = net.step(x, labels);
    times.push(performance.now() - t);
  }
  if (steps === 0) {
    console.log(
      `${label}: 1 step ${warm.toFixed(0)} ms (no warm-up) => ${((batch * 1000) / warm).toFixed(0)} img/s; loss ${loss.toFixed(4)}`,
    );
  } else {
    const best = Math.min(...times);
    const mean = times.reduce((a, b) => a + b, 0) / steps;
    console.log(
      `${label}: step ${best.toFixed(0)} ms best / ${mean.toFixed(0)} ms mean of ${steps} (warm-up ${warm.toFixed(0)} ms) ` +
        `=> ${((batch * 1000) / best).toFixed(0)} img/s best, ${((batch * 1000) / mean).toFixed(0)} img/s mean; loss ${loss.toFixed(4)}`,
    );
  }
  if (profile) {
    const info = await tf.profile(() => {
      net.step(x, labels);
    });
    const byKernel = new Map<string, number>();
    for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    const rows = [...byKernel].sort((a, b) => b[1] - a[1]);
    console.log(
      '  profile (ms per step by kernel): ' +
        rows
          .slice(0, 12)
          .map(([n, t]) => `${n} ${t.toFixed(0)}`)
          .join(', '),
    );
  }
  net.dispose();
  tf.dispose([x, labels]);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const info = await initBackend({ prefer: ['wasm'] });
  console.log(`backend: ${info.description}`);
  const before = tf.memory().numTensors;
  benchKernels(args.batch, args.stock);
  console.log(`\nTraining step (forward + backward + Adam), batch ${args.batch}`);
  useStockWasmKernels(false);
  await benchStep(args.batch, args.steps, 'fast kernels ', args.profile);
  if (args.stockStep) {
    useStockWasmKernels(true);
    await benchStep(args.batch, 0, 'stock kernels', false);
    useStockWasmKernels(false);
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) console.log(`warning: ${leaked} tensors leaked`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
