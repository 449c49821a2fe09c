/** Adversarial attacks (CleverHans v4 style: one plain function per file, logits in, new tensor out). */
export { bim, type BimOptions } from './bim';
export { carliniWagnerL2, type CarliniWagnerL2Options } from './cw';
export { ATTACKS_CODE_VERSION, bimAttack, cwL2Attack, fgsmAttack, type Attack, type BimAttackOptions, type CwL2AttackOptions, type FgsmAttackOptions } from './attack';
export { adversarialCacheParts, craftAdversarial, craftBatches, type AdversarialSet, type BatchAttack, type CraftBatchesOptions, type CraftOptions } from './craft';
export { fgsm, type FgsmOptions } from './fgsm';
export { dknnGuidedAttack, meanOfClassAttack, targetClasses, type DknnAttackResult, type DknnGuidedAttackOptions } from './dknn-attack';
export { cleverhansBim, paperAttacks, type PresetOptions } from './presets';
export { perturbationNorms, type PerturbationNorms } from './norms';
export {
  checkClip, checkEps, checkNorm, clipEta, computeGradient, exactSign, logitsFn, modelPredictions, NORMS, optimizeLinear, crossEntropyFor, exactCrossEntropy, referenceCrossEntropy, GRADIENT_SEMANTICS,
  type GradientSemantics, type LossFn, type ModelFn, type Norm,
} from './utils';
export { worstCaseOverAttacks, type AttackRun, type WorstCase } from '../analysis/worst-case';
export { adaptiveAttackSweep, type AdaptiveSweepOptions, type AdaptiveSweepRow } from '../analysis/adaptive-sweep';
