/**
 * Attacks as values: an attack with its options resolved, ready to craft a whole image set with
 * {@link craftAdversarial}. Its `options` (every option that changes the result, defaults filled
 * in) are what the adversarial cache is keyed by, so a notebook never types a cache key by hand.
 *
 * ```ts
 * const fgsm = fgsmAttack({ eps: 0.25 });          // L∞, clipped to [0, 1], labels = the model's predictions
 * const adv = await craftAdversarial(model, evalSet, { attack: fgsm, onProgress });
 * ```
 */
import { checkPositiveInt } from '../util/checks';
import * as tf from '@tensorflow/tfjs';
import { bim, type BimOptions } from './bim';
import { cwL2, type CwL2Options } from './cw';
import { fgsm, type FgsmOptions } from './fgsm';
import { checkClip, checkEps, checkNorm, crossEntropyFor, type ModelFn } from './utils';
import { hopSkipJumpPlan, resolveHopSkipJumpOptions, type HopSkipJumpOptions } from './hop-skip-jump';
import { resolveSquareOptions, squarePlan, type SquareOptions } from './square';
import { answerPlanSync, tensorQueryFn, type QueryPlan } from './query';
import type { ImageBatch } from '../data/types';

/** Bumped when an attack's code changes its results, so cached adversarial sets are not re-used. */
export const ATTACKS_CODE_VERSION = 2;

/** An attack and its options, ready to run on batches of a set (see the module comment). */
export interface Attack {
  /** The attack's name: 'fgsm', 'bim', 'cw-l2', 'square' or 'hop-skip-jump'. */
  readonly name: string;
  /** A short description for tables and figures, e.g. 'FGSM ε 0.25, L∞'. */
  readonly label: string;
  /** Every option that changes the result (defaults resolved), as JSON data: part of the cache key. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The call that made this value, as plain data: how a worker thread rebuilds it ({@link attackFromSpec}). */
  readonly spec: AttackSpec;
  /** Images per batch. */
  readonly batchSize: number;
  /** Gradient steps per image, at most (FGSM 1, BIM its iterations, CW its binary-search steps × iterations, the query attacks a third of their queries): a cost estimate. */
  readonly stepsPerImage: number;
  /**
   * Crafts one batch against `modelFn` (logits). Tensor ownership: `x` belongs to the caller; the
   * returned tensor (shaped like `x`) is new and belongs to the caller. `onBatchProgress`, where
   * the attack reports within a batch (CW-L2: after each binary-search step), gets the fraction
   * of the batch done.
   */
  run(modelFn: ModelFn, x: tf.Tensor4D, onBatchProgress?: (fraction: number) => void): tf.Tensor;
  /**
   * The attacks that need no gradients (Square, HopSkipJump) only: a batch's attack as a query
   * plan (`query.ts`), which any model answering queries drives — a tfjs model, an ONNX model, the
   * DkNN — and which counts each image's queries. `run` drives it with `modelFn` and keeps the images.
   */
  readonly plan?: (x: ImageBatch, onBatchProgress?: (fraction: number) => void) => QueryPlan;
}

/** An attack value's factory and its options, as plain data (structured-clone safe). */
export type AttackSpec =
  | { readonly name: 'fgsm'; readonly options: FgsmAttackOptions }
  | { readonly name: 'bim'; readonly options: BimAttackOptions }
  | { readonly name: 'cw-l2'; readonly options: CwL2AttackOptions }
  | { readonly name: 'square'; readonly options: SquareAttackOptions }
  | { readonly name: 'hop-skip-jump'; readonly options: HopSkipJumpAttackOptions };

/** Options every attack value shares. */
interface AttackValueOptions {
  /** Images per batch. Default 250 (FGSM, BIM), 100 (CW-L2, Square) or 20 (HopSkipJump). */
  batchSize?: number;
}

const NORM_LABEL = { linf: 'L∞', l2: 'L2', l1: 'L1' } as const;

/** FGSM options of an attack value: labels are always the model's own predictions (untargeted). */
export type FgsmAttackOptions = Omit<FgsmOptions, 'y' | 'targeted' | 'lossFn'> & AttackValueOptions;

