/**
 * Published numbers this project is compared with, in one place, each with its source. Notebooks
 * and the README print them beside the measured values; nothing here is used to compute results.
 */

/** Where a group of numbers comes from. */
export interface Source {
  /** Short name for tables, e.g. 'paper'. */
  name: string;
  /** Full citation or link. */
  citation: string;
}

/** The paper's table row for one dataset (accuracies as fractions). */
export interface PaperRow {
  clean: { dnnAccuracy: number; dknnAccuracy: number };
  fgsm: { eps: number; dnnAccuracy: number; dknnAccuracy: number };
  bim: { eps: number; epsIter: number; nbIter: number; dnnAccuracy: number; dknnAccuracy: number };
  cw: { confidence: number; dnnAccuracy: number; dknnAccuracy: number };
}

/** Papernot & McDaniel (2018), "Deep k-Nearest Neighbors: Towards Confident, Interpretable and Robust Deep Learning". */
export const PAPER = Object.freeze({
  source: { name: 'paper', citation: 'Papernot & McDaniel 2018, arXiv 1803.04765 (accuracy table of the adversarial-example evaluation; out-of-distribution experiment)' } as Source,
  /** CW-L2 as the paper reports it: confidence 0, c = 1e-4, 2,000 iterations. */
  cwSettings: { confidence: 0, initialConst: 1e-4, maxIterations: 2000 },
  table: {
    mnist: {
      clean: { dnnAccuracy: 0.992, dknnAccuracy: 0.991 },
      fgsm: { eps: 0.25, dnnAccuracy: 0.271, dknnAccuracy: 0.549 },
      bim: { eps: 0.25, epsIter: 0.01, nbIter: 100, dnnAccuracy: 0.007, dknnAccuracy: 0.168 },
      cw: { confidence: 0, dnnAccuracy: 0.007, dknnAccuracy: 0.944 },
    },
    svhn: {
      clean: { dnnAccuracy: 0.906, dknnAccuracy: 0.909 },
      fgsm: { eps: 0.05, dnnAccuracy: 0.093, dknnAccuracy: 0.286 },
      bim: { eps: 0.05, epsIter: 0.005, nbIter: 20, dnnAccuracy: 0.047, dknnAccuracy: 0.179 },
      cw: { confidence: 0, dnnAccuracy: 0.047, dknnAccuracy: 0.805 },
    },
    gtsrb: {
      clean: { dnnAccuracy: 0.934, dknnAccuracy: 0.936 },
      fgsm: { eps: 0.1, dnnAccuracy: 0.123, dknnAccuracy: 0.223 },
      bim: { eps: 0.1, epsIter: 0.005, nbIter: 20, dnnAccuracy: 0.065, dknnAccuracy: 0.136 },
      cw: { confidence: 0, dnnAccuracy: 0.03, dknnAccuracy: 0.745 },
    },
  } as Record<'mnist' | 'svhn' | 'gtsrb', PaperRow>,
  /** Out of distribution, MNIST model: mean DkNN credibility and mean softmax confidence. */
  outOfDistribution: {
    notMnist: { meanCredibility: 0.06, meanDnnConfidence: 0.33 },
    mnistRotated45: { meanCredibility: 0.09, meanDnnConfidence: 0.31 },
  },
});

/** The reference implementation's published runs (CleverHans `dknn.py`, exact search, MNIST). */
export const CLEVERHANS_RUNS = Object.freeze({
  source: { name: 'CleverHans run', citation: 'CleverHans PR #1073 (examples/dknn.py), two published runs with exact search' } as Source,
  clean: { dknnAccuracy: [0.988, 0.987] },
  fgsm: { eps: 0.25, dknnAccuracy: [0.335, 0.321], lowCredibility: 0.1, lowCredibilityShare: 6108 / 9250 },
});

/** Sitawarin & Wagner (2019): their guided attack on an MNIST DkNN, DkNN accuracy by L∞ ε (as retrieved for this project). */
export const SITAWARIN_WAGNER = Object.freeze({
  source: { name: 'Sitawarin & Wagner', citation: 'C. Sitawarin, D. Wagner (2019), "On the Robustness of Deep K-Nearest Neighbors" (chawins/dknn_attack)' } as Source,
  guidedAccuracy: Object.freeze({ 0.05: 0.961, 0.1: 0.842, 0.15: 0.532, 0.2: 0.174, 0.25: 0.021, 0.3: 0 }) as Readonly<Record<number, number>>,
  /** Their mean-of-class baseline at ε 0.25. */
  baselineAccuracy: { eps: 0.25, dknnAccuracy: 0.793 },
});
