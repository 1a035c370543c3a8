/**
 * Colour preservation by luminance-only transfer (Gatys, Bethge, Hertzmann & Shechtman, "Preserving
 * Color in Neural Artistic Style Transfer", 2016): keep the stylised image's luminance (Y of YIQ) and
 * put back the content's chrominance (I, Q), so the result has the style's strokes in the photo's colours.
 */
import { ssim } from '../image/metrics.ts';
import type { RgbPlanes } from './planes.ts';

// NTSC YIQ (the transform the paper uses).
const Y = [0.299, 0.587, 0.114];
const I = [0.596, -0.274, -0.322];
const Q = [0.211, -0.523, 0.312];

/** `stylised` with its chrominance replaced by `content`'s; both the same size. */
export function preserveColor(stylised: RgbPlanes, content: RgbPlanes): RgbPlanes {
  const n = stylised.width * stylised.height;
  const s = stylised.data;
  const c = content.data;
  const out = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) {
    const dot = (w: number[], x: Float32Array): number =>
      (w[0] as number) * (x[p] as number) + (w[1] as number) * (x[n + p] as number) + (w[2] as number) * (x[2 * n + p] as number);
    const y = dot(Y, s);
    const i = dot(I, c);
    const q = dot(Q, c);
    // Inverse YIQ.
    out[p] = clamp(y + 0.956 * i + 0.621 * q);
    out[n + p] = clamp(y - 0.272 * i - 0.647 * q);
    out[2 * n + p] = clamp(y - 1.106 * i + 1.703 * q);
  }
  return { data: out, width: stylised.width, height: stylised.height };
}

/** Luminance (Y) of each pixel, (H, W). */
export function luminance(p: RgbPlanes): Float32Array {
  const n = p.width * p.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.299 * (p.data[i] as number) + 0.587 * (p.data[n + i] as number) + 0.114 * (p.data[2 * n + i] as number);
  return out;
}

function clamp(v: number): number {
  return v < 0 ? 0 : Math.min(v, 1);
}

/**
 * SSIM of two same-sized images' luminance as 0-255 bytes: how much of one's layout the other keeps
 * (npm run eval:style's structure score, a sequence's drift). NaN below SSIM's 11×11 window.
 */
export function luminanceSsim(a: RgbPlanes, b: RgbPlanes): number {
  if (Math.min(a.width, a.height) < 11) return Number.NaN;
  const bytes = (p: RgbPlanes): Uint8Array => Uint8Array.from(luminance(p), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
  return ssim(bytes(a), bytes(b), 1, a.height, a.width);
}
