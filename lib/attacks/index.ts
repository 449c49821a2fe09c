/**
 * `dk.attacks`: adversarial attacks. Attack values (`fgsmAttack`, …) craft whole sets through the
 * cache; the tensor functions (`fgsm`, `bim`, `cwL2`: logits in, new tensor out) are the
 * CleverHans-style building blocks; `square` and `hopSkipJump` need no gradients, only a model's
 * scores (`QueryFn`: a tfjs model through `tensorQueryFn`, an ONNX model, the DkNN through
 * `dknnQueryFn`); the guided attack targets the DkNN itself.
 */
export {
  bimAttack,
  cwL2Attack,
  fgsmAttack,
  hopSkipJumpAttack,
  squareAttack,
  type Attack,
  type BimAttackOptions,
  type CwL2AttackOptions,
  type FgsmAttackOptions,
  type HopSkipJumpAttackOptions,
  type SquareAttackOptions,
} from './attack';
export { paperAttacks, type PresetOptions } from './presets';
export { craftAdversarial, type AdversarialSet, type CraftOptions } from './craft';
export { fgsm, type FgsmOptions } from './fgsm';
export { bim, type BimOptions } from './bim';
export { cwL2, type CwL2Options } from './cw';
export { square, type SquareOptions } from './square';
export { hopSkipJump, type HopSkipJumpOptions } from './hop-skip-jump';
export { dknnQueryFn, onnxQueryFn, tensorQueryFn, type QueryFn, type QueryResult, type Scores } from './query';
export {
  dknnGuidedAttack,
  meanOfClassAttack,
  targetClasses,
  type DkNNAttackResult,
  type DkNNGuidedAttackOptions,
} from './dknn-attack';
export { perturbationNorms, type PerturbationNorms } from './norms';
export { GRADIENT_SEMANTICS, logitsFn, type GradientSemantics, type ModelFn, type Norm } from './utils';
