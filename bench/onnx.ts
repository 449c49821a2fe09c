/**
 * `npm run bench -- onnx`: the committed MNIST CNN as tfjs (data/pretrained/mnist-cnn) and as ONNX
 * (data/pretrained/onnx/mnist-cnn.onnx, exported by bench/pytorch/export_onnx.py with the same
 * weights), side by side:
 *
 * - speed: the four DkNN layers (ReLU1, ReLU3, ReLU5, logits) of 2,000 test images, batch 250,
 *   on one thread (tfjs `workers: 1`, onnxruntime `threads: 1`) and on every core (tfjs workers,
 *   onnxruntime's intra-op threads); ROUNDS interleaved rounds, median and fastest, after a warm-up;
 *   the largest difference of each layer's values, relative to the layer's largest value;
 * - agreement: the DkNN (k 75, exact index, no cache) fitted on the first DKNN_ONNX_TRAIN training
 *   images (default 5000; `full` = all 60,000), calibrated on test[0:750], predicting
 *   test[750:10000]: identical predictions, credibilities, confidences and DNN predictions, the
 *   largest credibility difference, the accuracies, and the largest logit difference.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { extractActivations } from '../lib/activations/extract';
import { closeActivationPools } from '../lib/activations/pool';
import { repoRoot } from '../lib/artifacts/repo';
import { dataDir, loadMnist } from '../lib/data/datasets';
import { subset } from '../lib/data/split';
import { DkNN } from '../lib/dknn/dknn';
import type { DkNNPrediction } from '../lib/dknn/types';
import { initBackend } from '../lib/engine/backend';
import { accuracy } from '../lib/metrics/classification';
import type { ClassifierModel } from '../lib/models/classifier';
import { loadModel } from '../lib/models/format';
import { loadOnnxModel } from '../lib/models/onnx';
import { pretrainedPath } from '../lib/models/zoo';

const TFJS_LAYERS = ['ReLU1', 'ReLU3', 'ReLU5', 'logits'];
const ONNX_LAYERS = ['/ReLU1/Relu_output_0', '/ReLU3/Relu_output_0', '/ReLU5/Relu_output_0', 'logits'];
const SPEED_IMAGES = 2000;
const ROUNDS = 5;

type Row = Record<string, string | number | boolean | null>;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Largest |a − b| and that over the largest |a|. */
function gap(a: Float32Array, b: Float32Array): { abs: number; relative: number } {
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return { abs, relative: abs / scale };
}

function same<T extends ArrayLike<number>>(a: T, b: T): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) n++;
  return n;
}

