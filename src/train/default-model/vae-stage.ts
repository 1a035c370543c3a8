/**
 * Stage 1 of the default model: a KL autoencoder (diffusers' AutoencoderKL architecture) that maps
 * 64×64 drawings to 4×16×16 latents. Loss = pixel MSE + klWeight · KL(q(z|x) ‖ N(0, I)), with
 * z = mean + exp(logvar / 2) · noise (the reparameterisation; noise is a batch input seeded by step).
 */
import { join } from 'node:path';
import { Rng } from '../../core/rng.ts';
import { Graph } from '../../graph/graph.ts';
import { add, clip, exp, mul, reduceMean, split, sub } from '../../graph/ops/index.ts';
import { buildTrainStep } from '../../autodiff/train-step.ts';
import {
  VaeDecoder,
  VaeEncoder,
  buildVaeDecoder,
  buildVaeEncoder,
  exportVaeDecoder,
  exportVaeEncoder,
  type AutoencoderKLConfig,
} from '../../models/autoencoder-kl.ts';
import type { ImageDataset } from '../../data/dataset.ts';
import { Session } from '../../runtime/session.ts';
import type { Runner } from '../../runtime/runner.ts';
import { batchToGrid, stackGrids } from '../../image/grid.ts';
import { writeImageFile } from '../../image/write-image.ts';
import { psnr as pixelPsnr } from '../../image/metrics.ts';
import { TrainSession } from '../train-session.ts';
import { trainLoop } from '../loop.ts';
import { warmupCosine } from '../lr-schedule.ts';
import type { DefaultModelPlan } from './config.ts';
import { cpuMetadata, type StageLog } from './stage-log.ts';

export interface VaeStageResult {
  values: Map<string, Float32Array>;
  valPsnr: number;
}

function buildVaeTraining(cfg: AutoencoderKLConfig, batch: number, klWeight: number, seed: number) {
  const g = new Graph();
  const rng = new Rng(seed);
  const encoder = new VaeEncoder(g, cfg, rng);
  const decoder = new VaeDecoder(g, cfg, rng);
  const size = cfg.sample_size;
  const f = 2 ** (cfg.block_out_channels.length - 1);
  const L = cfg.latent_channels;
  const x = g.input('x', [batch, 3, size, size]);
  const noise = g.input('noise', [batch, L, size / f, size / f]);
  const [mean, rawLogvar] = split(encoder.forward(x), [L, L], 1); // (B, L, h, w) each
  const logvar = clip(rawLogvar as ReturnType<typeof clip>, -30, 20);
  const z = add(mean as ReturnType<typeof add>, mul(exp(mul(logvar, 0.5)), noise));
  const d = sub(decoder.forward(z), x); // (B, 3, H, W)
  const mse = reduceMean(mul(d, d));
  const m = mean as ReturnType<typeof add>;
  const kl = mul(reduceMean(sub(add(mul(m, m), exp(logvar)), add(logvar, 1))), 0.5);
  const loss = add(mse, mul(kl, klWeight));
  return { g, loss, metrics: { mse, kl } };
}

/** Encoder (mean latents) and decoder sessions from trained values: the exact ONNX the model ships. */
export async function vaeSessions(
  cfg: AutoencoderKLConfig,
  values: ReadonlyMap<string, Float32Array>,
): Promise<{ encoder: Runner; decoder: Runner; encoderOnnx: Uint8Array; decoderOnnx: Uint8Array }> {
  const enc = buildVaeEncoder(cfg, { init: 'zeros' });
  enc.graph.setValues(values);
  const dec = buildVaeDecoder(cfg, { init: 'zeros' });
  dec.graph.setValues(values);
  const encoderOnnx = exportVaeEncoder(enc).bytes;
  const decoderOnnx = exportVaeDecoder(dec).bytes;
  return { encoder: await Session.create(encoderOnnx), decoder: await Session.create(decoderOnnx), encoderOnnx, decoderOnnx };
}

/** Mean latents (N, L, h, w) of images (N, 3, H, W), in chunks. */
export async function encodeMeans(encoder: Runner, images: Float32Array, n: number, cfg: AutoencoderKLConfig, chunk = 64): Promise<Float32Array> {
  const size = cfg.sample_size;
  const f = 2 ** (cfg.block_out_channels.length - 1);
  const L = cfg.latent_channels;
  const per = 3 * size * size;
  const lat = L * (size / f) * (size / f);
  const out = new Float32Array(n * lat);
  for (let i = 0; i < n; i += chunk) {
    const b = Math.min(chunk, n - i);
    const res = await encoder.run({ sample: { dtype: 'float32', dims: [b, 3, size, size], data: images.slice(i * per, (i + b) * per) } });
    const params = res['latent_sample']?.data as Float32Array; // (b, 2L, h, w)
    for (let k = 0; k < b; k++) out.set(params.subarray(k * 2 * lat, k * 2 * lat + lat), (i + k) * lat);
  }
  return out;
}

