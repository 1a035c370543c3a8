/**
 * VAE reconstruction quality: real drawings encoded by the model's vae_encoder (the mean latent, as
 * the pipeline's img2img does), decoded by its vae_decoder, and compared with the originals as PSNR
 * on [0, 1] pixels (the decoder's output clamped to [0, 1], as a saved image would be).
 */
import { InputError } from '../core/errors.ts';
import type { ImageDataset } from '../data/dataset.ts';
import { decodeLatents, encodeImage } from '../pipelines/latents.ts';
import type { DiffusionModel } from '../pipelines/model-folder.ts';
import { meanSquaredError, psnrFromMse } from '../image/metrics.ts';

export interface VaePsnr {
  /** Mean over images of each image's PSNR. */
  meanPsnrDb: number;
  /** PSNR of the MSE over all pixels of all images. */
  pooledPsnrDb: number;
  images: number;
}

export async function vaeReconstructionPsnr(model: DiffusionModel, dataset: ImageDataset, indices: readonly number[]): Promise<VaePsnr> {
  if (indices.length === 0) throw new InputError('VAE PSNR needs at least one image');
  const size = dataset.size;
  const s = model.spec.vaeScaleFactor;
  if (size % s !== 0) throw new InputError(`the dataset's ${size} px images are not a multiple of the VAE's scale factor ${s}`);
  let sumPsnr = 0;
  let sumMse = 0;
  for (const index of indices) {
    const planes = dataset.readBatch([index]); // (1, 3, S, S) in [-1, 1]
    const latents = await encodeImage(model, planes, size, size); // (C, S/s, S/s)
    const decoded = await decodeLatents(model, latents, size / s, size / s); // (3, S, S) in [-1, 1]
    const reference = new Float32Array(planes.length);
    const output = new Float32Array(planes.length);
    for (let i = 0; i < planes.length; i++) {
      reference[i] = (planes[i] + 1) / 2;
      output[i] = Math.min(1, Math.max(0, (decoded.planes[i] + 1) / 2));
    }
    const mse = meanSquaredError(reference, output);
    sumMse += mse;
    sumPsnr += psnrFromMse(mse);
  }
  return { meanPsnrDb: sumPsnr / indices.length, pooledPsnrDb: psnrFromMse(sumMse / indices.length), images: indices.length };
}
