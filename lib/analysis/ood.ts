/**
 * Out-of-distribution detection with the DkNN (the paper's second claim): on inputs from another
 * distribution (notMNIST letters, rotated digits), the DkNN's credibility should be low where the
 * softmax stays confident. Numbers: mean credibility and softmax confidence per set, and the
 * AUROC of each score as a detector of "in distribution" (in-distribution inputs positive).
 */
import { rocAuc, rocCurve } from '../metrics/classification';
import { mean, shareBelow } from '../metrics/stats';
import type { DkNNPrediction } from '../dknn/types';

/** One out-of-distribution set against the in-distribution inputs. */
export interface OodRow {
  name: string;
  /** Inputs in the set. */
  n: number;
  /** E.g. the rotation angle in degrees, for curves; null when the set has none. */
  parameter: number | null;
  meanCredibility: number;
  meanDnnConfidence: number;
  /** Share of the set's inputs with credibility below 0.1. */
  lowCredibilityShare: number;
  /** AUROC of the credibility separating the in-distribution inputs (positive) from this set. */
  aurocCredibility: number;
  /** AUROC of the DNN's softmax confidence, the same way. */
  aurocDnnConfidence: number;
}

function joined(
  inDist: DkNNPrediction,
  out: DkNNPrediction,
  key: 'credibility' | 'dnnConfidence',
): { scores: Float64Array; positives: Uint8Array } {
  const scores = new Float64Array(inDist.n + out.n);
  scores.set(inDist[key], 0);
  scores.set(out[key], inDist.n);
  const positives = new Uint8Array(inDist.n + out.n);
  positives.fill(1, 0, inDist.n);
  return { scores, positives };
}

/** The row of each set (see {@link OodRow}); the in-distribution set itself can be one of them (AUROC 0.5). */
export function outOfDistribution(
  inDist: DkNNPrediction,
  sets: { name: string; prediction: DkNNPrediction; parameter?: number }[],
): OodRow[] {
  if (inDist.n === 0) throw new Error('outOfDistribution: expected in-distribution inputs, found none');
  return sets.map((s) => {
    const p = s.prediction;
    if (p.n === 0) throw new Error(`outOfDistribution: set ${s.name} holds no input`);
    const cred = joined(inDist, p, 'credibility');
    const conf = joined(inDist, p, 'dnnConfidence');
    return {
      name: s.name,
      n: p.n,
      parameter: s.parameter ?? null,
      meanCredibility: mean(p.credibility),
      meanDnnConfidence: mean(p.dnnConfidence),
      lowCredibilityShare: shareBelow(p.credibility, 0.1),
      aurocCredibility: rocAuc(cred.scores, cred.positives),
      aurocDnnConfidence: rocAuc(conf.scores, conf.positives),
    };
  });
}

/** A score's ROC curve separating the in-distribution inputs (positive) from a set. */
export interface OodRocCurve {
  /** The score: the DkNN's credibility or the DNN's softmax confidence. */
  score: 'credibility' | 'dnnConfidence';
  auroc: number;
  fpr: Float64Array;
  tpr: Float64Array;
}

/** The ROC curves of the credibility and of the softmax confidence separating `inDist` (positive) from `out`. */
export function oodRocCurves(inDist: DkNNPrediction, out: DkNNPrediction): OodRocCurve[] {
  return (['credibility', 'dnnConfidence'] as const).map((score) => {
    const j = joined(inDist, out, score);
    const c = rocCurve(j.scores, j.positives);
    return { score, auroc: rocAuc(j.scores, j.positives), fpr: c.fpr, tpr: c.tpr };
  });
}
