/** The training record stored with a model (by `npm run train` or a notebook), read back typed. */
import type { EpochRecord, StepRecord } from './types';

/** The parts of a training record the notebooks show. */
export interface TrainingHistory {
  epochs: EpochRecord[];
  steps: StepRecord[];
  /** Training throughput, images per second (NaN when not recorded). */
  imagesPerSecond: number;
  /** Test accuracy recorded after training (NaN when not recorded). */
  testAccuracy: number;
  /** One line: how the weights were made. */
  description: string;
}

/**
 * The training history in a model's record.
 * @throws when the record holds no per-epoch and per-step history (e.g. a model trained elsewhere).
 */
export function trainingHistory(record: Record<string, unknown>): TrainingHistory {
  const r = record as {
    epochs?: unknown;
    steps?: unknown;
    imagesPerSecond?: unknown;
    testAccuracy?: unknown;
    backend?: unknown;
    commit?: unknown;
  };
  if (!Array.isArray(r.epochs) || !Array.isArray(r.steps)) {
    throw new Error(
      `trainingHistory: the model's record has no training history (found keys ${Object.keys(record).join(', ') || 'none'})`,
    );
  }
  const num = (v: unknown) => (typeof v === 'number' ? v : NaN);
  const ips = num(r.imagesPerSecond);
  const acc = num(r.testAccuracy);
  const commit = typeof r.commit === 'string' ? ` at commit ${r.commit.slice(0, 12)}` : '';
  const backend = typeof r.backend === 'string' ? ` on ${r.backend}` : '';
  return {
    epochs: r.epochs as EpochRecord[],
    steps: r.steps as StepRecord[],
    imagesPerSecond: ips,
    testAccuracy: acc,
    description: `trained${commit}${backend}: ${(r.epochs as unknown[]).length} epoch(s), ${Number.isNaN(ips) ? '?' : ips.toFixed(0)} img/s${Number.isNaN(acc) ? '' : `, recorded test accuracy ${(100 * acc).toFixed(2)} %`}`,
  };
}