export async function decodeLatents(decoder: Runner, latents: Float32Array, n: number, cfg: AutoencoderKLConfig, chunk = 64): Promise<Float32Array> {
  const size = cfg.sample_size;
  const f = 2 ** (cfg.block_out_channels.length - 1);
  const L = cfg.latent_channels;
  const lat = L * (size / f) * (size / f);
  const out = new Float32Array(n * 3 * size * size);
  for (let i = 0; i < n; i += chunk) {
    const b = Math.min(chunk, n - i);
    const res = await decoder.run({ latent_sample: { dtype: 'float32', dims: [b, L, size / f, size / f], data: latents.slice(i * lat, (i + b) * lat) } });
    out.set(res['sample']?.data as Float32Array, i * 3 * size * size);
  }
  return out;
}

/** PSNR in dB of [-1, 1] images, measured on [0, 1] pixels after clamping (pooled over all pixels). */
export function psnr(a: Float32Array, b: Float32Array): number {
  const unit = (v: Float32Array): Float32Array => v.map((x) => (Math.max(-1, Math.min(1, x)) + 1) / 2);
  return pixelPsnr(unit(a), unit(b));
}

export async function trainVaeStage(
  plan: DefaultModelPlan,
  train: ImageDataset,
  val: ImageDataset,
  runDir: string,
  log: StageLog,
  quiet = false,
): Promise<VaeStageResult> {
  const cfg = plan.vae;
  const s = plan.vaeTraining;
  const { g, loss, metrics } = buildVaeTraining(cfg, s.batch, plan.klWeight, plan.seed);
  log.note(
    `VAE: ${g.paramCount()} parameters, block_out_channels ${JSON.stringify(cfg.block_out_channels)}, latent ${cfg.latent_channels}×${cfg.sample_size / 4}×${cfg.sample_size / 4}`,
  );
  // Per-parameter optimizer state: the shipped model's VAE checkpoint was written in that layout before the
  // flat one existed, and a resumed run must read it back (the VAE is small, so the flat layout's speed-up is too).
  const session = await TrainSession.create(
    g,
    buildTrainStep(g, { loss, metrics, optimizer: { kind: 'adamw', weightDecay: 0 }, clipGradNorm: 1, stateLayout: 'per-param' }),
  );
  const valImages = val.readBatch(val.items.map((_, i) => i));
  // A small split (48 drawings -> 3 for validation) shows what it has; the grid wants at most 8.
  const shown = Math.min(8, val.items.length);
  const f = 2 ** (cfg.block_out_channels.length - 1);
  const latentSize = cfg.latent_channels * (cfg.sample_size / f) ** 2;
  const evaluate = async (step: number): Promise<number> => {
    const { encoder, decoder } = await vaeSessions(cfg, await session.values());
    const rec = await decodeLatents(decoder, await encodeMeans(encoder, valImages, val.items.length, cfg), val.items.length, cfg);
    await encoder.release();
    await decoder.release();
    const p = psnr(rec, valImages);
    log.point('vae_val_psnr', step, p);
    const px = 3 * cfg.sample_size * cfg.sample_size;
    const grid = stackGrids([
      batchToGrid(valImages.subarray(0, shown * px), [shown, 3, cfg.sample_size, cfg.sample_size]),
      batchToGrid(rec.subarray(0, shown * px), [shown, 3, cfg.sample_size, cfg.sample_size]),
    ]);
    await writeImageFile(join(runDir, 'samples', `vae-step${String(step).padStart(6, '0')}.png`), grid.pixels, grid.width, grid.height, 3);
    return p;
  };
  try {
    await trainLoop({
      session,
      steps: s.steps,
      lr: warmupCosine({ lr: s.lr, warmupSteps: s.warmup, totalSteps: s.steps, minLr: s.lr / 20 }),
      label: 'vae',
      quiet,
      resume: true,
      checkpoint: { path: join(runDir, 'vae.safetensors'), every: s.checkpointEvery, metadata: () => cpuMetadata(log) },
      batch: (step) => {
        // Batches depend only on the step, so a resumed run sees the same data and noise.
        const rng = new Rng((plan.seed * 7919 + step) >>> 0);
        const x = train.readBatch(train.sampleIndices(rng, s.batch));
        return {
          x: { dtype: 'float32', dims: [s.batch, 3, cfg.sample_size, cfg.sample_size], data: x },
          noise: { dtype: 'float32', dims: [s.batch, cfg.latent_channels, cfg.sample_size / f, cfg.sample_size / f], data: rng.normal(s.batch * latentSize) },
        };
      },
      onStep: (r) => {
        log.point('vae_loss', r.step, r.loss);
        log.point('vae_mse', r.step, r.metrics['mse'] ?? Number.NaN);
      },
      sample: { every: s.sampleEvery, run: async (step) => void (await evaluate(step)) },
    });
    const values = await session.values();
    const points = log.get('vae_val_psnr');
    const lastPoint = points[points.length - 1];
    const valPsnr = lastPoint && lastPoint[0] === s.steps ? lastPoint[1] : await evaluate(s.steps);
    return { values, valPsnr };
  } finally {
    await session.release();
  }
}
