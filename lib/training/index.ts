/** `dk.training`: training a zoo model (checkpoints, data-parallel workers, augmentation) and evaluating it. */
export { trainModel } from './train';
export { trainingHistory, type TrainingHistory } from './record';
export { randomAffineAugment, randomShiftAugment, type AffineAugmentOptions, type Augment } from './augment';
export type { EpochRecord, StepRecord, TrainArgs, TrainResult } from './types';
