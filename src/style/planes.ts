/**
 * Style transfer works on RGB planes: (3, H, W) row-major, values in [0, 1] (the encoders' input range).
 * Image files hold (H, W, 3) rows (src/image's layout); the transposes are src/pipelines/pixels.ts's.
 */
import { resizePixels } from '../pipelines/image-input.ts';
import { pixelsToPlanes, planesToPixels } from '../pipelines/pixels.ts';

export interface RgbPlanes {
  data: Float32Array; // (3, H, W)
  width: number;
  height: number;
}

/** (H, W, 3) pixels -> (3, H, W) planes. */
export function toPlanes(pixels: Float32Array, width: number, height: number): RgbPlanes {
  return { data: pixelsToPlanes(pixels, width, height, 'unit'), width, height };
}

/** (3, H, W) planes -> (H, W, 3) pixels, clamped to [0, 1]. */
export function toPixels(p: RgbPlanes): Float32Array {
  return planesToPixels(p.data, p.width, p.height, 'unit');
}

/** Resized to exactly width × height (sharp's Lanczos). */
export async function resizePlanes(p: RgbPlanes, width: number, height: number): Promise<RgbPlanes> {
  if (p.width === width && p.height === height) return p;
  return toPlanes(await resizePixels({ data: toPixels(p), width: p.width, height: p.height }, width, height), width, height);
}

/** The size with the longer side `maxSide`, both sides multiples of `multiple`. */
export function fitSize(width: number, height: number, maxSide: number, multiple = 1): { width: number; height: number } {
  const scale = maxSide / Math.max(width, height);
  const round = (v: number): number => Math.max(multiple, Math.round((v * scale) / multiple) * multiple);
  return { width: round(width), height: round(height) };
}

/** Area-averages a (H, W) mask down (or nearest up) to (h, w). */
export function resampleMask(mask: Float32Array, width: number, height: number, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * height) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * width) / w));
      let sum = 0;
      for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += mask[yy * width + xx] as number;
      out[y * w + x] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}
