/**
 * Training pairs for the 4× upscaler: a random high-resolution crop and its low-resolution version.
 *
 * Low resolution = the 4×4 box (area) average of the crop's 8-bit pixels, rounded back to 8 bits.
 * That is what the diffusion model's 64 px world looks like: its training images are SVGs rendered
 * straight at 64 px, and librsvg's anti-aliasing computes each pixel's covered area, i.e. a box filter
 * of the ideal drawing, not a bicubic one. A net trained on bicubic-downscaled inputs would expect
 * ringing and blur that those images don't have.
 *
 * Each step's crops come from an Rng seeded by (seed, step) alone, so a resumed run sees exactly the
 * batches an uninterrupted one would.
 */
import { InputError } from '../../core/errors.ts';
import { Rng } from '../../core/rng.ts';

export const UPSCALE = 4;

/** Images as 0–255 bytes, (N, 3, size, size) planes, as `loadImageDataset` holds them. */
export interface ImagePlanes {
  pixels: Uint8Array;
  count: number;
  size: number;
}

/**
 * (3, H, W) bytes at `offset` in `src` (row stride `stride`) -> (3, H/f, W/f) box averages, rounded.
 * `out` receives the result at `outOffset`.
 */
export function boxDownscale(
  src: Uint8Array,
  offset: number,
  stride: number,
  planeSize: number,
  h: number,
  w: number,
  f: number,
  out: Uint8Array,
  outOffset = 0,
): void {
  const oh = h / f;
  const ow = w / f;
  const area = f * f;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let sum = 0;
        for (let dy = 0; dy < f; dy++) {
          const row = offset + c * planeSize + (y * f + dy) * stride + x * f;
          for (let dx = 0; dx < f; dx++) sum += src[row + dx];
        }
        out[outOffset + (c * oh + y) * ow + x] = Math.round(sum / area);
      }
    }
  }
}

/** Whole images (N, 3, S, S) -> (N, 3, S/4, S/4) by box averaging (the validation inputs). */
export function downscaleImages(images: ImagePlanes): Uint8Array {
  const { size, count } = images;
  if (size % UPSCALE !== 0) throw new InputError(`images are ${size} px, expected a multiple of ${UPSCALE}`);
  const small = size / UPSCALE;
  const out = new Uint8Array(count * 3 * small * small);
  for (let i = 0; i < count; i++) boxDownscale(images.pixels, i * 3 * size * size, size, size * size, size, size, UPSCALE, out, i * 3 * small * small);
  return out;
}

export interface PairBatch {
  /** (B, 3, crop/4, crop/4) in [-1, 1] */
  low: Float32Array;
  /** (B, 3, crop, crop) in [-1, 1] */
  high: Float32Array;
}

/** An Rng for one training step: a pure function of (seed, step). */
export function stepRng(seed: number, step: number): Rng {
  return new Rng((Math.imul((seed >>> 0) + 1, 0x9e3779b1) + step) >>> 0);
}

/**
 * `batch` random crops of side `crop` with their box-downscaled inputs, randomly mirrored. A crop that
 * is one flat colour (most of a drawing's white margin) teaches nothing, so up to 8 tries find one
 * with some contrast.
 */
export function samplePairs(images: ImagePlanes, o: { seed: number; step: number; batch: number; crop: number }): PairBatch {
  const { size, count, pixels } = images;
  const { crop, batch } = o;
  if (crop % UPSCALE !== 0 || crop > size || crop < UPSCALE)
    throw new InputError(`crop ${crop} must be a multiple of ${UPSCALE} between ${UPSCALE} and the image size ${size}`);
  const rng = stepRng(o.seed, o.step);
  const plane = size * size;
  const small = crop / UPSCALE;
  const cropBytes = new Uint8Array(3 * crop * crop);
  const smallBytes = new Uint8Array(3 * small * small);
  const high = new Float32Array(batch * 3 * crop * crop);
  const low = new Float32Array(batch * 3 * small * small);
  for (let b = 0; b < batch; b++) {
    for (let attempt = 0; attempt < 8; attempt++) {
      const base = rng.int(count) * 3 * plane + rng.int(size - crop + 1) * size + rng.int(size - crop + 1);
      const mirror = rng.uniform() < 0.5;
      let lo = 255;
      let hi = 0;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < crop; y++) {
          const row = base + c * plane + y * size;
          for (let x = 0; x < crop; x++) {
            const v = pixels[row + (mirror ? crop - 1 - x : x)];
            cropBytes[(c * crop + y) * crop + x] = v;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
        }
      }
      if (hi - lo >= 32) break;
    }
    boxDownscale(cropBytes, 0, crop, crop * crop, crop, crop, UPSCALE, smallBytes);
    toSigned(cropBytes, high, b * cropBytes.length);
    toSigned(smallBytes, low, b * smallBytes.length);
  }
  return { low, high };
}

/** 0–255 bytes -> [-1, 1] floats at `offset` of `out`. */
export function toSigned(bytes: Uint8Array, out: Float32Array, offset = 0): void {
  for (let i = 0; i < bytes.length; i++) out[offset + i] = bytes[i] / 127.5 - 1;
}

/** [-1, 1] floats -> 0–255 bytes, clamped and rounded. */
export function toBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.max(0, Math.min(255, Math.round((values[i] + 1) * 127.5)));
  return out;
}