export async function benchOnnx(): Promise<{
  section: string;
  description: string;
  rows: Row[];
  notes: string[];
  extra: Record<string, unknown>;
}> {
  const backend = await initBackend();
  const cores = availableParallelism();
  const mnist = await loadMnist();
  const tfjs = (await loadModel(pretrainedPath('mnist-cnn', dataDir()))).model;
  const onnxPath = join(repoRoot(), 'data', 'pretrained', 'onnx', 'mnist-cnn.onnx');
  const onnx1 = await loadOnnxModel(onnxPath, { threads: 1 });
  const onnxAll = await loadOnnxModel(onnxPath, { threads: cores });
  const x = subset(mnist.test, { end: SPEED_IMAGES });

  const paths: { name: string; model: ClassifierModel; layers: string[]; workers: number }[] = [
    { name: 'tfjs, 1 thread', model: tfjs, layers: TFJS_LAYERS, workers: 1 },
    { name: 'ONNX, 1 thread', model: onnx1, layers: ONNX_LAYERS, workers: 1 },
    { name: `tfjs, ${cores} threads (workers)`, model: tfjs, layers: TFJS_LAYERS, workers: cores },
    { name: `ONNX, ${cores} intra-op threads`, model: onnxAll, layers: ONNX_LAYERS, workers: 1 },
  ];
  const seconds: number[][] = paths.map(() => []);
  const values: Float32Array[][] = [];
  for (let round = -1; round < ROUNDS; round++) {
    for (const [i, p] of paths.entries()) {
      const t = performance.now();
      const a = await extractActivations(p.model, x, { layers: p.layers, batchSize: 250, workers: p.workers });
      if (round >= 0) seconds[i].push((performance.now() - t) / 1000);
      else values[i] = a.layers.map((l) => l.values); // the warm-up: sessions, workers, and the values to compare
    }
  }
  closeActivationPools();
  const rows: Row[] = paths.map((p, i) => ({
    measure: `extract 4 layers of ${SPEED_IMAGES} images: ${p.name}`,
    medianSeconds: Number(median(seconds[i]).toFixed(3)),
    fastestSeconds: Number(Math.min(...seconds[i]).toFixed(3)),
    imagesPerSecond: Math.round(SPEED_IMAGES / median(seconds[i])),
  }));
  const layerGaps = TFJS_LAYERS.map((l, j) => ({ layer: l, ...gap(values[0][j], values[1][j]) }));

  const trainN = process.env.DKNN_ONNX_TRAIN === 'full' ? mnist.train.n : Number(process.env.DKNN_ONNX_TRAIN ?? 5000);
  const train = subset(mnist.train, { end: trainN });
  const calib = subset(mnist.test, { end: 750 });
  const evalSet = subset(mnist.test, { start: 750 });
  const run = async (model: ClassifierModel, layers: string[]) => {
    const dknn = new DkNN(model, { k: 75, layers, cacheDir: false });
    await dknn.fit(train);
    await dknn.calibrate(calib);
    const pred = await dknn.predict(evalSet);
    closeActivationPools();
    return { pred, timings: dknn.info().timings };
  };
  const a = await run(tfjs, TFJS_LAYERS);
  const b = await run(onnxAll, ONNX_LAYERS);
  const logits = [
    await extractActivations(tfjs, evalSet, { layers: ['logits'] }),
    await extractActivations(onnxAll, evalSet, { layers: ['logits'] }),
  ];
  const logitGap = gap(logits[0].layers[0].values, logits[1].layers[0].values);
  const n = evalSet.n;
  const pa: DkNNPrediction = a.pred;
  const pb: DkNNPrediction = b.pred;
  let maxCred = 0;
  let maxConf = 0;
  for (let i = 0; i < n; i++) maxCred = Math.max(maxCred, Math.abs(pa.credibility[i] - pb.credibility[i]));
  for (let i = 0; i < n; i++) maxConf = Math.max(maxConf, Math.abs(pa.confidence[i] - pb.confidence[i]));
  const C = pa.numClasses;
  let sameAlpha = 0;
  for (let i = 0; i < n; i++)
    if (same(pa.nonconformity.subarray(i * C, (i + 1) * C), pb.nonconformity.subarray(i * C, (i + 1) * C)) === C)
      sameAlpha++;
  // Per layer, the inputs whose k neighbours are the same training images in the same order.
  const sameNeighbors = pa.neighbors.map((la, l) => {
    const lb = pb.neighbors[l];
    let rows = 0;
    for (let i = 0; i < n; i++)
      if (same(la.indices.subarray(i * la.k, (i + 1) * la.k), lb.indices.subarray(i * la.k, (i + 1) * la.k)) === la.k)
        rows++;
    return { layer: TFJS_LAYERS[l], identicalRows: rows };
  });
  const agreement = {
    inputs: n,
    trainImages: trainN,
    identicalPredictions: same(pa.predictions, pb.predictions),
    identicalCredibility: same(pa.credibility, pb.credibility),
    identicalConfidence: same(pa.confidence, pb.confidence),
    identicalDnnPredictions: same(pa.dnnPredictions, pb.dnnPredictions),
    maxCredibilityDifference: maxCred,
    maxConfidenceDifference: maxConf,
    identicalNonconformity: sameAlpha,
    identicalNeighborLists: sameNeighbors,
    maxLogitDifference: logitGap.abs,
    maxLogitDifferenceRelative: logitGap.relative,
    dknnAccuracy: { tfjs: accuracy(pa.predictions, evalSet.labels), onnx: accuracy(pb.predictions, evalSet.labels) },
    dnnAccuracy: {
      tfjs: accuracy(pa.dnnPredictions, evalSet.labels),
      onnx: accuracy(pb.dnnPredictions, evalSet.labels),
    },
  };
  rows.push(
    { measure: `DkNN (train ${trainN}, calib 750): identical predictions of ${n}`, value: agreement.identicalPredictions },
    { measure: `DkNN: identical credibilities of ${n}`, value: agreement.identicalCredibility },
    { measure: `DkNN: identical confidences of ${n}`, value: agreement.identicalConfidence },
    { measure: `DNN: identical predictions of ${n}`, value: agreement.identicalDnnPredictions },
    { measure: 'largest credibility difference', value: maxCred },
    { measure: 'largest confidence difference', value: maxConf },
    { measure: `inputs with the same nonconformity α(x, j) for every class, of ${n}`, value: sameAlpha },
    { measure: 'inputs with the same k neighbours in the same order, per layer', value: sameNeighbors.map((x) => `${x.layer} ${x.identicalRows}`).join(', ') },
    { measure: `largest logit difference over ${n} inputs (relative to the largest logit)`, value: `${logitGap.abs.toExponential(2)} (${logitGap.relative.toExponential(2)})` },
    { measure: 'DkNN fit + calibrate + predict seconds: tfjs / ONNX', value: `${(a.timings.fit.total + a.timings.calibrate.total + a.timings.predict.total).toFixed(1)} / ${(b.timings.fit.total + b.timings.calibrate.total + b.timings.predict.total).toFixed(1)}` },
    { measure: 'of which extraction (fit, calibrate, predict): tfjs / ONNX', value: `${(a.timings.fit.extract + a.timings.calibrate.extract + a.timings.predict.extract).toFixed(1)} / ${(b.timings.fit.extract + b.timings.calibrate.extract + b.timings.predict.extract).toFixed(1)}` },
  ); // prettier-ignore
  const ratio = (i: number, j: number) => (median(seconds[i]) / median(seconds[j])).toFixed(2);
  tfjs.dispose();
  await onnx1.close();
  await onnxAll.close();
  return {
    section: 'onnx',
    description: `the committed MNIST CNN as tfjs and as ONNX (data/pretrained/onnx/mnist-cnn.onnx): extraction speed on ${SPEED_IMAGES} test images, and the DkNN's agreement on the ${n} evaluation inputs`,
    rows,
    notes: [
      `engine: ${backend.description}; onnxruntime-node ${onnxAll.info.runtime} (CPU, threads sleeping between tasks); ${ROUNDS} interleaved rounds after a warm-up`,
      `ONNX vs tfjs extraction time (median): ${ratio(1, 0)}× on 1 thread, ${ratio(3, 2)}× on ${cores} (below 1 = ONNX faster)`,
      `largest difference of the layers' values on the ${SPEED_IMAGES} images, relative to each layer's largest: ${layerGaps.map((g) => `${g.layer} ${g.relative.toExponential(1)}`).join(', ')}`,
      `DkNN accuracy tfjs ${agreement.dknnAccuracy.tfjs.toFixed(4)} / ONNX ${agreement.dknnAccuracy.onnx.toFixed(4)}; DNN accuracy ${agreement.dnnAccuracy.tfjs.toFixed(4)} / ${agreement.dnnAccuracy.onnx.toFixed(4)}`,
    ],
    extra: { seconds, layerGaps, agreement, timings: { tfjs: a.timings, onnx: b.timings } },
  };
}
