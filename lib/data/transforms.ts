/**
 * Image transforms that make out-of-distribution test sets from in-distribution ones, whatever the
 * image shape and channel count.
 */
import type { ImageDataset } from './types';

/**
 * Every image of `ds` rotated by `degrees` (counter-clockwise as displayed) about its center, with
 * bilinear interpolation; pixels that come from outside the image get `fill` (default 0, the
 * background of MNIST-like data). Shape, labels and class names are kept; values stay inside the
 * range of the source pixels and of `fill`, so a [0, 1] set stays in [0, 1]. A rotation by a
 * multiple of 90° moves pixels exactly (no interpolation).
 * @throws RangeError for a non-finite angle.
 */
export function rotateImages(ds: ImageDataset, degrees: number, options: { fill?: number; name?: string } = {}): ImageDataset {
  if (!Number.isFinite(degrees)) throw new RangeError(`rotateImages: degrees must be a finite number, found ${degrees}`);
  const { n, height: H, width: W, channels: C } = ds;
  const fill = options.fill ?? 0;
  const per = H * W * C;
  const out = new Float32Array(n * per);
  const rad = (degrees * Math.PI) / 180;
  // Exact quarter turns: snap cos/sin so that source coordinates are integers.
  const quarter = Math.abs(degrees / 90 - Math.round(degrees / 90)) < 1e-12;
  const cos = quarter ? Math.round(Math.cos(rad)) : Math.cos(rad);
  const sin = quarter ? Math.round(Math.sin(rad)) : Math.sin(rad);
  const cy = (H - 1) / 2;
  const cx = (W - 1) / 2;
  // For each output pixel (y, x), the source point: the inverse rotation (image y axis points down).
  const sy = new Float64Array(H * W);
  const sx = new Float64Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const dy = y - cy;
      const dx = x - cx;
      sx[y * W + x] = cx + cos * dx - sin * dy;
      sy[y * W + x] = cy + sin * dx + cos * dy;
    }
  }
  // A dataset with a pixel range keeps it (a convex combination can only leave it by a rounding).
  const [lo, hi] = ds.pixelRange ? [Math.min(ds.pixelRange[0], fill), Math.max(ds.pixelRange[1], fill)] : [1, 0];
  const at = (img: number, yy: number, xx: number, c: number) => (yy < 0 || yy >= H || xx < 0 || xx >= W ? fill : ds.images[img * per + (yy * W + xx) * C + c]);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < H * W; p++) {
      const fy = sy[p];
      const fx = sx[p];
      const y0 = Math.floor(fy + 1e-9);
      const x0 = Math.floor(fx + 1e-9);
      const wy = Math.max(0, fy - y0);
      const wx = Math.max(0, fx - x0);
      for (let c = 0; c < C; c++) {
        const top = at(i, y0, x0, c) * (1 - wx) + (wx > 0 ? at(i, y0, x0 + 1, c) * wx : 0);
        const bottom = wy > 0 ? at(i, y0 + 1, x0, c) * (1 - wx) + (wx > 0 ? at(i, y0 + 1, x0 + 1, c) * wx : 0) : 0;
        const v = top * (1 - wy) + bottom * wy;
        out[i * per + p * C + c] = lo <= hi ? Math.min(hi, Math.max(lo, v)) : v;
      }
    }
  }
  return { ...ds, name: options.name ?? `${ds.name} rotated ${degrees}°`, images: out, classNames: [...ds.classNames], checksums: { ...ds.checksums } };
}
