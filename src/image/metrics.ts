/**
 * Full-reference image quality: MSE and PSNR (floats or bytes), SSIM on 8-bit pixels. Both compare two images of the same
 * layout; SSIM needs planar (C, H, W) data to filter each channel.
 */
import { InputError } from '../core/errors.ts';

/** A reconstruction closer than this MSE (relative to peak²) counts as this close: identical images score 100 dB, not Infinity. */
export const MIN_MSE = 1e-10;

/** Mean squared error of two equally long arrays. */
export function meanSquaredError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new InputError(`MSE of arrays of different lengths (${a.length} and ${b.length})`);
  if (a.length === 0) throw new InputError('MSE of empty arrays');
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return se / a.length;
}

/** PSNR in dB for an MSE of samples whose full scale is `peak` (1 for [0, 1] floats, 255 for bytes). */
export function psnrFromMse(mse: number, peak = 1): number {
  if (!(mse >= 0)) throw new InputError(`MSE ${mse}: expected a number >= 0`);
  return 10 * Math.log10((peak * peak) / Math.max(mse, MIN_MSE * peak * peak));
}

/** Peak signal-to-noise ratio in dB: 10·log10(peak² / MSE), at most 100 dB. `peak` 1 for [0, 1] floats, 255 for 8-bit samples. */
export function psnr(reference: ArrayLike<number>, reconstruction: ArrayLike<number>, peak = 1): number {
  return psnrFromMse(meanSquaredError(reference, reconstruction), peak);
}

/** Mean of per-image PSNR of 8-bit image pairs, as super-resolution benchmark tables report a test set. */
export function meanPsnr(pairs: readonly [Uint8Array, Uint8Array][]): number {
  const values = pairs.map(([a, b]) => psnr(a, b, 255));
  return values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
}

const WINDOW = 11;
const SIGMA = 1.5;

/**
 * Mean structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004): 11×11 Gaussian window with
 * σ = 1.5, K1 = 0.01, K2 = 0.03, L = 255, over every window that fits inside the image ("valid"), for
 * each channel of planar (channels, h, w) data, averaged over channels.
 */
export function ssim(a: Uint8Array, b: Uint8Array, channels: number, h: number, w: number): number {
  if (a.length !== channels * h * w || b.length !== a.length)
    throw new InputError(`ssim: images have ${a.length} and ${b.length} samples; expected ${channels}x${h}x${w}`);
  if (h < WINDOW || w < WINDOW) throw new InputError(`ssim: ${w}x${h} is smaller than the ${WINDOW}x${WINDOW} window`);
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  const plane = h * w;
  const k = gaussianWindow();
  const ow = w - WINDOW + 1;
  const oh = h - WINDOW + 1;
  // Local means of x, y, x², y², xy: one horizontal pass filling five row buffers, then a vertical pass.
  const rows = Array.from({ length: 5 }, () => new Float64Array(h * ow));
  const [rx, ry, rxx, ryy, rxy] = rows as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  let total = 0;
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < ow; x++) {
        let sx = 0,
          sy = 0,
          sxx = 0,
          syy = 0,
          sxy = 0;
        for (let i = 0; i < WINDOW; i++) {
          const wk = k[i];
          const va = a[base + y * w + x + i];
          const vb = b[base + y * w + x + i];
          sx += wk * va;
          sy += wk * vb;
          sxx += wk * va * va;
          syy += wk * vb * vb;
          sxy += wk * va * vb;
        }
        const o = y * ow + x;
        rx[o] = sx;
        ry[o] = sy;
        rxx[o] = sxx;
        ryy[o] = syy;
        rxy[o] = sxy;
      }
    }
    let sum = 0;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let ux = 0,
          uy = 0,
          exx = 0,
          eyy = 0,
          exy = 0;
        for (let i = 0; i < WINDOW; i++) {
          const wk = k[i];
          const o = (y + i) * ow + x;
          ux += wk * rx[o];
          uy += wk * ry[o];
          exx += wk * rxx[o];
          eyy += wk * ryy[o];
          exy += wk * rxy[o];
        }
        const vx = exx - ux * ux;
        const vy = eyy - uy * uy;
        const cov = exy - ux * uy;
        sum += ((2 * ux * uy + c1) * (2 * cov + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
      }
    }
    total += sum / (oh * ow);
  }
  return total / channels;
}

/** The normalized 1-D Gaussian window (σ = 1.5, 11 taps). */
function gaussianWindow(): Float64Array {
  const k = new Float64Array(WINDOW);
  const half = (WINDOW - 1) / 2;
  for (let i = 0; i < WINDOW; i++) k[i] = Math.exp(-((i - half) ** 2) / (2 * SIGMA * SIGMA));
  const norm = k.reduce((s, v) => s + v, 0);
  return k.map((v) => v / norm);
}
