/**
 * `gradient-free` section: the attacks that need no gradients beside BIM, on the committed MNIST
 * CNN at ε 0.25 (L∞), on the first N evaluation images (test[750:750+N]), labels = the DNN's
 * predictions: BIM at the paper's settings (100 × 0.01), Square (scores) at each initial square
 * fraction p, HopSkipJump (decisions, L∞): the DNN's accuracy, the queries per image (mean and
 * median, over all images and over the fooled ones), seconds; then the DkNN (fit on the first
 * TRAIN_SUBSET training images, calibrated on test[0:750], the model's recorded layers, k 75) on
 * the clean and each attacked set; and, when DKNN_SQUARE_N > 0, Square against the DkNN itself
 * (its p-values as the scores) on the first DKNN_SQUARE_N of the images. Every set is crafted
 * here (no cache), on WORKERS threads.
 *
 *   N=100 SQUARE_QUERIES=5000 SQUARE_P=0.05,0.8 HSJ_QUERIES=5000 TRAIN_SUBSET=5000 npm run bench -- gradient-free
 */
import { summarizePrediction } from '../lib/analysis/summary';
import { hopSkipJumpAttack, squareAttack, type Attack } from '../lib/attacks/attack';
import { craftAdversarial, type AdversarialSet } from '../lib/attacks/craft';
import { paperAttacks } from '../lib/attacks/presets';
import { dknnQueryFn } from '../lib/attacks/query';
import { subset } from '../lib/data/split';
import type { ImageBatch } from '../lib/data/types';
import { setupExperiment } from '../lib/experiment/experiment';
import { argmaxRows, predictLogits } from '../lib/models/predict';
import { terminalProgress } from '../lib/util/progress';

type Row = Record<string, string | number | boolean | null>;

function numbers(name: string, fallback: string): number[] {
  const raw = process.env[name] ?? fallback;
  const out = raw.split(',').map((s) => Number(s.trim()));
  if (out.some((v) => !Number.isFinite(v)))
    throw new Error(`${name} must be a comma-separated list of numbers, found ${JSON.stringify(raw)}`);
  return out;
}

const round = (v: number, digits = 4) => Number(v.toFixed(digits));

function median(v: number[]): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function mean(v: number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}

/** The largest L∞ distance of `adv` from `x`, over all images. */
function maxLinf(x: ImageBatch, adv: Float32Array): number {
  let m = 0;
  for (let i = 0; i < adv.length; i++) m = Math.max(m, Math.abs(adv[i] - x.images[i]));
  return m;
}

