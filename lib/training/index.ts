/** `dk.training`: training a zoo model (checkpoints, data-parallel workers, augmentation) and evaluating it. */
export {
  evaluateAccuracy,
  predictLogits,
  trainModel,
  type EpochRecord,
  type StepRecord,
  type TrainArgs,
  type TrainResult,
} from './train';
export { trainingHistory, type TrainingHistory } from './record';
export { randomAffineAugment, randomShiftAugment, type AffineAugmentOptions, type Augment } from './augment';
