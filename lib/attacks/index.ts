/**
 * `dk.attacks`: adversarial attacks. Attack values (`fgsmAttack`, …) craft whole sets through the
 * cache; the tensor functions (`fgsm`, `bim`, `cwL2`: logits in, new tensor out) are the
 * CleverHans-style building blocks; the guided attack targets the DkNN itself.
 */
export {
  bimAttack,
  cwL2Attack,
  fgsmAttack,
  type Attack,
  type BimAttackOptions,
  type CwL2AttackOptions,
  type FgsmAttackOptions,
} from './attack';
export { paperAttacks, type PresetOptions } from './presets';
export { craftAdversarial, type AdversarialSet, type CraftOptions } from './craft';
export { fgsm, type FgsmOptions } from './fgsm';
export { bim, type BimOptions } from './bim';
export { cwL2, type CwL2Options } from './cw';
export {
  dknnGuidedAttack,
  meanOfClassAttack,
  targetClasses,
  type DkNNAttackResult,
  type DkNNGuidedAttackOptions,
} from './dknn-attack';
export { perturbationNorms, type PerturbationNorms } from './norms';
export { GRADIENT_SEMANTICS, logitsFn, type GradientSemantics, type ModelFn, type Norm } from './utils';
