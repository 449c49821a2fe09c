/**
 * The reference's training recipe (CleverHans' MNIST tutorial), the one definition of every
 * default of `trainModel`: the trainer, the experiment's checkpoint key and the CLI read it here,
 * so a checkpoint's key always describes what was trained.
 */
export const TRAIN_DEFAULTS = Object.freeze({
  /** Passes over the training data. */
  epochs: 6,
  /** Images per Adam step. */
  batchSize: 500,
  /** Adam learning rate (β1 0.9, β2 0.999, ε 1e-8). */
  learningRate: 0.001,
  /** Seed of the per-epoch shuffling (epoch e uses permutation seed `seed + e`). */
  seed: 1234,
  /** Threads computing gradients, the calling thread included. */
  workers: 1,
  /** Continue from the checkpoint when it exists. */
  resume: true,
});

/** Adam's moment decays and epsilon (TensorFlow's and PyTorch's defaults). */
export const ADAM = Object.freeze({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });

/** The recipe of a run: what changes the weights it trains, with the defaults filled in. */
export interface TrainingRecipe {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  workers: number;
}

/** The recipe `trainModel` runs for `args` (what checkpoint keys name; the one place defaults are filled). */
export function trainingRecipe(args: Partial<TrainingRecipe>): TrainingRecipe {
  const d = TRAIN_DEFAULTS;
  return {
    epochs: args.epochs ?? d.epochs,
    batchSize: args.batchSize ?? d.batchSize,
    learningRate: args.learningRate ?? d.learningRate,
    seed: args.seed ?? d.seed,
    workers: args.workers ?? d.workers,
  };
}
