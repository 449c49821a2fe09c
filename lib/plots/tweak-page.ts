/**
 * The page side of the tweak panel (`tweak-panel.ts` builds the panel): the packed neighbor labels a
 * report embeds, decoded, and the view for the reader's k, layers and p-value formula. The view is
 * computed by `rescorePrediction` — the very code behind `DkNN.rescore` — then summarized and drawn
 * by lib's own `summarizePrediction`, `summaryTable`, `reliabilityComparison` and
 * `correctWrongHistogram`. No DOM and no Node here: `scripts/build-page-bundle.mjs` bundles this
 * file for the browser (lib/dist/page/dknn-tweak.js, the global `__dknnTweak`), and tests run it
 * in Node as well.
 *
 * The page has neighbor labels, not training indices: each label stands in for its neighbor's
 * index, and the training labels are the identity (label j of "training point" j), so
 * `prefixLabels` reads back the same labels and every later step is unchanged.
 */
import { summarizePrediction, type PredictionSummary } from '../analysis/summary';
import type { PValueFormula } from '../conformal/calibrator';
import type { MissingNeighborRule } from '../conformal/nonconformity';
import { rescorePrediction, type RescoreBasis } from '../dknn/rescore';
import type { DkNNPrediction, LayerNeighbors } from '../dknn/types';
import { correctWrongHistogram, reliabilityComparison } from './dknn-figures';
import type { Figure } from './plotly';
import { summaryTable } from './summary-table';

/** The reader's choice: k, the layers (a non-empty subset of the panel's) and the formula. */
export interface TweakChoice {
  k: number;
  layers: readonly string[];
  formula: PValueFormula;
}

/**
 * What a panel embeds, as JSON. Arrays are base64 of little-endian typed arrays: neighbor labels
 * and labels as `labelType` (-1 = a missing neighbor), the DNN's confidence as float32.
 */
export interface TweakPayload {
  version: 1;
  /** The input set, e.g. 'clean' (the summary table's row name). */
  name: string;
  /** The DkNN's layers, in its order. */
  layers: string[];
  /** Neighbors per layer embedded: k can be 1…kMax. */
  kMax: number;
  numClasses: number;
  missing: MissingNeighborRule;
  labelType: 'int8' | 'int16';
  /** Inputs and calibration inputs. */
  n: number;
  calibN: number;
  /** layers × n × kMax labels of the inputs' neighbors, nearest first. */
  neighborLabels: string;
  /** layers × calibN × kMax labels of the calibration inputs' neighbors. */
  calibNeighborLabels: string;
  /** The calibration inputs' true labels (calibN). */
  calibLabels: string;
  /** The inputs' true labels (n). */
  labels: string;
  /** The DNN's prediction (n, `labelType`) and its softmax probability (n, float32). */
  dnnPredictions: string;
  dnnConfidence: string;
  /** The choice shown first. */
  initial: TweakChoice;
}

/** A decoded payload: the re-scoring basis, the prediction at kMax with every layer, the true labels. */
export interface TweakState {
  payload: TweakPayload;
  basis: RescoreBasis;
  searched: DkNNPrediction;
  labels: Int32Array;
}

/** The panel's content for one choice. */
export interface TweakView {
  prediction: DkNNPrediction;
  summary: PredictionSummary;
  /** The summary table's HTML. */
  table: string;
  reliability: Figure;
  histogram: Figure;
}

function bytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** `count` integers of `type` (little-endian) from base64, checked against the length expected. */
function ints(b64: string, type: 'int8' | 'int16', count: number, what: string): Int32Array {
  const b = bytes(b64);
  const size = type === 'int8' ? 1 : 2;
  if (b.length !== count * size)
    throw new Error(`tweak panel: ${what} holds ${b.length} bytes, expected ${count} ${type} = ${count * size}`);
  const view = new DataView(b.buffer);
  const out = new Int32Array(count);
  if (type === 'int8') for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
  else for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, true);
  return out;
}

function floats(b64: string, count: number, what: string): Float32Array {
  const b = bytes(b64);
  if (b.length !== 4 * count) throw new Error(`tweak panel: ${what} holds ${b.length} bytes, expected ${4 * count}`);
  const view = new DataView(b.buffer);
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
}

/** One neighbor list per layer from `layers × rows × k` labels (the labels in place of indices). */
function layerLists(all: Int32Array, layers: readonly string[], rows: number, k: number): LayerNeighbors[] {
  const distances = new Float32Array(rows * k); // not used by re-scoring: one array of zeros for every layer
  return layers.map((layer, l) => ({
    layer,
    indices: all.subarray(l * rows * k, (l + 1) * rows * k),
    distances,
    rows,
    k,
  }));
}

/** Decodes a payload (see {@link TweakPayload}). @throws on a version or a length that does not match. */
export function decodePayload(payload: TweakPayload): TweakState {
  if (payload.version !== 1) throw new Error(`tweak panel: payload version ${payload.version}, expected 1`);
  const { layers, kMax, n, calibN, numClasses: C, labelType: type } = payload;
  const L = layers.length;
  const neighbors = layerLists(ints(payload.neighborLabels, type, L * n * kMax, 'neighborLabels'), layers, n, kMax);
  const calibNeighbors = layerLists(
    ints(payload.calibNeighborLabels, type, L * calibN * kMax, 'calibNeighborLabels'),
    layers,
    calibN,
    kMax,
  );
  const basis: RescoreBasis = {
    layers,
    k: kMax,
    numClasses: C,
    formula: payload.initial.formula,
    missing: payload.missing,
    trainLabels: Int32Array.from({ length: C }, (_, j) => j),
    calibNeighbors,
    calibLabels: ints(payload.calibLabels, type, calibN, 'calibLabels'),
  };
  const searched: DkNNPrediction = {
    predictions: new Int32Array(n),
    credibility: new Float64Array(n),
    confidence: new Float64Array(n),
    pValues: new Float64Array(n * C),
    nonconformity: new Int32Array(n * C),
    knnCounts: new Int32Array(n * C),
    neighbors,
    missingNeighbors: 0,
    dnnPredictions: ints(payload.dnnPredictions, type, n, 'dnnPredictions'),
    dnnConfidence: floats(payload.dnnConfidence, n, 'dnnConfidence'),
    n,
    numClasses: C,
    formula: payload.initial.formula,
  };
  return { payload, basis, searched, labels: ints(payload.labels, type, n, 'labels') };
}

/** The summary table, reliability diagram and credibility histogram of the prediction re-scored for `choice`. */
export function tweakView(state: TweakState, choice: TweakChoice): TweakView {
  const prediction = rescorePrediction(state.basis, state.searched, choice);
  const summary = summarizePrediction(prediction, state.labels);
  const layers = state.basis.layers.filter((l) => choice.layers.includes(l));
  const setting = `k = ${choice.k}, layers ${layers.join(', ')}`;
  const table = summaryTable([{ name: state.payload.name, summary }], {
    caption: `${state.payload.name}, ${setting}: DNN vs DkNN on ${prediction.n} inputs`,
  }).html;
  return {
    prediction,
    summary,
    table,
    reliability: reliabilityComparison(prediction, state.labels, {
      title: `Reliability on ${prediction.n} ${state.payload.name} inputs (${setting})`,
    }),
    histogram: correctWrongHistogram(prediction, state.labels, {
      title: `DkNN credibility (${choice.formula} p-values, ${setting}), correct vs wrong predictions`,
    }),
  };
}
