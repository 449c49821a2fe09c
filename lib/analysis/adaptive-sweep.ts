/**
 * The adaptive-attack experiment of notebook 08 as one call: for each ε, the guided attack on the
 * DkNN, FGSM and BIM on the DNN, and the mean-of-class baseline, each fed to the DkNN; per attack
 * its DkNN accuracy and mean credibility, and the per-input worst case over all four
 * (`worst-case.ts`) — what an attacker who tries every attack on every input achieves.
 */
import type { DkNN } from '../dknn/dknn';
import type { Attack } from '../attacks/attack';
import type { AdversarialSet } from '../attacks/craft';
import type { ProgressCallback } from '../util/progress';
import { summarizePrediction } from './summary';
import { bimAttack, fgsmAttack } from '../attacks/attack';
import { dknnGuidedAttack, meanOfClassAttack } from '../attacks/dknn-attack';
import { worstCaseOverAttacks } from './worst-case';
import type { ImageBatch, LabeledImages } from '../data/types';
import type { DkNNPrediction } from '../dknn/types';

/** Options of {@link adaptiveAttackSweep}. */
export interface AdaptiveSweepOptions {
  /** The inputs attacked, with their true labels. */
  inputs: LabeledImages;
  /** L∞ radii. */
  epsilons: number[];
  /** Guided attack: Adam steps and guides per input. */
  steps: number;
  guides: number;
  /** BIM on the DNN: step size and iterations (the paper's 0.01 × 100 by default). */
  bimEpsIter?: number;
  bimNbIter?: number;
  /** The inputs' clean DkNN prediction, when already computed. */
  clean?: DkNNPrediction;
}

/** One ε of the sweep. */
export interface AdaptiveSweepRow {
  eps: number;
  /** Per attack (guided, FGSM, BIM, mean-of-class): DkNN accuracy and mean credibility. */
  accuracy: Record<string, number>;
  credibility: Record<string, number>;
  /** Worst case per input over the four attacks. */
  worstAccuracy: number;
  worstCredibility: number;
  /** Inputs whose worst-case example came from each attack. */
  worstFrom: Record<string, number>;
  /** Share of guided adversarial inputs with credibility ≥ 0.1. */
  guidedCredibleShare: number;
  /** Seconds the guided attack took (as recorded when cached). */
  guidedSeconds: number;
}

/**
 * What the sweep needs of its surroundings: the DkNN's training images, crafting and predicting
 * with progress and timings, and the artifact cache. An `Experiment` is one.
 */
export interface AttackBench {
  /** The DkNN's training images (the guided attack's guides are among them). */
  readonly train: LabeledImages;
  readonly cache: { readonly dir: string | false };
  readonly timer: { time<T>(stage: string, run: () => Promise<T>): Promise<T> };
  progress(): ProgressCallback | undefined;
  craft(attack: Attack, data: ImageBatch): Promise<AdversarialSet>;
  predict(dknn: DkNN, options: { data: ImageBatch; stage: string }): Promise<DkNNPrediction>;
}

/** Runs the sweep (see the module comment) on `inputs` with the bench's training set, caches and timers (e.g. an `Experiment`). */
export async function adaptiveAttackSweep(
  ex: AttackBench,
  dknn: DkNN,
  options: AdaptiveSweepOptions,
): Promise<AdaptiveSweepRow[]> {
  const { inputs } = options;
  const clean = options.clean ?? (await ex.predict(dknn, { data: inputs, stage: 'predict attack inputs' }));
  const rows: AdaptiveSweepRow[] = [];
  for (const eps of options.epsilons) {
    const guided = await ex.timer.time(`guided attack ε ${eps}`, () =>
      dknnGuidedAttack(dknn, inputs, {
        train: ex.train,
        eps,
        steps: options.steps,
        guides: options.guides,
        clean,
        cache: ex.cache.dir,
        onProgress: ex.progress(),
      }),
    );
    const sets: [string, ImageBatch][] = [
      ['guided', guided],
      ['FGSM', await ex.craft(fgsmAttack({ eps }), inputs)],
      [
        'BIM',
        await ex.craft(
          bimAttack({ eps, epsIter: options.bimEpsIter ?? 0.01, nbIter: options.bimNbIter ?? 100 }),
          inputs,
        ),
      ],
      ['mean-of-class', await meanOfClassAttack(dknn, inputs, { train: ex.train, eps, clean })],
    ];
    const runs = [];
    for (const [name, set] of sets)
      runs.push({ name, prediction: await ex.predict(dknn, { data: set, stage: `predict ${name} ε ${eps}` }) });
    const sums = runs.map((r) => summarizePrediction(r.prediction, inputs.labels));
    const worst = worstCaseOverAttacks(runs, inputs.labels);
    rows.push({
      eps,
      accuracy: Object.fromEntries(runs.map((r, i) => [r.name, sums[i].dknnAccuracy])),
      credibility: Object.fromEntries(runs.map((r, i) => [r.name, sums[i].meanCredibility])),
      worstAccuracy: worst.dknnAccuracy,
      worstCredibility: worst.meanCredibility,
      worstFrom: worst.keptFrom,
      guidedCredibleShare: 1 - sums[0].lowCredibilityShare,
      guidedSeconds: guided.seconds,
    });
  }
  return rows;
}
