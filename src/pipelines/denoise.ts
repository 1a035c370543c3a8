/**
 * The denoising loop that txt2img, img2img and inpainting share. Each image of the batch keeps its own
 * scheduler state and Rng (seed + i), so image i of a batch equals a single run with seed + i; the UNet
 * still sees the whole batch (and cond + uncond together) in one run.
 */
import { GessoError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { HostTensor } from '../runtime/tensor.ts';
import type { SamplingPlan, StepState } from '../schedulers/index.ts';
import { latentPreview, type LatentPreview } from './latents.ts';
import type { DiffusionModel } from './model-folder.ts';
import { floatTensor, runBatched } from './model-io.ts';
import { cropTopLeft, padEdges, roundUp } from './spatial.ts';
import type { Conditioning } from './text-conditioning.ts';

/** Thrown when the caller's AbortSignal fires; nothing has been written. */
export class GenerationCancelled extends GessoError {
  constructor(when: string) {
    super(`generation cancelled ${when}; nothing was written`);
    this.name = 'GenerationCancelled';
  }
}

export interface StepEvent {
  /** 1-based: this many UNet evaluations are done. */
  step: number;
  /** UNet evaluations in total (PNDM: steps + 1). */
  steps: number;
  /** The model timestep of this step. */
  timestep: number;
  /** Milliseconds the UNet took for this step (all its runs). */
  unetMs: number;
  /** An RGB projection of image `index`'s current estimate of the clean latents (cheap: computed on call). */
  preview(index?: number): LatentPreview;
}

/** Inpainting inputs, per image (C, h, w) and one (h, w) latent mask (1 = repaint). */
export interface InpaintLatents {
  mask: Float32Array;
  /** 9-channel UNets: the masked image's latents, concatenated to the UNet input. */
  maskedImageLatents: Float32Array | null;
  /** Ordinary UNets: the init image's latents, blended back outside the mask after every step. */
  imageLatents: Float32Array | null;
  /** The starting noise of each image, used to noise imageLatents to each step's level. */
  noise: readonly Float32Array[];
}

export interface DenoiseInput {
  model: DiffusionModel;
  plan: SamplingPlan;
  /** Starting latents of each image, (C, h, w). */
  latents: Float32Array[];
  rngs: Rng[];
  conditioning: Conditioning;
  cfgScale: number;
  /** Latent height and width. */
  h: number;
  w: number;
  inpaint: InpaintLatents | null;
  /** 'batched' (default): cond and uncond in one UNet batch; 'separate': two runs (same result, for checks). */
  cfgMode?: 'batched' | 'separate';
  onStep?: (event: StepEvent) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface DenoiseResult {
  latents: Float32Array[];
  /** UNet milliseconds per step. */
  unetMs: number[];
}

/** diffusers applies guidance only for scale > 1; at 1 or below the prompt's prediction is used alone. */
export function usesGuidance(cfgScale: number): boolean {
  return cfgScale > 1;
}

export async function denoise(input: DenoiseInput): Promise<DenoiseResult> {
  const { model, plan, rngs, conditioning, cfgScale, h, w, inpaint, signal } = input;
  const spec = model.spec;
  const B = input.latents.length;
  const C = spec.latentChannels;
  const n = C * h * w;
  const steps = plan.timesteps.length;
  const guided = usesGuidance(cfgScale);
  let latents = input.latents;
  let states: StepState[] = latents.map(() => plan.initialState());
  const unetMs: number[] = [];

  for (let i = 0; i < steps; i++) {
    // 1. Stop between steps when asked.
    if (signal?.aborted) throw new GenerationCancelled(`after ${i} of ${steps} steps`);
    const t = plan.timesteps[i];

    // 2. Scale each image's latents for this step (Euler divides by √(σ²+1)); 9-channel UNets also get
    //    the mask and the masked image's latents: (C, h, w) + (1, h, w) + (C, h, w).
    const inputs = latents.map((x) => {
      const scaled = plan.scaleModelInput(x, i);
      if (spec.unetInChannels === C) return scaled;
      if (!inpaint?.maskedImageLatents) throw new GessoError('an inpainting UNet needs a mask and masked-image latents');
      const full = new Float32Array(spec.unetInChannels * h * w);
      full.set(scaled);
      full.set(inpaint.mask, n);
      full.set(inpaint.maskedImageLatents, n + h * w);
      return full;
    });

    // 3. Predict the noise: uncond images first, then cond images (diffusers' order), in one batch.
    const started = performance.now();
    let prediction: Float32Array[];
    if (!guided) {
      prediction = await runUnet(
        input,
        inputs.map((x) => ({ x, hidden: conditioning.cond })),
        t,
      );
    } else {
      const uncond = inputs.map((x) => ({ x, hidden: conditioning.uncond }));
      const cond = inputs.map((x) => ({ x, hidden: conditioning.cond }));
      const both =
        input.cfgMode === 'separate'
          ? [...(await runUnet(input, uncond, t)), ...(await runUnet(input, cond, t))]
          : await runUnet(input, [...uncond, ...cond], t);
      // 4. Classifier-free guidance: ε = ε_uncond + scale · (ε_cond − ε_uncond)
      prediction = latents.map((_, b) => guide(both[b] as Float32Array, both[B + b] as Float32Array, cfgScale));
    }
    unetMs.push(performance.now() - started);

    // 5. One scheduler step per image, with that image's state and Rng.
    const x0: Float32Array[] = [];
    const next: Float32Array[] = [];
    const nextStates: StepState[] = [];
    for (let b = 0; b < B; b++) {
      const out = plan.step(prediction[b] as Float32Array, i, latents[b] as Float32Array, states[b] as StepState, rngs[b] as Rng);
      next.push(out.prevSample);
      x0.push(out.predOriginal);
      nextStates.push(out.state);
    }
    latents = next;
    states = nextStates;

    // 6. Ordinary UNets inpaint by blending: outside the mask, put back the init image noised to the next
    //    step's level (after the last step: the init image itself).
    if (inpaint?.imageLatents) {
      const image = inpaint.imageLatents;
      latents = latents.map((x, b) => {
        const known = i + 1 < steps ? plan.addNoise(image, inpaint.noise[b] as Float32Array, i + 1) : image;
        return blend(x, known, inpaint.mask, C, h * w);
      });
    }

    // 7. Report progress with a cheap preview of the clean-image estimate.
    await input.onStep?.({
      step: i + 1,
      steps,
      timestep: t,
      unetMs: unetMs[i],
      preview: (index = 0) => latentPreview(x0[index] ?? (x0[0] as Float32Array), C, h, w),
    });
  }
  if (signal?.aborted) throw new GenerationCancelled(`after ${steps} of ${steps} steps`);
  return { latents, unetMs };
}

/** ε_uncond + scale · (ε_cond − ε_uncond) */
export function guide(uncond: Float32Array, cond: Float32Array, scale: number): Float32Array {
  const out = new Float32Array(cond.length);
  for (let k = 0; k < out.length; k++) out[k] = uncond[k] + scale * (cond[k] - uncond[k]);
  return out;
}

/** mask · x + (1 − mask) · known, with one (h, w) mask shared by the C channels. */
function blend(x: Float32Array, known: Float32Array, mask: Float32Array, C: number, hw: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < hw; p++) {
      const k = c * hw + p;
      const m = mask[p];
      out[k] = m * x[k] + (1 - m) * known[k];
    }
  }
  return out;
}

