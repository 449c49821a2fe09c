/**
 * The guided DkNN attack's strength against its step budget, on the committed MNIST model and the
 * full DkNN (60,000 training images, ReLU1/ReLU3/ReLU5/logits, k = 75, textbook p-values), on the
 * first N evaluation images (test[750:750+N]). Prints DkNN accuracy and mean credibility of the
 * adversarial inputs for each ε and step budget.
 *
 *   N=30 EPS=0.1,0.25 STEPS=100,400 GUIDES=75 npx tsx bench/guided-attack-steps.mts
 */
import { setupExperiment } from '../lib/experiment/experiment.ts';
import { subset } from '../lib/data/split';
import { dknnGuidedAttack } from '../lib/attacks/dknn-attack.ts';
import { summarizePrediction } from '../lib/analysis/summary.ts';

const N = Number(process.env.N ?? 30);
const epsilons = (process.env.EPS ?? '0.25').split(',').map(Number);
const guides = Number(process.env.GUIDES ?? 75);
const budgets = (process.env.STEPS ?? '100,400').split(',').map(Number);
const ex = await setupExperiment({ dataset: 'mnist', model: 'pretrained', calibEnd: 750, evalEnd: 10000 });
const dknn = await ex.fitDkNN({ layers: ['ReLU1', 'ReLU3', 'ReLU5', 'logits'], k: 75, formula: 'conformal' });
const x = subset(ex.eval, 0, N);
const clean = await dknn.predict(x);
const c = summarizePrediction(clean, x.labels);
console.log(
  `clean: ${N} images, DkNN accuracy ${c.dknnAccuracy.toFixed(3)}, mean credibility ${c.meanCredibility.toFixed(3)}`,
);
for (const eps of epsilons)
  for (const steps of budgets) {
    const adv = await dknnGuidedAttack(dknn, ex.train, x, { eps, steps, guides, clean });
    const s = summarizePrediction(await dknn.predict(adv), x.labels);
    console.log(
      `guided ε ${eps}, ${steps} steps, ${guides} guides: DkNN accuracy ${s.dknnAccuracy.toFixed(3)}, mean credibility ${s.meanCredibility.toFixed(3)}, DNN accuracy ${s.dnnAccuracy.toFixed(3)}, ${adv.seconds.toFixed(0)} s`,
    );
  }
