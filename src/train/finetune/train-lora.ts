/**
 * `gesso train finetune --method lora`: a LoRA on a model folder's UNet, learnt from a folder of
 * captioned pictures, saved as a kohya/A1111 LoRA file.
 *   1. data      pictures at the model's size (finetune-data.ts)
 *   2. encode    each picture -> VAE latents (the folder's vae_encoder), each caption -> text states
 *                (the folder's text encoder, kept frozen), once, up front
 *   3. graph     the folder's UNet rebuilt by gesso's UNet2DCondition from unet/config.json, its weights
 *                read from unet/model.onnx and frozen; adapters on the attention projections
 *   4. train     the model's own objective (ε or v) on noised latents; checkpoints, resume, progress bar,
 *                sample grids with fixed seeds through the real pipeline with the LoRA merged
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { Rng } from '../../core/rng.ts';
import { Graph } from '../../graph/graph.ts';
import { buildTrainStep } from '../../autodiff/train-step.ts';
import { UNet2DCondition } from '../../models/unet2d-condition.ts';
import { SD_LAYOUT } from '../../models/sd-layout.ts';
import { DiffusionModel } from '../../pipelines/model-folder.ts';
import { encodePrompts } from '../../pipelines/text-conditioning.ts';
import type { HostTensor } from '../../runtime/tensor.ts';
import { createNoiseSchedule } from '../../schedulers/index.ts';
import { writeLoraFile } from '../../weights/lora-file.ts';
import { sampleGrid } from '../default-model/samples.ts';
import { trainLoop } from '../loop.ts';
import { warmupCosine } from '../lr-schedule.ts';
import { TrainSession } from '../train-session.ts';
import { loadFinetuneData } from './finetune-data.ts';
import { attachLora, findLinears, freezeAll, loraModules, TEXT_ATTENTION_TARGETS, UNET_ATTENTION_TARGETS } from './lora-attach.ts';
import { ClipTextEncoder } from '../../models/clip-text-encoder.ts';
import { diffusionLoss, encodeFolder, loadFolderWeights, noisedBatch, predictionOf, textConfigOf, trainingSize, unetConfigOf } from './finetune-common.ts';

export interface LoraTrainingOptions {
  modelDir: string;
  dataDir: string;
  /** Picture size to train at, in pixels (default: the model's default size). */
  size?: number;
  /** Run folder: checkpoint, samples, the LoRA file. */
  outDir: string;
  /** Name of the LoRA file (`<name>.safetensors`, what `<lora:name>` calls it). Default "lora". */
  name?: string;
  rank?: number;
  /** Default: the rank (scale 1). */
  alpha?: number;
  steps?: number;
  batch?: number;
  lr?: number;
  /** Adapt the text encoder's attention projections too (its weights frozen, adapters trained with the UNet's). */
  textEncoder?: boolean;
  /** Probability of training on the empty caption, so guidance keeps working. Default 0.1. */
  captionDropout?: number;
  seed?: number;
  checkpointEvery?: number;
  sampleEvery?: number;
  /** Prompts of the sample grids (default: up to 4 of the captions). */
  samplePrompts?: string[];
  sampleSteps?: number;
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface LoraTrainingResult {
  loraPath: string;
  steps: number;
  losses: number[];
  images: number;
  adaptedModules: number;
  trainableParams: number;
  resumedFrom: number;
  seconds: number;
}

