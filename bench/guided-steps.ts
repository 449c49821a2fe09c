/**
 * `guided-steps` section: the guided DkNN attack's strength against its step budget, on the
 * committed MNIST model and the full DkNN (60,000 training images, ReLU1/ReLU3/ReLU5/logits,
 * k = 75, textbook p-values), on the first N evaluation images (test[750:750+N]): DkNN and DNN
 * accuracy and mean credibility of the adversarial inputs for each ε and step budget, beside the
 * clean inputs' (the baseline of the same run).
 *
 *   N=30 EPS=0.1,0.25 STEPS=100,400 GUIDES=75 npm run bench -- guided-steps
 */
import { summarizePrediction } from '../lib/analysis/summary';
import { dknnGuidedAttack } from '../lib/attacks/dknn-attack';
import { subset } from '../lib/data/split';
import { setupExperiment } from '../lib/experiment/experiment';

type Row = Record<string, string | number | boolean | null>;

/** A comma-separated list of numbers from the environment, or the default. */
function numbers(name: string, fallback: string): number[] {
  const raw = process.env[name] ?? fallback;
  const out = raw.split(',').map((s) => Number(s.trim()));
  if (out.some((v) => !Number.isFinite(v)))
    throw new Error(`${name} must be a comma-separated list of numbers, found ${JSON.stringify(raw)}`);
  return out;
}

export async function benchGuidedSteps(): Promise<{
  section: string;
  description: string;
  rows: Row[];
  notes: string[];
}> {
  const [n] = numbers('N', '30');
  const [guides] = numbers('GUIDES', '75');
  const epsilons = numbers('EPS', '0.25');
  const budgets = numbers('STEPS', '100,400');
  const ex = await setupExperiment({
    dataset: 'mnist',
    model: 'pretrained',
    calibEnd: 750,
    evalEnd: 10000,
    progress: 'terminal',
  });
  const dknn = await ex.fitDkNN({ layers: ['ReLU1', 'ReLU3', 'ReLU5', 'logits'], k: 75, formula: 'conformal' });
  const x = subset(ex.eval, { end: n });
  const clean = await dknn.predict(x);
  const c = summarizePrediction(clean, x.labels);
  const rows: Row[] = [
    {
      inputs: 'clean',
      eps: 0,
      steps: 0,
      dknnAccuracy: c.dknnAccuracy,
      meanCredibility: c.meanCredibility,
      dnnAccuracy: c.dnnAccuracy,
      seconds: 0,
    },
  ];
  for (const eps of epsilons)
    for (const steps of budgets) {
      const adv = await dknnGuidedAttack(dknn, x, {
        train: ex.train,
        eps,
        steps,
        guides,
        clean,
        onProgress: ex.progress(),
      });
      const s = summarizePrediction(await dknn.predict(adv), x.labels);
      rows.push({
        inputs: 'guided',
        eps,
        steps,
        dknnAccuracy: s.dknnAccuracy,
        meanCredibility: s.meanCredibility,
        dnnAccuracy: s.dnnAccuracy,
        seconds: adv.seconds,
      });
    }
  ex.dispose();
  return {
    section: 'guided-steps',
    description: `The guided DkNN attack by ε and step budget, ${guides} guides, on the first ${n} MNIST evaluation images (full DkNN, textbook p-values).`,
    rows,
    notes: ['seconds: the attack as crafted (as recorded when it was cached).'],
  };
}
