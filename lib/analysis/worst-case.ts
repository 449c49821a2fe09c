import type { DkNNPrediction } from '../dknn/types';
/**
 * The strongest of several attacks, per input: how robustness is measured against an adaptive
 * attacker who tries every attack on every input and keeps what works (the practice of attack
 * ensembles such as AutoAttack). An input counts as robust only when the DkNN is right under every
 * attack; its adversarial example is then the first listed attack's. When some attacks fool the
 * DkNN, the example kept is the fooling one with the highest credibility (the attacker wants a
 * confident mistake), the first listed on ties.
 */

/** One attack's DkNN prediction on the same inputs, in the same order. */
export interface AttackRun {
  name: string;
  prediction: Pick<DkNNPrediction, 'n' | 'predictions' | 'credibility'>;
}

/** What {@link worstCaseOverAttacks} returns. */
export interface WorstCase {
  n: number;
  /** Share of inputs the DkNN gets right under every attack. */
  dknnAccuracy: number;
  /** Mean credibility of the examples kept. */
  meanCredibility: number;
  /** Share of the examples kept with credibility ≥ `lowCredibility` (default 0.1). */
  credibleShare: number;
  /** Per input, the index in `runs` of the example kept. */
  chosen: Int32Array;
  /** Per attack name, the inputs whose kept example is that attack's. */
  keptFrom: Record<string, number>;
}

/**
 * The per-input worst case over `runs` (see the module comment) against the true `labels`.
 * @throws when there is no run, or the runs cover different numbers of inputs than the labels.
 */
export function worstCaseOverAttacks(
  runs: AttackRun[],
  labels: ArrayLike<number>,
  options: { lowCredibility?: number } = {},
): WorstCase {
  if (runs.length === 0) throw new Error('worstCaseOverAttacks: expected at least one attack run, found none');
  const n = labels.length;
  for (const r of runs) {
    if (r.prediction.n !== n)
      throw new Error(
        `worstCaseOverAttacks: run ${JSON.stringify(r.name)} covers ${r.prediction.n} inputs, the labels ${n}`,
      );
  }
  const low = options.lowCredibility ?? 0.1;
  const chosen = new Int32Array(n);
  const keptFrom: Record<string, number> = Object.fromEntries(runs.map((r) => [r.name, 0]));
  let right = 0;
  let cred = 0;
  let credible = 0;
  for (let i = 0; i < n; i++) {
    let pick = -1;
    runs.forEach((r, a) => {
      const p = r.prediction;
      if (p.predictions[i] !== labels[i] && (pick < 0 || p.credibility[i] > runs[pick].prediction.credibility[i]))
        pick = a;
    });
    if (pick < 0) {
      pick = 0;
      right++;
    }
    chosen[i] = pick;
    keptFrom[runs[pick].name]++;
    const c = runs[pick].prediction.credibility[i];
    cred += c;
    if (c >= low) credible++;
  }
  return { n, dknnAccuracy: right / n, meanCredibility: cred / n, credibleShare: credible / n, chosen, keptFrom };
}
