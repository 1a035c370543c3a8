/**
 * Child part of `npm run bench:diffusion`: text-to-image with a model folder (the shipped default,
 * models/gesso-clipart-v1, unless --model says otherwise) through gesso's own pipeline, as
 * `gesso generate` runs it: the model's default scheduler, classifier-free guidance (cond and uncond
 * in one UNet batch of 2), its native size, and its upscaler when it has one. Prints one JSON line:
 * each timed round's `generate()` timings, the UNet's FLOPs per step and this process's peak RSS.
 *
 *   node --import tsx bench/diffusion_default.ts --model DIR [--steps 20] [--warmup 1] [--rounds 3] [--threads 2]
 *
 * FLOPs: the UNet is rebuilt from unet/config.json (zero weights cost no memory) at the shapes the
 * pipeline feeds it, and counted by src/graph/flops.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../src/core/errors.ts';
import { countFlops } from '../src/graph/flops.ts';
import { buildUNet2DCondition, unetConfig } from '../src/models/unet2d-condition.ts';
import { generate, type GenerateResult } from '../src/pipelines/generate.ts';
import { DiffusionModel } from '../src/pipelines/model-folder.ts';
import { printPartResult } from './lib/part.ts';

/** Any prompt will do: a step costs the same whatever the words. */
const PROMPT = 'a red apple';
const SEED = 1;

function intFlag(name: string, raw: string | undefined, fallback: number, min: number): number {
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < min) throw new InputError(`--${name} ${raw}: expected an integer >= ${min}`);
  return v;
}

function roundUp(v: number, multiple: number): number {
  return Math.ceil(v / multiple) * multiple;
}

/** FLOPs of one UNet run at the given shapes, from the folder's unet/config.json. */
function unetFlops(dir: string, batch: number, height: number, width: number, sequence: number): { flops: number; params: number } {
  const raw = JSON.parse(readFileSync(join(dir, 'unet', 'config.json'), 'utf8')) as Record<string, unknown>;
  const built = buildUNet2DCondition(unetConfig(raw), { init: 'zeros', batch, height, width, sequence });
  return { flops: countFlops(built.graph, [built.out]), params: built.graph.paramCount() };
}

function roundTimings(r: GenerateResult): Record<string, unknown> {
  const t = r.timings;
  return {
    unet_ms: t.unetMs,
    text_encoder_ms: t.textEncoderMs,
    vae_decode_ms: t.vaeDecodeMs.reduce((a, b) => a + b, 0),
    upscale_ms: t.upscaleMs.reduce((a, b) => a + b, 0),
    total_ms: t.totalMs,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, steps: { type: 'string' }, warmup: { type: 'string' }, rounds: { type: 'string' }, threads: { type: 'string' } },
  });
  if (values.model === undefined) throw new InputError('--model DIR (a model folder) is required');
  const steps = intFlag('steps', values.steps, 20, 1);
  const warmup = intFlag('warmup', values.warmup, 1, 0);
  const rounds = intFlag('rounds', values.rounds, 3, 1);
  const threads = intFlag('threads', values.threads, 2, 1);

  const t = performance.now();
  const model = await DiffusionModel.load(values.model, { session: { intraOpThreads: threads } });
  const loadMs = performance.now() - t;
  try {
    const spec = model.spec;
    const upscale = model.upscaler !== null;
    const request = { prompt: PROMPT, seed: SEED, steps, upscale };
    const results: Record<string, unknown>[] = [];
    let last: GenerateResult | null = null;
    for (let i = 0; i < warmup + rounds; i++) {
      last = await generate(model, request);
      process.stderr.write(`generate ${i + 1}/${warmup + rounds}${i < warmup ? ' (warm-up)' : ''}: ${(last.timings.totalMs / 1000).toFixed(2)} s\n`);
      if (i >= warmup) results.push(roundTimings(last));
    }
    const s = (last as GenerateResult).settings;
    const guided = s.cfgScale > 1;
    // The latent the UNet is fed (padded to its multiple, as denoise.ts does) and the text length (one chunk).
    const h = spec.fixedLatentHeight ?? roundUp(s.height / spec.vaeScaleFactor, spec.unetMultiple);
    const w = spec.fixedLatentWidth ?? roundUp(s.width / spec.vaeScaleFactor, spec.unetMultiple);
    const sequence = spec.fixedSequence ?? model.tokenizer.maxLength;
    const batch = guided ? 2 : 1;
    const { flops, params } = unetFlops(model.dir, batch, h, w, sequence);
    const image = (last as GenerateResult).images[0];
    printPartResult({
      part: 'default-model',
      model: model.name,
      scheduler: s.schedulerName,
      steps: s.steps,
      cfg_scale: s.cfgScale,
      width: s.width,
      height: s.height,
      out_width: image?.width ?? s.width,
      out_height: image?.height ?? s.height,
      upscale,
      unet_batch: batch,
      latent: [h, w],
      sequence,
      unet_params: params,
      unet_flops: flops,
      threads,
      load_ms: loadMs,
      warmup,
      rounds: results,
    });
  } finally {
    await model.release();
  }
}

await main();
