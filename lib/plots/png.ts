import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encodes an 8-bit image as PNG. `pixels` is row-major [height × width × channels] with
 * channels 1 (grey) or 3 (RGB). Returns the file bytes.
 */
export function encodePng(image: { pixels: Uint8Array; width: number; height: number; channels?: 1 | 3 }): Uint8Array {
  const { pixels, width, height, channels = 1 } = image;
  if (pixels.length !== width * height * channels) {
    throw new Error(
      `encodePng: expected ${width}×${height}×${channels} = ${width * height * channels} bytes, found ${pixels.length}`,
    );
  }
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : 2;
  const signature = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Options of {@link imageGrid}. */
export interface ImageGridArgs {
  /** The images to draw, by index, in order. */
  indices: ArrayLike<number>;
  /** Images per row. Default 10. */
  cols?: number;
  /** Pixels of padding between tiles. Default 2. */
  pad?: number;
  /** Integer upscaling factor. Default 2. */
  scale?: number;
  /** Background grey level 0–255 of the padding. Default 255. */
  background?: number;
}

/**
 * Tiles `count` images (float32 NHWC in [0,1], 1 or 3 channels, from `images` at `indices`) into
 * one 8-bit image for {@link encodePng}. Values are clipped to [0,1].
 */
export function imageGrid(
  batch: { images: Float32Array; height: number; width: number; channels: 1 | 3 },
  args: ImageGridArgs,
): { pixels: Uint8Array; width: number; height: number; channels: 1 | 3 } {
  const { images, height, width, channels } = batch;
  const { indices } = args;
  const { cols: colsWanted = 10, pad = 2, scale = 2, background = 255 } = args;
  const count = indices.length;
  const cols = Math.max(1, Math.min(colsWanted, count));
  const rows = Math.max(1, Math.ceil(count / cols));
  const tw = width * scale;
  const th = height * scale;
  const W = cols * tw + (cols + 1) * pad;
  const H = rows * th + (rows + 1) * pad;
  const out = new Uint8Array(W * H * channels).fill(background);
  const per = height * width * channels;
  for (let t = 0; t < count; t++) {
    const base = indices[t] * per;
    if (base < 0 || base + per > images.length)
      throw new Error(`imageGrid: image index ${indices[t]} is outside the ${images.length / per} images given`);
    const ox = pad + (t % cols) * (tw + pad);
    const oy = pad + Math.floor(t / cols) * (th + pad);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const src = base + (Math.floor(y / scale) * width + Math.floor(x / scale)) * channels;
        const dst = ((oy + y) * W + ox + x) * channels;
        for (let c = 0; c < channels; c++) out[dst + c] = Math.round(255 * Math.min(1, Math.max(0, images[src + c])));
      }
    }
  }
  return { pixels: out, width: W, height: H, channels };
}