export async function benchGradientFree(): Promise<{
  section: string;
  description: string;
  rows: Row[];
  notes: string[];
  extra: Record<string, unknown>;
}> {
  const [n] = numbers('N', '100');
  const [squareQueries] = numbers('SQUARE_QUERIES', '5000');
  const pInits = numbers('SQUARE_P', '0.05,0.8');
  const [hsjQueries] = numbers('HSJ_QUERIES', '5000');
  const [trainSubset] = numbers('TRAIN_SUBSET', '5000');
  const [workers] = numbers('WORKERS', '1');
  const [dknnSquareN] = numbers('DKNN_SQUARE_N', '0');
  const [dknnSquareQueries] = numbers('DKNN_SQUARE_QUERIES', '300');
  const eps = 0.25;
  const ex = await setupExperiment({
    dataset: 'mnist',
    model: 'pretrained',
    trainSubset,
    calibEnd: 750,
    evalEnd: 750 + n,
    progress: 'terminal',
  });
  const model = ex.model!;
  const x = ex.eval;
  const labels = x.labels;
  const dnn = (images: Float32Array) => argmaxRows(predictLogits(model, { ...x, images }), 10);
  const accuracy = (pred: ArrayLike<number>, of = labels) =>
    Array.from(pred).filter((c, i) => c === of[i]).length / pred.length;
  const clean = dnn(x.images);
  const attacks: Attack[] = [
    paperAttacks('mnist').bim,
    ...pInits.map((pInit) => squareAttack({ eps, maxQueries: squareQueries, pInit, seed: 0 })),
    hopSkipJumpAttack({ eps, norm: 'linf', maxQueries: hsjQueries, seed: 0 }),
  ];
  const rows: Row[] = [{ attack: 'clean', dnnAccuracy: round(accuracy(clean)) }];
  const sets: { attack: Attack; set: AdversarialSet }[] = [];
  for (const attack of attacks) {
    const set = await craftAdversarial(model, x, { attack, cache: false, workers, onProgress: terminalProgress() });
    sets.push({ attack, set });
    const pred = dnn(set.images);
    const fooled = Array.from(pred, (c, i) => c !== clean[i]);
    const q = set.queries ? Array.from(set.queries) : [];
    const qFooled = q.filter((_, i) => fooled[i]);
    rows.push({
      attack: attack.label,
      dnnAccuracy: round(accuracy(pred)),
      successRate: round(mean(fooled.map(Number))),
      maxLinf: round(maxLinf(x, set.images), 6),
      meanQueries: set.queries ? round(mean(q), 1) : null,
      medianQueries: set.queries ? median(q) : null,
      meanQueriesFooled: set.queries ? round(mean(qFooled), 1) : null,
      medianQueriesFooled: set.queries ? median(qFooled) : null,
      seconds: round(set.seconds, 1),
      threads: set.workers,
    });
  }
  // The DkNN on the clean and the attacked sets.
  const dknn = await ex.fitDkNN({ k: 75 });
  const summary = async (images: Float32Array) =>
    summarizePrediction(await dknn.predict({ ...x, images }, { onProgress: terminalProgress() }), labels);
  const cleanSummary = await summary(x.images);
  rows[0].dknnAccuracy = round(cleanSummary.dknnAccuracy);
  rows[0].dknnMeanCredibility = round(cleanSummary.meanCredibility);
  for (const [i, { set }] of sets.entries()) {
    const s = await summary(set.images);
    rows[i + 1].dknnAccuracy = round(s.dknnAccuracy);
    rows[i + 1].dknnMeanCredibility = round(s.meanCredibility);
  }
  // Square against the DkNN itself, its p-values as the scores.
  if (dknnSquareN > 0) {
    const xs = subset(x, { end: dknnSquareN });
    const attack = squareAttack({ eps, maxQueries: dknnSquareQueries, pInit: pInits.at(-1)!, seed: 0 });
    const cleanPred = await dknn.predict(xs);
    const set = await craftAdversarial(dknnQueryFn(dknn), xs, {
      attack,
      cache: false,
      onProgress: terminalProgress(),
    });
    const pred = await dknn.predict({ ...xs, images: set.images });
    const dnnPred = argmaxRows(predictLogits(model, { ...xs, images: set.images }), 10);
    const q = Array.from(set.queries!);
    const qFooled = q.filter((_, i) => pred.predictions[i] !== cleanPred.predictions[i]);
    rows.push({
      attack: `${attack.label}, against the DkNN (its p-values), first ${xs.n} images`,
      dnnAccuracy: round(accuracy(dnnPred, xs.labels)),
      successRate: round(mean(Array.from(pred.predictions, (c, i) => Number(c !== cleanPred.predictions[i])))),
      maxLinf: round(maxLinf(xs, set.images), 6),
      meanQueries: round(mean(q), 1),
      medianQueries: median(q),
      meanQueriesFooled: round(mean(qFooled), 1),
      medianQueriesFooled: median(qFooled),
      seconds: round(set.seconds, 1),
      threads: set.workers,
      dknnAccuracy: round(accuracy(pred.predictions, xs.labels)),
      dknnMeanCredibility: round(mean(Array.from(pred.credibility))),
      cleanDknnAccuracyOfTheseImages: round(accuracy(cleanPred.predictions, xs.labels)),
    });
  }
  ex.dispose();
  const bimAcc = Number(rows[1].dnnAccuracy);
  const squareRows = rows.filter((r) => String(r.attack).startsWith('Square') && !String(r.attack).includes('DkNN'));
  return {
    section: 'gradient-free',
    description: `Attacks without gradients beside BIM on the committed MNIST CNN, ε ${eps} (L∞), on the first ${n} evaluation images (test[750:${750 + n}]), labels = the DNN's predictions; the DkNN fit on the first ${trainSubset} training images (not the full 60,000), calibrated on test[0:750], k 75, layers ${dknn.info().layers.join('/')}.`,
    rows,
    notes: [
      ...squareRows.map(
        (r) =>
          `target: Square's DNN accuracy within ±0.05 of BIM's (${bimAcc}): ${r.attack}: ${r.dnnAccuracy} — ${Math.abs(Number(r.dnnAccuracy) - bimAcc) <= 0.05 ? 'met' : 'NOT met'}`,
      ),
      'queries count every model call of an image, its clean query included (its label when none is given); an image stops once misclassified (Square) or once its boundary point is within ε (HopSkipJump); medians over the images the attack fooled beside those over all',
      'HopSkipJump minimises the L∞ distance to the boundary; an image whose boundary point is still farther than ε when the budget runs out ends at its projection into the ε ball (its row counts it as not fooled unless that projection fools the DNN)',
      "the DkNN's accuracy on the examples crafted against the DNN measures their transfer: Square and HopSkipJump stop at the first query that changes the DNN's label, so their examples lie just past its boundary, where BIM's 100 steps go on to the ε ball's far side",
      ...(dknnSquareN > 0
        ? [
            `the last row attacks the DkNN itself (Square on its p-values, ${dknnSquareQueries} queries, each a DkNN predict): its successRate is the DkNN's, dnnAccuracy the DNN's on those examples`,
          ]
        : []),
      `crafted here, not read from the cache, on ${workers} thread(s); seconds include the forward passes on a shared 2-core machine`,
    ],
    extra: { n, eps, squareQueries, pInits, hsjQueries, trainSubset, workers, dknnSquareN, dknnSquareQueries },
  };
}