/** FGSM (see {@link fgsm}), clipped to [0, 1] unless other bounds are given, labels = the model's predictions, the `'reference'` gradient unless told. */
export function fgsmAttack(options: FgsmAttackOptions): Attack {
  const { eps, norm = 'linf', clipMin = 0, clipMax = 1, batchSize = 250, gradient = 'reference' } = options;
  checkEps(eps);
  checkNorm(norm);
  checkClip(clipMin, clipMax);
  checkPositiveInt('batchSize', batchSize);
  crossEntropyFor(gradient);
  const resolved = { eps, norm, clipMin, clipMax, gradient };
  return {
    name: 'fgsm',
    spec: { name: 'fgsm', options: { ...options } },
    label: `FGSM ε ${eps}, ${NORM_LABEL[norm]}, ${gradient} gradient`,
    options: { ...resolved, labels: 'model-predictions', code: ATTACKS_CODE_VERSION },
    batchSize,
    stepsPerImage: 1,
    run: (modelFn, x) => fgsm(modelFn, x, resolved),
  };
}

/** BIM options of an attack value (untargeted, labels = the model's predictions on the clean inputs). */
export type BimAttackOptions = Omit<BimOptions, 'y' | 'targeted' | 'lossFn'> & AttackValueOptions;

/** BIM / PGD (see {@link bim}), clipped to [0, 1] unless other bounds are given. */
export function bimAttack(options: BimAttackOptions): Attack {
  const {
    eps,
    epsIter,
    nbIter,
    norm = 'linf',
    clipMin = 0,
    clipMax = 1,
    randInit = false,
    randMinmax = eps,
    seed,
    batchSize = 250,
    gradient = 'reference',
  } = options;
  crossEntropyFor(gradient);
  checkEps(eps);
  checkEps(epsIter, 'epsIter');
  checkPositiveInt('nbIter', nbIter);
  checkNorm(norm);
  checkClip(clipMin, clipMax);
  checkPositiveInt('batchSize', batchSize);
  if (randInit && seed === undefined)
    throw new Error('bimAttack: randInit needs a seed (an unseeded random start cannot be cached or reproduced)');
  const resolved = { eps, epsIter, nbIter, norm, clipMin, clipMax, randInit, randMinmax, seed, gradient };
  return {
    name: 'bim',
    spec: { name: 'bim', options: { ...options } },
    label: `BIM ε ${eps}, ${nbIter} × ${epsIter}, ${NORM_LABEL[norm]}${randInit ? ', random start' : ''}, ${gradient} gradient`,
    options: { ...resolved, seed: seed ?? null, labels: 'model-predictions', code: ATTACKS_CODE_VERSION },
    batchSize,
    stepsPerImage: nbIter,
    run: (modelFn, x) => bim(modelFn, x, resolved),
  };
}

/** Carlini-Wagner L2 options of an attack value (untargeted, labels = the model's predictions). */
export type CwL2AttackOptions = Omit<CwL2Options, 'y' | 'targeted' | 'onProgress'>;

/** Carlini-Wagner L2 (see {@link cwL2}); defaults are CleverHans' except `batchSize` 100. */
export function cwL2Attack(options: CwL2AttackOptions = {}): Attack {
  const {
    confidence = 0,
    learningRate = 5e-3,
    binarySearchSteps = 5,
    maxIterations = 1000,
    abortEarly = true,
    initialConst = 1e-2,
    clipMin = 0,
    clipMax = 1,
    batchSize = 100,
  } = options;
  checkPositiveInt('batchSize', batchSize);
  const resolved = {
    confidence,
    learningRate,
    binarySearchSteps,
    maxIterations,
    abortEarly,
    initialConst,
    clipMin,
    clipMax,
    batchSize,
  };
  return {
    name: 'cw-l2',
    spec: { name: 'cw-l2', options: { ...options } },
    label: `CW-L2, ${binarySearchSteps} × ${maxIterations} iterations, lr ${learningRate}, c₀ ${initialConst}`,
    options: { ...resolved, labels: 'model-predictions', code: ATTACKS_CODE_VERSION },
    batchSize,
    stepsPerImage: binarySearchSteps * maxIterations,
    run: (modelFn, x, onBatchProgress) =>
      cwL2(modelFn, x, {
        ...resolved,
        onProgress: onBatchProgress && ((e) => onBatchProgress(e.total > 0 ? e.done / e.total : 1)),
      }),
  };
}

/** Bumped when Square's or HopSkipJump's code changes their results (their cache key holds it beside {@link ATTACKS_CODE_VERSION}). */
export const QUERY_ATTACKS_CODE_VERSION = 1;

