/**
 * Image galleries as HTML (one small PNG per tile, inlined): the nearest training images of an
 * input in every layer (the DkNN's explanation), and clean inputs beside their adversarial
 * versions. Any image shape and channel count (grey or RGB); labels are shown by class name.
 */
import { escapeHtml, html, type Html } from './html';
import { encodePng, imageGrid } from './png';
import type { ImageBatch } from '../data/types';
import type { DkNNPrediction } from '../dknn/types';
import { PALETTE } from './palette';

/** Color of a tile border: agrees with the prediction / disagrees / missing. */
const BORDER = Object.freeze({ agree: PALETTE.green, disagree: PALETTE.red, none: PALETTE.light });

function channels(batch: ImageBatch): 1 | 3 {
  if (batch.channels !== 1 && batch.channels !== 3)
    throw new Error(`gallery: images must have 1 or 3 channels, found ${batch.channels}`);
  return batch.channels;
}

/** A data: URI of image `index` of `batch` as a PNG scaled by `scale`. */
export function imageDataUri(batch: ImageBatch, index: number, scale = 2): string {
  if (!Number.isInteger(index) || index < 0 || index >= batch.n)
    throw new RangeError(`gallery: image ${index} is outside the ${batch.n} images given`);
  const g = imageGrid(
    { images: batch.images, height: batch.height, width: batch.width, channels: channels(batch) },
    { indices: [index], cols: 1, pad: 0, scale },
  );
  return `data:image/png;base64,${Buffer.from(encodePng({ pixels: g.pixels, width: g.width, height: g.height, channels: g.channels })).toString('base64')}`;
}

/** One tile of {@link imageTable}: an image (or an empty slot), a caption and a border color. */
export interface GalleryTile {
  /** The image, or null for an empty slot (e.g. a missing neighbor). */
  image: { batch: ImageBatch; index: number } | null;
  caption: string;
  border?: string;
  /** Height and width of an empty slot, in pixels before scaling. Default 28 × 28. */
  size?: [number, number];
}

/** A table of image tiles: one row per entry, a header cell on the left. */
export function imageTable(
  rows: { header: string; tiles: GalleryTile[] }[],
  options: { title?: string; scale?: number; columns?: string[] } = {},
): Html {
  const scale = options.scale ?? 2;
  const cell = (t: GalleryTile) => {
    const border = `border:3px solid ${t.border ?? 'transparent'}`;
    const img = t.image
      ? `<img src="${imageDataUri(t.image.batch, t.image.index, scale)}" style="${border};display:block;margin:auto" alt="${escapeHtml(t.caption)}">`
      : `<div style="${border};width:${(t.size?.[1] ?? 28) * scale}px;height:${(t.size?.[0] ?? 28) * scale}px;margin:auto"></div>`;
    return `<td style="text-align:center;vertical-align:top;padding:2px">${img}<div style="font-size:10px;line-height:1.2">${escapeHtml(t.caption)}</div></td>`;
  };
  const body = rows
    .map(
      (r) =>
        `<tr><th style="text-align:right;font-size:11px;padding-right:6px">${escapeHtml(r.header)}</th>${r.tiles.map(cell).join('')}</tr>`,
    )
    .join('');
  const title = options.title ? `<caption style="text-align:left">${escapeHtml(options.title)}</caption>` : '';
  const columns = options.columns
    ? `<tr><th></th>${options.columns.map((c) => `<th style="font-size:11px">${escapeHtml(c)}</th>`).join('')}</tr>`
    : '';
  return html(`<table class="dknn-gallery" style="border-collapse:collapse">${title}${columns}${body}</table>`);
}

/** Options of {@link neighborGallery}. */
export interface NeighborGalleryOptions {
  /** The input (its row in the prediction) or inputs to show. */
  rows: number | readonly number[];
  /** The inputs the prediction was made on, with their labels. */
  inputs: ImageBatch & { labels: ArrayLike<number> };
  /** The DkNN's training images, with their labels (the neighbors). */
  train: ImageBatch & { labels: ArrayLike<number> };
  /** Neighbors shown per layer. Default 10. */
  perLayer?: number;
  /** Class names for labels. Default: the class indices. */
  classNames?: readonly string[];
  /** Index of the first input in its source set, for the captions. Default 0. */
  indexOffset?: number;
  /** What the inputs are, e.g. 'FGSM ε 0.25'. Default 'input'. */
  inputName?: string;
  /** Pixel scale of each tile. Default 2. */
  scale?: number;
}

