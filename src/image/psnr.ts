/** Peak signal-to-noise ratio of pixels in [0, 1]: 10·log10(1 / MSE) dB. */
import { InputError } from '../core/errors.ts';

/** A reconstruction closer than this MSE counts as this close, so one perfect image cannot make a mean infinite (100 dB). */
export const MIN_MSE = 1e-10;

/** Mean squared error of two equally long arrays. */
export function meanSquaredError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new InputError(`MSE of arrays of different lengths (${a.length} and ${b.length})`);
  if (a.length === 0) throw new InputError('MSE of empty arrays');
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return se / a.length;
}

/** PSNR in dB for an MSE of [0, 1] pixels (peak 1). */
export function psnrFromMse(mse: number): number {
  if (!(mse >= 0)) throw new InputError(`MSE ${mse}: expected a number >= 0`);
  return 10 * Math.log10(1 / Math.max(mse, MIN_MSE));
}

/** PSNR in dB of `reconstruction` against `reference`, both [0, 1] pixels. */
export function psnr(reference: ArrayLike<number>, reconstruction: ArrayLike<number>): number {
  return psnrFromMse(meanSquaredError(reference, reconstruction));
}