/** `run` of a query attack: its plan driven on the thread's tfjs model, the images kept. */
function runPlan(plan: NonNullable<Attack['plan']>): Attack['run'] {
  return (modelFn, x, onBatchProgress) => {
    const [n, height, width, channels] = x.shape;
    const batch = { images: x.dataSync() as Float32Array, n, height, width, channels };
    return tf.tensor4d(answerPlanSync(plan(batch, onBatchProgress), tensorQueryFn(modelFn), batch).images, x.shape);
  };
}

/**
 * The attack value of a query attack: its options in the cache key (with the batch size, the
 * labels' origin and both code versions), `batchSize` images attacked in lockstep, one model call
 * per round. A query (one forward pass) costs about a third of a gradient step.
 */
function queryAttack<R extends { maxQueries: number }>(p: {
  spec: AttackSpec;
  label: string;
  resolved: R;
  batchSize: number;
  plan: (x: ImageBatch, resolved: R, progress?: (f: number) => void) => ReturnType<NonNullable<Attack['plan']>>;
}): Attack {
  const { spec, resolved, batchSize } = p;
  checkPositiveInt('batchSize', batchSize);
  const plan = (x: ImageBatch, progress?: (f: number) => void) => p.plan(x, resolved, progress);
  return {
    name: spec.name,
    spec,
    label: p.label,
    options: {
      ...resolved,
      batchSize,
      labels: 'model-predictions',
      code: ATTACKS_CODE_VERSION,
      queryCode: QUERY_ATTACKS_CODE_VERSION,
    },
    batchSize,
    stepsPerImage: Math.ceil(resolved.maxQueries / 3),
    plan,
    run: runPlan(plan),
  };
}

/** Square Attack options of an attack value (untargeted, labels = the model's predictions on the clean images). */
export type SquareAttackOptions = Omit<SquareOptions, 'y'> & AttackValueOptions;

/**
 * The Square Attack (see `square.ts`; L∞, scores only), clipped to [0, 1] unless other bounds
 * are given; `batchSize` (default 100) images are attacked in lockstep, one model call per round.
 */
export function squareAttack(options: SquareAttackOptions): Attack {
  const resolved = resolveSquareOptions(options);
  return queryAttack({
    spec: { name: 'square', options: { ...options } },
    label: `Square ε ${resolved.eps}, L∞, ${resolved.maxQueries} queries, p ${resolved.pInit}, seed ${resolved.seed}`,
    resolved,
    batchSize: options.batchSize ?? 100,
    plan: squarePlan,
  });
}

/** HopSkipJump options of an attack value (untargeted, labels = the model's predictions on the clean images). */
export type HopSkipJumpAttackOptions = Omit<HopSkipJumpOptions, 'y'> & AttackValueOptions;

/**
 * HopSkipJump (see `hop-skip-jump.ts`; decisions only), L∞ unless told, clipped to [0, 1] unless
 * other bounds are given; `batchSize` (default 20) images are attacked in lockstep.
 */
export function hopSkipJumpAttack(options: HopSkipJumpAttackOptions): Attack {
  const resolved = resolveHopSkipJumpOptions(options);
  return queryAttack({
    spec: { name: 'hop-skip-jump', options: { ...options } },
    label: `HopSkipJump ε ${resolved.eps}, ${NORM_LABEL[resolved.norm]}, ${resolved.maxQueries} queries, seed ${resolved.seed}`,
    resolved,
    batchSize: options.batchSize ?? 20,
    plan: hopSkipJumpPlan,
  });
}

/** The attack value `spec` describes (an {@link Attack}'s own): how worker threads rebuild the attack they are sent. @throws for an unknown name. */
export function attackFromSpec(spec: AttackSpec): Attack {
  switch (spec.name) {
    case 'fgsm':
      return fgsmAttack(spec.options);
    case 'bim':
      return bimAttack(spec.options);
    case 'cw-l2':
      return cwL2Attack(spec.options);
    case 'square':
      return squareAttack(spec.options);
    case 'hop-skip-jump':
      return hopSkipJumpAttack(spec.options);
  }
  throw new Error(
    `attackFromSpec: unknown attack ${JSON.stringify((spec as { name: unknown }).name)}; expected fgsm, bim, cw-l2, square or hop-skip-jump`,
  );
}
