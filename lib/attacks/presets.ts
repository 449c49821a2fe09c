/**
 * Named attack settings: the paper's (Papernot & McDaniel 2018, per dataset, from {@link PAPER})
 * as attack values ready for `craftAdversarial`.
 */
import { PAPER } from '../data/reference';
import { bimAttack, cwL2Attack, fgsmAttack, type Attack } from './attack';
import type { GradientSemantics } from './utils';

/** Options shared by the presets. */
export interface PresetOptions {
  /** Gradient semantics of FGSM and BIM. Default 'reference'. */
  gradient?: GradientSemantics;
  /** Images per FGSM/BIM batch. Default 250. */
  batchSize?: number;
  /** CW-L2 iterations per binary-search step instead of the paper's 2,000 (e.g. for a quick run; tables then say so). */
  cwMaxIterations?: number;
}

/**
 * The paper's attacks on `dataset`: FGSM at its ε; BIM at its ε, step and iterations (MNIST: 0.25,
 * 0.01 × 100); CW-L2 as reported (confidence 0, c = 1e-4, 2,000 iterations), with CleverHans'
 * defaults where the paper is silent (5 binary-search steps, learning rate 5e-3, abort early).
 */
export function paperAttacks(
  dataset: keyof typeof PAPER.table,
  options: PresetOptions = {},
): { fgsm: Attack; bim: Attack; cw: Attack } {
  const row = PAPER.table[dataset];
  if (!row)
    throw new Error(
      `paperAttacks: the paper has no ${JSON.stringify(dataset)} row; it has ${Object.keys(PAPER.table).join(', ')}`,
    );
  const { gradient = 'reference', batchSize, cwMaxIterations = PAPER.cwSettings.maxIterations } = options;
  return {
    fgsm: fgsmAttack({ eps: row.fgsm.eps, gradient, batchSize }),
    bim: bimAttack({ eps: row.bim.eps, epsIter: row.bim.epsIter, nbIter: row.bim.nbIter, gradient, batchSize }),
    cw: cwL2Attack({
      confidence: PAPER.cwSettings.confidence,
      initialConst: PAPER.cwSettings.initialConst,
      maxIterations: cwMaxIterations,
      binarySearchSteps: 5,
      learningRate: 5e-3,
    }),
  };
}
