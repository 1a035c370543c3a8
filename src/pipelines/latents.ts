/**
 * Latent space: starting noise from seeds, VAE encode (image -> latents) and decode (latents -> image),
 * the optional upscaler, and a fast RGB preview of latents.
 *
 * Noise: image i of a batch with seed s draws its noise from `new Rng(s + i).normal(C·h·w)` (src/core/rng.ts
 * documents the generator); the same Rng then feeds that image's stochastic scheduler steps. So image i of
 * a batch is the image a single run with seed s + i makes, and a seed gives the same image on every run.
 *
 * Latents here are in the UNet's space: VAE latents × scaling_factor (0.18215 for SD 1.x/2.x).
 * The VAE and upscaler run one image at a time: their activations at full resolution are the largest
 * in the pipeline, and one image at a time gives the same result.
 */
import { GessoError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import type { DiffusionModel } from './model-folder.ts';
import { floatTensor, padBatch, runBatched } from './model-io.ts';

/** The largest seed: seeds are 32-bit, as in A1111. */
export const MAX_SEED = 0xffffffff;

/** Per image: its Rng (seed + i) and its starting noise (C, h, w). */
export function seededNoise(seed: number, count: number, itemSize: number): { rngs: Rng[]; noise: Float32Array[] } {
  const rngs: Rng[] = [];
  const noise: Float32Array[] = [];
  for (let i = 0; i < count; i++) {
    const rng = new Rng(seed + i);
    rngs.push(rng);
    noise.push(rng.normal(itemSize));
  }
  return { rngs, noise };
}

/** Images i..: (C, h, w) items stacked into one (B, C, h, w) array. */
export function stack(items: readonly Float32Array[]): Float32Array {
  const size = items[0]?.length ?? 0;
  const out = new Float32Array(items.length * size);
  items.forEach((item, i) => out.set(item, i * size));
  return out;
}

/**
 * (3, H, W) image in [-1, 1] -> (C, h, w) latents × scaling factor. An encoder that outputs 2C channels
 * gives the mean and log-variance of the latent distribution: gesso takes the mean (deterministic, as
 * diffusers' `latent_dist.mode()`); C channels are already a sample and are used as they are.
 */
export async function encodeImage(model: DiffusionModel, planes: Float32Array, width: number, height: number, signal?: AbortSignal): Promise<Float32Array> {
  const { runner, spec } = await model.vaeEncoder();
  const { data, dims } = await runBatched(
    runner,
    1,
    spec.fixedBatch,
    (from, count, size) => ({ [spec.input.name]: floatTensor(spec.input, [size, 3, height, width], padBatch(planes, planes.length, from, count, size)) }),
    spec.output,
    signal,
  );
  const C = model.spec.latentChannels;
  const s = model.spec.vaeScaleFactor;
  const [, channels, h, w] = dims;
  if (dims.length !== 4 || (channels !== C && channels !== 2 * C) || h !== height / s || w !== width / s) {
    throw new GessoError(
      `vae_encoder/model.onnx: output "${spec.output}" is [${dims.join(', ')}]; expected (1, ${C} or ${2 * C}, ${height / s}, ${width / s})`,
    );
  }
  const latents = data.slice(0, C * h * w); // (C, h, w): the mean when there are 2C channels
  for (let i = 0; i < latents.length; i++) latents[i] = latents[i] * model.spec.scalingFactor;
  return latents;
}

/** (C, h, w) latents -> (3, H, W) image in [-1, 1]. */
export async function decodeLatents(
  model: DiffusionModel,
  latents: Float32Array,
  h: number,
  w: number,
  signal?: AbortSignal,
): Promise<{ planes: Float32Array; width: number; height: number }> {
  const spec = model.spec.vaeDecoder;
  const C = model.spec.latentChannels;
  const scaled = new Float32Array(latents.length);
  for (let i = 0; i < latents.length; i++) scaled[i] = latents[i] / model.spec.scalingFactor;
  const { data, dims } = await runBatched(
    model.vaeDecoder,
    1,
    spec.fixedBatch,
    (from, count, size) => ({ [spec.input.name]: floatTensor(spec.input, [size, C, h, w], padBatch(scaled, scaled.length, from, count, size)) }),
    spec.output,
    signal,
  );
  const [, channels, height, width] = dims;
  if (dims.length !== 4 || channels !== 3 || height === undefined || width === undefined) {
    throw new GessoError(`vae_decoder/model.onnx: output "${spec.output}" is [${dims.join(', ')}]; expected (1, 3, height, width)`);
  }
  return { planes: data, width, height };
}

/** (3, H, W) in [-1, 1] -> (3, fH, fW) in [-1, 1] through upscaler/model.onnx. */
export async function upscaleImage(
  model: DiffusionModel,
  planes: Float32Array,
  width: number,
  height: number,
  signal?: AbortSignal,
): Promise<{ planes: Float32Array; width: number; height: number }> {
  const up = model.upscaler;
  if (up === null) throw new GessoError(`model folder ${model.dir} has no upscaler/model.onnx`);
  const { data, dims } = await runBatched(
    up.runner,
    1,
    up.spec.fixedBatch,
    (from, count, size) => ({ [up.spec.input.name]: floatTensor(up.spec.input, [size, 3, height, width], padBatch(planes, planes.length, from, count, size)) }),
    up.spec.output,
    signal,
  );
  const [, channels, outH, outW] = dims;
  if (dims.length !== 4 || channels !== 3 || outH === undefined || outW === undefined) {
    throw new GessoError(`upscaler/model.onnx: output "${up.spec.output}" is [${dims.join(', ')}]; expected (1, 3, height, width)`);
  }
  return { planes: data, width: outW, height: outH };
}

/**
 * Stable Diffusion 1.x latent -> RGB projection: the published 4×3 least-squares factors (Keturn, 2022;
 * the same ones A1111's and ComfyUI's cheap previews use), applied to latents in UNet space.
 * Row c holds channel c's contribution to R, G, B.
 */
export const SD1_LATENT_RGB = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.0266, -0.7006],
] as const;

export interface LatentPreview {
  /** (h, w, 3) RGB in [0, 1], at latent resolution (1/8 of the image for SD). */
  data: Float32Array;
  width: number;
  height: number;
}

/**
 * A cheap preview of (C, h, w) latents: a linear projection to RGB. Four channels use SD1's factors;
 * other channel counts map channel c to colour c mod 3 (enough to watch a shape appear).
 */
export function latentPreview(latents: Float32Array, channels: number, h: number, w: number): LatentPreview {
  const n = h * w;
  const factors =
    channels === 4 ? SD1_LATENT_RGB : Array.from({ length: channels }, (_, c) => [0, 1, 2].map((k) => (k === c % 3 ? 1 / Math.ceil(channels / 3) : 0)));
  const out = new Float32Array(n * 3); // (h, w, 3)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      let v = 0;
      for (let c = 0; c < channels; c++) v += latents[c * n + i] * (factors[c]?.[k] ?? 0);
      const p = (v + 1) / 2;
      out[i * 3 + k] = p < 0 ? 0 : Math.min(p, 1);
    }
  }
  return { data: out, width: w, height: h };
}
