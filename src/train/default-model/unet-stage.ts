/**
 * Stage 4 of the default model: the text encoder and the UNet trained together on noise prediction
 * (DDPM's ε-objective, Ho et al. 2020; or v = α·ε − σ·x0, Salimans & Ho 2022, with the plan's
 * `prediction`) over the VAE's scaled latents, optionally with min-SNR-γ weights per sample (Hang et
 * al. 2023: w = min(SNR, γ)/SNR for ε, min(SNR, γ)/(SNR + 1) for v). Captions are dropped to "" with
 * probability `captionDropout` so the same network gives the unconditional prediction that
 * classifier-free guidance needs (Ho & Salimans, 2022). Noising happens on the host with the
 * scheduler's own noise schedule, so training and sampling share one definition of ᾱ_t.
 */
import { join } from 'node:path';
import { Rng } from '../../core/rng.ts';
import { Graph } from '../../graph/graph.ts';
import { mul, reduceMean, sub } from '../../graph/ops/index.ts';
import { buildTrainStep } from '../../autodiff/train-step.ts';
import { ClipTextEncoder, type ClipTextConfig } from '../../models/clip-text-encoder.ts';
import { UNet2DCondition } from '../../models/unet2d-condition.ts';
import { createNoiseSchedule } from '../../schedulers/index.ts';
import type { SchedulerConfig } from '../../schedulers/config.ts';
import type { WordTokenizer } from '../../text/word-tokenizer.ts';
import type { HostTensor } from '../../runtime/tensor.ts';
import { TrainSession } from '../train-session.ts';
import { trainLoop } from '../loop.ts';
import { warmupCosine } from '../lr-schedule.ts';
import type { DefaultModelPlan, RefineRun } from './config.ts';
import { shortCaption } from './short-caption.ts';
import { cpuMetadata, type StageLog } from './stage-log.ts';

export interface UnetStageInput {
  plan: DefaultModelPlan;
  textConfig: ClipTextConfig;
  tokenizer: WordTokenizer;
  /** Scaled latents (N, L, h, w) of the training drawings and their captions. */
  latents: Float32Array;
  captions: readonly string[];
  /** Relative sampling weight of each drawing (see categoryWeights). */
  weights: readonly number[];
  runDir: string;
  log: StageLog;
  quiet?: boolean;
  /** Called with EMA weights every sampleEvery steps (writes a sample grid). */
  sample?: (step: number, values: Map<string, Float32Array>) => Promise<void>;
  /**
   * A refine run (one of the plan's `refines`): its own schedule, checkpoint `unet-<name>.safetensors`
   * and loss series, starting from `init` (the previous run's EMA weights). Absent: the first run, from scratch.
   */
  refine?: { run: RefineRun; init: ReadonlyMap<string, Float32Array> };
}

/**
 * Sampling weights that cap each category's share at `cap` drawings' worth: the library holds 1,378
 * near-identical string-art stars (20% of it); unweighted, they would swamp everything else.
 */
export function categoryWeights(categories: readonly string[], cap: number): number[] {
  const counts = new Map<string, number>();
  for (const c of categories) counts.set(c, (counts.get(c) ?? 0) + 1);
  return categories.map((c) => Math.min(1, cap / (counts.get(c) as number)));
}

/**
 * Sampling weights of several data folders ("parts") for the plan's refine run: the category cap inside
 * each part, categories in `exclude` (or below them) never drawn, and each part's total scaled to its
 * share of the batches.
 */
export function partWeights(parts: readonly { categories: readonly string[]; share: number }[], cap: number, exclude: readonly string[]): number[] {
  const excluded = (c: string): boolean => exclude.some((e) => c === e || c.startsWith(`${e}/`));
  return parts.flatMap(({ categories, share }) => {
    const w = categoryWeights(categories, cap).map((v, i) => (excluded(categories[i] as string) ? 0 : v));
    const total = w.reduce((a, b) => a + b, 0);
    return w.map((v) => (total > 0 ? (v * share) / total : 0));
  });
}

export function buildUnetTraining(plan: DefaultModelPlan, textConfig: ClipTextConfig, batch: number) {
  const g = new Graph();
  const rng = new Rng(plan.seed + 1);
  const text = new ClipTextEncoder(g, textConfig, rng);
  const unet = new UNet2DCondition(g, plan.unet, rng);
  const c = plan.unet;
  const ids = g.input('ids', [batch, textConfig.max_position_embeddings], 'int64');
  const noisy = g.input('noisy', [batch, c.in_channels, c.sample_size, c.sample_size]);
  const t = g.input('t', [batch], 'int64');
  // The regression target: ε, or v (the plan's prediction type).
  const target = g.input('target', [batch, c.out_channels, c.sample_size, c.sample_size]);
  const context = text.forward(ids).lastHiddenState; // (B, S, D)
  const d = sub(unet.forward(noisy, t, context), target); // (B, L, h, w)
  if (plan.unetTraining.minSnrGamma === null) return { g, loss: reduceMean(mul(d, d)) };
  const weight = g.input('weight', [batch, 1, 1, 1]); // per-sample min-SNR weight
  return { g, loss: reduceMean(mul(weight, mul(d, d))) };
}

