/**
 * Data augmentations for `TrainArgs.augment`: each is called on a batch's images (NHWC float32,
 * in place) with a generator seeded by the run's seed and the step, so a run is reproducible.
 */
import type { Rng } from '../util/random';

/**
 * An augmentation: rewrites `n` images of shape [H, W, C] in place, drawing from `rng`. Its
 * `params` (set by the functions here) go into a training checkpoint's key; a custom one without
 * them is keyed by its code alone, so give it `params` when its settings live in a closure.
 */
export type Augment = ((images: Float32Array, n: number, shape: [number, number, number], rng: Rng) => void) & {
  readonly params?: Readonly<Record<string, unknown>>;
};

/** Options of {@link randomAffineAugment}. */
export interface AffineAugmentOptions {
  /** Largest shift in pixels, each direction, uniform. Default 2. */
  maxShift?: number;
  /** Largest rotation in degrees, either way, uniform. Default 0. */
  maxRotation?: number;
  /** Largest relative change of scale (zoom in or out), uniform in [1 − s, 1 + s]. Default 0. */
  maxScale?: number;
  /** Brightness factor uniform in [1 − b, 1 + b], result clipped to [0, 1]. Default 0.2. */
  brightness?: number;
}

/**
 * Each image shifted by up to `maxShift` pixels (integer) in each direction, the uncovered border
 * repeating the edge, its brightness scaled by a factor in [1 − `brightness`, 1 + `brightness`],
 * clipped to [0, 1].
 */
export function randomShiftAugment(options: { maxShift?: number; brightness?: number } = {}): Augment {
  const maxShift = options.maxShift ?? 2;
  const brightness = options.brightness ?? 0.2;
  checkOptions({ maxShift, brightness });
  const augment: Augment = (images, n, [H, W, C], rng) => {
    const per = H * W * C;
    const copy = new Float32Array(per);
    for (let i = 0; i < n; i++) {
      const dy = rng.int(2 * maxShift + 1) - maxShift;
      const dx = rng.int(2 * maxShift + 1) - maxShift;
      const scale = 1 + brightness * (2 * rng.next() - 1);
      copy.set(images.subarray(i * per, (i + 1) * per));
      for (let y = 0; y < H; y++) {
        const sy = Math.min(H - 1, Math.max(0, y - dy));
        for (let x = 0; x < W; x++) {
          const sx = Math.min(W - 1, Math.max(0, x - dx));
          for (let c = 0; c < C; c++)
            images[i * per + (y * W + x) * C + c] = Math.min(1, Math.max(0, copy[(sy * W + sx) * C + c] * scale));
        }
      }
    }
  };
  return Object.assign(augment, { params: { kind: 'shift', maxShift, brightness } });
}

/**
 * Each image rotated by up to `maxRotation` degrees about its center, scaled by a factor in
 * [1 − `maxScale`, 1 + `maxScale`], shifted by up to `maxShift` pixels (real-valued), sampled
 * bilinearly with the edge repeated outside the image, then its brightness scaled as in
 * {@link randomShiftAugment}. Draws per image: shift y, shift x, angle, scale, brightness.
 */
export function randomAffineAugment(options: AffineAugmentOptions = {}): Augment {
  const { maxShift = 2, maxRotation = 0, maxScale = 0, brightness = 0.2 } = options;
  checkOptions({ maxShift, maxRotation, maxScale, brightness });
  if (maxScale >= 1)
    throw new RangeError(`maxScale must be < 1 (a scale factor of 1 − maxScale must stay positive), found ${maxScale}`);
  const augment: Augment = (images, n, [H, W, C], rng) => {
    const per = H * W * C;
    const copy = new Float32Array(per);
    const cy = (H - 1) / 2;
    const cx = (W - 1) / 2;
    for (let i = 0; i < n; i++) {
      const ty = maxShift * (2 * rng.next() - 1);
      const tx = maxShift * (2 * rng.next() - 1);
      const angle = (maxRotation * (2 * rng.next() - 1) * Math.PI) / 180;
      const zoom = 1 + maxScale * (2 * rng.next() - 1);
      const gain = 1 + brightness * (2 * rng.next() - 1);
      copy.set(images.subarray(i * per, (i + 1) * per));
      // Output pixel p comes from source R(−angle)·(p − c − t)/zoom + c.
      const cos = Math.cos(angle) / zoom;
      const sin = Math.sin(angle) / zoom;
      for (let y = 0; y < H; y++) {
        const py = y - cy - ty;
        for (let x = 0; x < W; x++) {
          const px = x - cx - tx;
          const sy = Math.min(H - 1, Math.max(0, cos * py - sin * px + cy));
          const sx = Math.min(W - 1, Math.max(0, sin * py + cos * px + cx));
          const y0 = Math.floor(sy);
          const x0 = Math.floor(sx);
          const y1 = Math.min(H - 1, y0 + 1);
          const x1 = Math.min(W - 1, x0 + 1);
          const fy = sy - y0;
          const fx = sx - x0;
          const o = i * per + (y * W + x) * C;
          for (let c = 0; c < C; c++) {
            const top = copy[(y0 * W + x0) * C + c] * (1 - fx) + copy[(y0 * W + x1) * C + c] * fx;
            const bottom = copy[(y1 * W + x0) * C + c] * (1 - fx) + copy[(y1 * W + x1) * C + c] * fx;
            images[o + c] = Math.min(1, Math.max(0, (top * (1 - fy) + bottom * fy) * gain));
          }
        }
      }
    }
  };
  return Object.assign(augment, { params: { kind: 'affine', maxShift, maxRotation, maxScale, brightness } });
}

function checkOptions(o: Record<string, number>): void {
  for (const [name, v] of Object.entries(o)) {
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name} must be a finite number ≥ 0, found ${v}`);
  }
}
