/**
 * Whether a trained model is worth keeping: a loss that ended above both its start and a uniform
 * guess means the weights diverged, and a test accuracy no better than a model that ignores its
 * input means nothing was learned. `npm run train` refuses to save such a model unless told to.
 */
import type { EpochRecord, StepRecord } from './types';

/** What {@link trainingProblems} looks at. */
export interface TrainingOutcome {
  /** Every step's loss, the first being the loss of the initial weights. */
  steps: readonly StepRecord[];
  /** Every epoch's mean training loss. */
  epochs: readonly EpochRecord[];
  /** The epoch whose weights the model keeps (early stopping's best; default the last). */
  keptEpoch?: number;
  /** The model's accuracy on `labels`' images. */
  accuracy: number;
  /** The labels the accuracy was measured on. */
  labels: ArrayLike<number>;
  numClasses: number;
}

/** The largest class share of `labels` (what a constant prediction scores) and its 3-σ margin. */
export function chanceAccuracy(labels: ArrayLike<number>, numClasses: number): { chance: number; margin: number } {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const n = labels.length;
  const chance = Math.max(1 / numClasses, ...counts.map((c) => c / n));
  return { chance, margin: 3 * Math.sqrt((chance * (1 - chance)) / n) };
}

/**
 * What is wrong with a trained model, one sentence each (empty when nothing is):
 * - the loss rose: the mean training loss of the kept epoch is above both the first step's loss
 *   and ln(classes), the loss of a uniform guess. Requiring both keeps a fine-tune whose loss
 *   wobbles upward near zero from being called diverged, while a divergence (losses of 1e3 to 1e9)
 *   is far above both;
 * - the accuracy is at chance: a model that ignores its input scores at most the largest class's
 *   share (≥ 1 / classes); an accuracy within 3 standard errors of that share,
 *   3·√(p(1 − p)/n) (≈ 0.01 for MNIST's 10,000 test images), is not evidence of learning.
 */
export function trainingProblems(outcome: TrainingOutcome): string[] {
  const { steps, epochs, accuracy, labels, numClasses } = outcome;
  const problems: string[] = [];
  const first = steps[0]?.loss;
  const kept = epochs.find((e) => e.epoch === (outcome.keptEpoch ?? epochs.length)) ?? epochs[epochs.length - 1];
  const uniform = Math.log(numClasses);
  if (first !== undefined && kept && kept.loss > first && kept.loss > uniform) {
    problems.push(
      `the training loss rose from ${first.toPrecision(4)} (first step) to ${kept.loss.toPrecision(4)} (mean of epoch ${kept.epoch}), above ln(${numClasses}) = ${uniform.toFixed(3)} of a uniform guess: the weights diverged (learning rate too large?)`,
    );
  }
  const { chance, margin } = chanceAccuracy(labels, numClasses);
  if (!(accuracy > chance + margin)) {
    problems.push(
      `the test accuracy ${accuracy.toFixed(4)} is at chance: a model that ignores its input scores up to ${chance.toFixed(4)} (the largest class's share of the ${labels.length} test images), and a learned one more than ${(chance + margin).toFixed(4)} (3 standard errors above)`,
    );
  }
  return problems;
}