/** The min-SNR-γ weight of one sample at SNR `snr` for the prediction type. */
export function minSnrWeight(snr: number, gamma: number, prediction: 'epsilon' | 'v_prediction'): number {
  return Math.min(snr, gamma) / (prediction === 'epsilon' ? snr : snr + 1);
}

export async function trainUnetStage(o: UnetStageInput): Promise<Map<string, Float32Array>> {
  const { plan, tokenizer, latents, captions } = o;
  const s = { ...plan.unetTraining, ...(o.refine?.run ?? {}) };
  const c = plan.unet;
  const label = o.refine?.run.name ?? 'unet';
  // Each run draws its own batches; the first refine run keeps the offset it was trained with.
  const seedOffset = o.refine ? 7919 * (1 + plan.refines.indexOf(o.refine.run)) : 0;
  const shortCaptions = o.refine?.run.shortCaptions ?? 0;
  const { g, loss } = buildUnetTraining(plan, o.textConfig, s.batch);
  if (o.refine) g.setValues(o.refine.init, { complete: true });
  const textParams = [...g.params.keys()].filter((n) => n.startsWith('text_model.'));
  const textCount = textParams.reduce((n, k) => n + (g.params.get(k)?.value.length ?? 0), 0);
  o.log.note(
    `text encoder: ${textCount} parameters (vocabulary ${tokenizer.vocabSize} words, ${tokenizer.maxLength} tokens); UNet: ${g.paramCount() - textCount} parameters`,
  );
  const session = await TrainSession.create(
    g,
    buildTrainStep(g, { loss, optimizer: { kind: 'adamw', weightDecay: 0.01 }, clipGradNorm: 1, emaDecay: s.emaDecay }),
  );
  const schedule = createNoiseSchedule(plan.scheduler as Partial<SchedulerConfig>);
  const latentSize = c.in_channels * c.sample_size * c.sample_size;
  const n = captions.length;
  const L = tokenizer.maxLength;
  const emptyIds = tokenizer.encode('').ids;
  const cumulative = new Float64Array(n);
  o.weights.reduce((acc, w, i) => (cumulative[i] = acc + w), 0);
  const total = cumulative[n - 1];
  const pick = (rng: Rng): number => {
    // Binary search of the cumulative weights.
    const u = rng.uniform() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const emaValues = (): Promise<Map<string, Float32Array>> => session.emaValues();
  try {
    await trainLoop({
      session,
      steps: s.steps,
      lr: warmupCosine({ lr: s.lr, warmupSteps: s.warmup, totalSteps: s.steps, minLr: s.lr / 10 }),
      label,
      quiet: o.quiet ?? false,
      resume: true,
      checkpoint: { path: join(o.runDir, `unet${o.refine ? `-${label}` : ''}.safetensors`), every: s.checkpointEvery, metadata: () => cpuMetadata(o.log) },
      batch: (step): Record<string, HostTensor> => {
        const rng = new Rng((plan.seed * 104729 + step + seedOffset) >>> 0);
        const x0 = new Float32Array(s.batch * latentSize);
        const ids = new BigInt64Array(s.batch * L);
        const ts: number[] = [];
        for (let b = 0; b < s.batch; b++) {
          const i = pick(rng);
          x0.set(latents.subarray(i * latentSize, (i + 1) * latentSize), b * latentSize);
          const caption =
            shortCaptions > 0 && rng.uniform() < shortCaptions ? shortCaption(captions[i] as string, rng.uniform() < 0.5) : (captions[i] as string);
          const tokens = rng.uniform() < s.captionDropout ? emptyIds : tokenizer.encode(caption).ids;
          for (let k = 0; k < L; k++) ids[b * L + k] = BigInt(tokens[k]);
          ts.push(rng.int(schedule.numTrainTimesteps));
        }
        const eps = rng.normal(x0.length);
        const noisy = schedule.addNoiseAt(x0, eps, ts);
        const dims = [s.batch, c.in_channels, c.sample_size, c.sample_size];
        const gamma = s.minSnrGamma;
        return {
          ids: { dtype: 'int64', dims: [s.batch, L], data: ids },
          noisy: { dtype: 'float32', dims, data: noisy },
          t: { dtype: 'int64', dims: [s.batch], data: BigInt64Array.from(ts.map((v) => BigInt(v))) },
          target: { dtype: 'float32', dims, data: s.prediction === 'epsilon' ? eps : schedule.velocity(x0, eps, ts) },
          ...(gamma === null
            ? {}
            : {
                weight: {
                  dtype: 'float32' as const,
                  dims: [s.batch, 1, 1, 1],
                  data: Float32Array.from(ts, (v) => minSnrWeight(schedule.snr(v), gamma, s.prediction)),
                },
              }),
        };
      },
      onStep: (r) => o.log.point(`${label}_loss`, r.step, r.loss),
      ...(o.sample
        ? { sample: { every: s.sampleEvery, run: async (step: number) => (o.sample as NonNullable<typeof o.sample>)(step, await emaValues()) } }
        : {}),
    });
    return await emaValues();
  } finally {
    await session.release();
  }
}