export async function trainLora(o: LoraTrainingOptions): Promise<LoraTrainingResult> {
  const started = Date.now();
  const log = o.log ?? ((line: string) => console.log(line));
  const rank = o.rank ?? 4;
  const alpha = o.alpha ?? rank;
  const steps = o.steps ?? 400;
  const batch = o.batch ?? 8;
  const seed = o.seed ?? 0;
  const name = o.name ?? 'lora';
  for (const [flag, v] of Object.entries({ rank, steps, batch })) {
    if (!Number.isInteger(v) || v < 1) throw new InputError(`--${flag} ${v}: expected a whole number of at least 1`);
  }
  const loraPath = join(o.outDir, `${name}.safetensors`);

  // 1–2. Data, latents and text states, with the folder's own VAE encoder and text encoder.
  const model = await DiffusionModel.load(o.modelDir, { runner: 'in-process', upscaler: false });
  const prediction = predictionOf(model);
  const scheduleConfig = model.scheduler.config;
  let size: number;
  let captions: string[];
  let latents: Float32Array;
  const contexts = new Map<string, Float32Array>();
  let sequence = 0;
  let hidden = 0;
  const captionIds = new Map<string, number[]>();
  try {
    size = trainingSize(model, o.size);
    const data = await loadFinetuneData(o.dataDir, size, o.outDir, log);
    mkdirSync(join(o.outDir, 'samples'), { recursive: true }); // only once the data is known good
    captions = data.items.map((i) => i.caption);
    latents = await encodeFolder(model, data, size);
    for (const c of new Set(['', ...captions])) {
      const e = await encodePrompts(model, c, '', { maxChunks: 1 });
      contexts.set(c, e.cond);
      sequence = e.sequence;
      hidden = e.hidden;
      captionIds.set(c, Array.from(model.tokenizer.encode(c).ids));
    }
  } finally {
    await model.release();
  }
  const n = captions.length;
  log(`data: ${n} pictures at ${size} px, ${contexts.size - 1} distinct captions; text states (${sequence}, ${hidden}); ${prediction} objective`);

  // 3. The UNet with the folder's weights, frozen, and the adapters.
  const config = unetConfigOf(o.modelDir);
  const g = new Graph();
  const unet = new UNet2DCondition(g, config, new Rng(seed));
  const text = o.textEncoder ? new ClipTextEncoder(g, textConfigOf(o.modelDir), new Rng(seed)) : null;
  loadFolderWeights(g, o.modelDir, text ? [SD_LAYOUT.unet.onnx, SD_LAYOUT.textEncoder.onnx] : [SD_LAYOUT.unet.onnx]);
  freezeAll(g);
  const targets = findLinears(unet).filter((l) => UNET_ATTENTION_TARGETS.test(l.name));
  const attached = attachLora(g, 'unet', targets, { rank, alpha, seed: seed + 1 });
  if (text)
    attached.push(
      ...attachLora(
        g,
        'textEncoder',
        findLinears(text).filter((l) => TEXT_ATTENTION_TARGETS.test(l.name)),
        { rank, alpha, seed: seed + 2 },
      ),
    );
  const c = config;
  const h = size / model.spec.vaeScaleFactor;
  const noisy = g.input('noisy', [batch, c.in_channels, h, h]);
  const t = g.input('t', [batch], 'int64');
  const ids = text ? g.input('ids', [batch, sequence], 'int64') : null;
  const context = text && ids ? text.forward(ids).lastHiddenState : g.input('context', [batch, sequence, hidden]); // (B, S, D)
  const loss = diffusionLoss(unet.forward(noisy, t, context), g.input('target', [batch, c.out_channels, h, h]));
  log(
    `${text ? 'unet and text encoder' : 'unet'}: ${attached.length} attention projections adapted at rank ${rank} (alpha ${alpha}): ${g.paramCount()} trainable parameters`,
  );

  // 4. Training.
  const session = await TrainSession.create(g, buildTrainStep(g, { loss, optimizer: { kind: 'adamw', weightDecay: 0 }, clipGradNorm: 1 }));
  const schedule = createNoiseSchedule(scheduleConfig);
  const dropout = o.captionDropout ?? 0.1;
  const samplePrompts = o.samplePrompts ?? [...new Set(captions)].slice(0, 4);
  const writeLora = async (): Promise<void> => {
    writeLoraFile(loraPath, loraModules(attached, await session.values()), {
      gesso_base_model: o.modelDir,
      gesso_data: o.dataDir,
      gesso_steps: String(session.stepCount),
      ss_training_comment: 'trained by gesso train finetune --method lora',
    });
  };
  const grid = (file: string, withLora: boolean): Promise<void> =>
    sampleGrid(o.modelDir, join(o.outDir, 'samples', file), {
      prompts: samplePrompts,
      seeds: 4,
      size,
      steps: o.sampleSteps ?? 20,
      ...(withLora ? { loras: [{ path: loraPath, weight: 1 }] } : {}),
    });
  const checkpointPath = join(o.outDir, 'checkpoint.safetensors');
  if (!existsSync(checkpointPath) && !o.quiet) await grid('step000000-base.png', false);
  const losses: number[] = [];
  try {
    const result = await trainLoop({
      session,
      steps,
      lr: warmupCosine({ lr: o.lr ?? 1e-3, warmupSteps: Math.min(20, Math.floor(steps / 10)), totalSteps: steps, minLr: (o.lr ?? 1e-3) / 10 }),
      label: 'lora',
      quiet: o.quiet ?? false,
      resume: true,
      checkpoint: { path: checkpointPath, every: o.checkpointEvery ?? 50, metadata: { gesso_lora_name: name } },
      history: join(o.outDir, 'history.jsonl'),
      batch: (step): Record<string, HostTensor> => {
        const rng = new Rng((seed * 104729 + step) >>> 0);
        const picks = Array.from({ length: batch }, () => rng.int(n));
        const ctx = new Float32Array(text ? 0 : batch * sequence * hidden);
        const tokens = new BigInt64Array(text ? batch * sequence : 0);
        picks.forEach((i, b) => {
          const caption = rng.uniform() < dropout ? '' : (captions[i] as string);
          if (text) (captionIds.get(caption) as number[]).forEach((id, k) => (tokens[b * sequence + k] = BigInt(id)));
          else ctx.set(contexts.get(caption) as Float32Array, b * sequence * hidden);
        });
        return {
          ...noisedBatch(rng, schedule, prediction, latents, picks, [batch, c.in_channels, h, h]),
          ...(text
            ? { ids: { dtype: 'int64', dims: [batch, sequence], data: tokens } as HostTensor }
            : { context: { dtype: 'float32', dims: [batch, sequence, hidden], data: ctx } as HostTensor }),
        };
      },
      onStep: (r) => {
        losses.push(r.loss);
        // One line per step, appended as it happens: a stopped run keeps its loss curve (the studio's Train page reads it).
        appendFileSync(join(o.outDir, 'history.jsonl'), `${JSON.stringify({ step: r.step, loss: r.loss })}\n`);
      },
      sample: {
        every: o.sampleEvery ?? 100,
        run: async (step) => {
          await writeLora();
          if (!o.quiet || step === steps) await grid(`step${String(step).padStart(6, '0')}.png`, true);
        },
      },
    });
    await writeLora();
    return {
      loraPath,
      steps,
      losses,
      images: n,
      adaptedModules: attached.length,
      trainableParams: g.paramCount(),
      resumedFrom: result.resumedFrom,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await session.release();
  }
}