/**
 * The DkNN's explanation of input `row` (or of each of several rows) of a prediction: the input, then its nearest training
 * images in every layer (one row per layer, nearest first), each with its label and squared
 * distance; green borders mark neighbors whose label is the DkNN's prediction, red the others.
 * `inputs` are the images predicted (with their true labels); `train` the DkNN's training set.
 */
export function neighborGallery(pred: DkNNPrediction, options: NeighborGalleryOptions): Html {
  const { rows, inputs, train } = options;
  if (typeof rows !== 'number')
    return html(rows.map((r) => neighborGallery(pred, { ...options, rows: r }).html).join(''));
  const row = rows;
  if (!Number.isInteger(row) || row < 0 || row >= pred.n)
    throw new RangeError(`neighborGallery: row ${row} is outside the ${pred.n} predictions`);
  if (inputs.n !== pred.n)
    throw new Error(`neighborGallery: expected the ${pred.n} inputs that were predicted, found ${inputs.n}`);
  const per = options.perLayer ?? 10;
  const name = (c: number) => options.classNames?.[c] ?? String(c);
  const predicted = pred.predictions[row];
  const label = inputs.labels[row];
  const head =
    `<div style="font-size:12px;margin-top:8px"><b>${escapeHtml(options.inputName ?? 'input')} ${(options.indexOffset ?? 0) + row}</b> — true ${escapeHtml(name(label))}; ` +
    `DNN ${escapeHtml(name(pred.dnnPredictions[row]))} (softmax ${pred.dnnConfidence[row].toFixed(3)}); ` +
    `DkNN ${escapeHtml(name(predicted))} (credibility ${pred.credibility[row].toFixed(3)}, confidence ${pred.confidence[row].toFixed(3)}, ${pred.formula} p-values)</div>`;
  const layerRows = pred.neighbors.map((nb) => {
    const tiles: GalleryTile[] = [{ image: { batch: inputs, index: row }, caption: 'input', border: 'transparent' }];
    let agree = 0;
    for (let j = 0; j < nb.k; j++) {
      const t = nb.indices[row * nb.k + j];
      if (t >= 0 && train.labels[t] === predicted) agree++;
      if (j >= per) continue;
      if (t < 0) {
        tiles.push({ image: null, caption: 'missing', border: BORDER.none, size: [train.height, train.width] });
        continue;
      }
      const l = train.labels[t];
      tiles.push({
        image: { batch: train, index: t },
        caption: `${name(l)} · ${nb.distances[row * nb.k + j].toFixed(3)}`,
        border: l === predicted ? BORDER.agree : BORDER.disagree,
      });
    }
    return { header: `${nb.layer} (${agree}/${nb.k} agree)`, tiles };
  });
  return html(head + imageTable(layerRows, { scale: options.scale }).html);
}

/** One input set of {@link adversarialGallery}: its images and the DkNN's prediction on them. */
export interface GallerySet {
  name: string;
  images: ImageBatch;
  prediction: DkNNPrediction;
}

/**
 * Clean inputs beside their adversarial versions: one column per input (the first `count`), one
 * row per set; each tile gives the DNN's prediction (softmax) and the DkNN's (credibility), with
 * a green border where the DkNN is right and red where it is wrong.
 */
export function adversarialGallery(
  sets: GallerySet[],
  labels: ArrayLike<number>,
  options: { count?: number; classNames?: readonly string[]; indexOffset?: number; scale?: number } = {},
): Html {
  if (sets.length === 0) throw new Error('adversarialGallery: expected at least one set, found none');
  const count = Math.min(options.count ?? 6, ...sets.map((s) => s.prediction.n));
  const name = (c: number) => options.classNames?.[c] ?? String(c);
  const rows = sets.map((s) => ({
    header: s.name,
    tiles: Array.from({ length: count }, (_, i): GalleryTile => {
      const p = s.prediction;
      return {
        image: { batch: s.images, index: i },
        caption: `DNN ${name(p.dnnPredictions[i])} (${p.dnnConfidence[i].toFixed(2)}) · DkNN ${name(p.predictions[i])} (${p.credibility[i].toFixed(2)})`,
        border: p.predictions[i] === labels[i] ? BORDER.agree : BORDER.disagree,
      };
    }),
  }));
  const columns = Array.from(
    { length: count },
    (_, i) => `input ${(options.indexOffset ?? 0) + i} (${name(labels[i])})`,
  );
  return imageTable(rows, { scale: options.scale ?? 3, columns });
}