/** One UNet evaluation of a list of (input, text embedding) items at timestep t; returns each item's output. */
async function runUnet(input: DenoiseInput, items: { x: Float32Array; hidden: Float32Array }[], t: number): Promise<Float32Array[]> {
  const { model, h, w, conditioning, signal } = input;
  const spec = model.spec.unet;
  const cin = model.spec.unetInChannels;
  const S = conditioning.sequence;
  const D = conditioning.hidden;
  // Pad to a size the UNet can take (spatial.ts); the prediction is cropped back below.
  const H = model.spec.fixedLatentHeight ?? roundUp(h, model.spec.unetMultiple);
  const W = model.spec.fixedLatentWidth ?? roundUp(w, model.spec.unetMultiple);
  const { data } = await runBatched(
    model.unet,
    items.length,
    spec.fixedBatch,
    (from, count, size) => {
      const pick = (k: number) => items[from + Math.min(k, count - 1)] as { x: Float32Array; hidden: Float32Array };
      const sample = new Float32Array(size * cin * H * W); // (size, Cin, H, W)
      const hidden = new Float32Array(size * S * D); // (size, S, D)
      for (let k = 0; k < size; k++) {
        sample.set(padEdges(pick(k).x, cin, h, w, H, W), k * cin * H * W);
        hidden.set(pick(k).hidden, k * S * D);
      }
      return {
        [spec.sample.name]: floatTensor(spec.sample, [size, cin, H, W], sample),
        [spec.timestep.name]: timestepTensor(spec.timestep.dtype, spec.timestep.shape, size, t),
        [spec.hidden.name]: floatTensor(spec.hidden, [size, S, D], hidden),
      };
    },
    spec.output,
    signal,
  );
  const C = model.spec.latentChannels;
  const n = C * H * W;
  if (data.length !== items.length * n) {
    throw new GessoError(`unet/model.onnx: output "${spec.output}" has ${data.length / items.length} values per image; expected ${n} (${C}, ${H}, ${W})`);
  }
  return items.map((_, k) => cropTopLeft(data.subarray(k * n, (k + 1) * n), C, H, W, h, w));
}

/**
 * The timestep as the UNet declares it: a scalar, a fixed-length vector, or one per batch item.
 * Integer exports get the timestep truncated toward zero, as diffusers' ONNX pipeline's
 * `np.array([t], dtype=int64)` does with Euler's fractional timesteps.
 */
export function timestepTensor(dtype: string, shape: readonly (number | string)[], batch: number, t: number): HostTensor {
  const dims = shape.length === 0 ? [] : [typeof shape[0] === 'number' && shape[0] > 0 ? shape[0] : batch];
  const count = dims.length === 0 ? 1 : dims[0];
  switch (dtype) {
    case 'int64':
      return { dtype, dims, data: new BigInt64Array(count).fill(BigInt(Math.trunc(t))) };
    case 'int32':
      return { dtype, dims, data: new Int32Array(count).fill(Math.trunc(t)) };
    case 'float16':
      return floatTensor({ name: 'timestep', dtype: 'float16', shape: [...shape] }, dims, new Float32Array(count).fill(t));
    default:
      return { dtype: 'float32', dims, data: new Float32Array(count).fill(t) };
  }
}
