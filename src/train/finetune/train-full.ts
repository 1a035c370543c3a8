/**
 * `gesso train finetune --method full`: every weight of a small model's UNet trains on the folder's
 * pictures (the text encoder and VAE stay as they are), and the result is a complete model folder
 * `<out>/model` — the source folder copied with its UNet replaced; the source is never written.
 *
 * `priorPreservation` (DreamBooth, Ruiz et al. 2023): before training, the original model draws
 * `classImages` pictures of `classPrompt` (e.g. "smiley"); every batch is half the folder's pictures,
 * half these, and their loss counts `priorWeight` times, so the model keeps drawing the class as it did
 * while it learns the folder.
 *   1. data      pictures at the model's size; captions from .txt files, else the folder's name (warning)
 *   2. encode    pictures -> latents, captions -> text states (the folder's frozen encoder), once;
 *                class pictures: the original model's final latents, saved in the run folder for resume
 *   3. graph     the UNet rebuilt from unet/config.json with the folder's weights, all trainable
 *   4. train     checkpoints, resume, progress bar, sample grids from the model folder written so far
 */
import { cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { Rng } from '../../core/rng.ts';
import { Graph } from '../../graph/graph.ts';
import { encodeWithWeights, readOnnxWeights } from '../../models/onnx-weights.ts';
import { SD_LAYOUT } from '../../models/sd-layout.ts';
import { UNet2DCondition } from '../../models/unet2d-condition.ts';
import { generate } from '../../pipelines/generate.ts';
import type { DiffusionModel } from '../../pipelines/model-folder.ts';
import type { HostTensor } from '../../runtime/tensor.ts';
import { readSafetensors, toFloat32, writeSafetensors } from '../../weights/safetensors.ts';
import {
  adamwSession,
  captionStates,
  checkCounts,
  diffusionLoss,
  type FinetuneCommonOptions,
  type FinetuneCommonResult,
  latentInputs,
  loadFolderWeights,
  noisedBatch,
  prepareTraining,
  runFinetune,
  unetConfigOf,
  withFolderModel,
} from './finetune-common.ts';

/** `outDir` holds the checkpoint, samples, class pictures and the new model folder `<outDir>/model`. */
export interface FullFinetuneOptions extends FinetuneCommonOptions {
  /** Probability of training on the empty caption. Default 0.1. */
  captionDropout?: number;
  priorPreservation?: boolean;
  /** What the class pictures show (default: the data folder's name). */
  classPrompt?: string;
  /** How many class pictures the original model draws (default 2 per folder picture, at least 8). */
  classImages?: number;
  /** Weight of the class pictures' loss (default 1, as DreamBooth). */
  priorWeight?: number;
}

export interface FullFinetuneResult extends FinetuneCommonResult {
  modelPath: string;
  classImages: number;
  trainableParams: number;
}

export async function trainFull(o: FullFinetuneOptions): Promise<FullFinetuneResult> {
  const started = Date.now();
  const log = o.log ?? ((line: string) => console.log(line));
  const steps = o.steps ?? 300;
  const batch = o.batch ?? 8;
  const seed = o.seed ?? 0;
  const prior = o.priorPreservation ?? false;
  const priorWeight = o.priorWeight ?? 1;
  checkCounts({ steps, batch });
  if (prior && (batch < 2 || batch % 2 !== 0))
    throw new InputError(`--batch ${batch}: prior preservation needs an even batch (half folder, half class pictures)`);
  if (!(priorWeight >= 0) || !Number.isFinite(priorWeight)) throw new InputError(`--prior-weight ${priorWeight}: expected a number of at least 0`);
  const modelPath = join(o.outDir, 'model');
  const inside = relative(resolve(o.modelDir), resolve(modelPath));
  if (inside === '' || !inside.startsWith('..'))
    throw new InputError(`--out ${o.outDir}: the new model folder would be inside the source model ${o.modelDir}; choose another --out`);
  const folderName = basename(resolve(o.dataDir)).replace(/[-_]+/g, ' ');
  const classPrompt = o.classPrompt ?? folderName;

  // 1–2. Data, latents, text states; class pictures from the original model.
  const prepared = await withFolderModel(o.modelDir, async (model) => {
    const pictures = await prepareTraining(model, o, log, folderName);
    const classCount = prior ? (o.classImages ?? Math.max(8, 2 * pictures.captions.length)) : 0;
    const classLatents = prior
      ? await classPictures(model, classPrompt, classCount, pictures.size, join(o.outDir, 'class-latents.safetensors'), log)
      : new Float32Array(0);
    const text = await captionStates(model, ['', classPrompt, ...pictures.captions]);
    return { ...pictures, classCount, classLatents, ...text };
  });
  const { prediction, schedule, size, captions, latents, classCount, classLatents, states: contexts, sequence, hidden } = prepared;
  const n = captions.length;
  log(
    `data: ${n} pictures at ${size} px${prior ? `, ${classCount} class pictures of "${classPrompt}" at prior weight ${priorWeight}` : ''}; ${prediction} objective`,
  );

  // 3. The whole UNet, trainable, from the folder's weights.
  const c = unetConfigOf(o.modelDir);
  const g = new Graph();
  const unet = new UNet2DCondition(g, c, new Rng(seed));
  loadFolderWeights(g, o.modelDir, [SD_LAYOUT.unet.onnx]);
  const h = size / prepared.vaeScale;
  const dims = [batch, c.in_channels, h, h];
  const x = latentInputs(g, dims);
  const context = g.input('context', [batch, sequence, hidden]); // (B, S, D)
  const weights = g.input('sample_weights', [batch]); // (B,)
  const loss = diffusionLoss(unet.forward(x.noisy, x.t, context), x.target, weights);
  log(`unet: ${g.paramCount()} parameters, all trainable`);

  // 4. Training.
  const session = await adamwSession(g, loss, { weightDecay: 1e-2, clipGradNorm: 1 });
  const dropout = o.captionDropout ?? 0.1;
  // Folder latents then class latents: (N + K, C, h, w); a pick past n is a class picture.
  const source = new Float32Array(latents.length + classLatents.length);
  source.set(latents);
  source.set(classLatents, latents.length);
  const run = await runFinetune({
    session,
    options: o,
    steps,
    lr: o.lr ?? 1e-4,
    seed,
    label: 'full fine-tune',
    checkpointMetadata: { gesso_method: 'full' },
    samples: {
      defaultPrompts: [...new Set(captions)].slice(0, 3).concat(prior ? [classPrompt] : []),
      size,
      trainedModelDir: modelPath,
    },
    batch: (rng): Record<string, HostTensor> => {
      // First half the folder, second half the class pictures (indices past n) when preserving the prior.
      const picks = Array.from({ length: batch }, (_, b) => (prior && b >= batch / 2 ? n + rng.int(classCount) : rng.int(n)));
      const ctx = new Float32Array(batch * sequence * hidden);
      picks.forEach((i, b) => {
        const caption = i >= n ? classPrompt : rng.uniform() < dropout ? '' : (captions[i] as string);
        ctx.set(contexts.get(caption) as Float32Array, b * sequence * hidden);
      });
      return {
        ...noisedBatch(rng, schedule, prediction, source, picks, dims),
        context: { dtype: 'float32', dims: [batch, sequence, hidden], data: ctx },
        sample_weights: { dtype: 'float32', dims: [batch], data: Float32Array.from(picks, (i) => (i >= n ? priorWeight : 1)) },
      };
    },
    save: async () => writeModelFolder(o, modelPath, await session.values(), session.stepCount, { prior, classPrompt, priorWeight, classCount }),
  });
  return {
    modelPath,
    steps,
    losses: run.losses,
    images: n,
    classImages: classCount,
    trainableParams: g.paramCount(),
    resumedFrom: run.resumedFrom,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * `count` pictures of `prompt` by the original model (seeds 0..count−1), as its final latents
 * (C, h, w) each: what the VAE would decode, so they need no encoding back. Cached in `path`.
 */
async function classPictures(
  model: DiffusionModel,
  prompt: string,
  count: number,
  size: number,
  path: string,
  log: (line: string) => void,
): Promise<Float32Array> {
  if (existsSync(path)) {
    const file = readSafetensors(path, path);
    const t = file.tensors.get('latents');
    if (t && file.metadata.prompt === prompt && t.shape[0] === count) return Float32Array.from(toFloat32(t));
  }
  log(`prior preservation: the original model draws ${count} pictures of "${prompt}"`);
  const parts: Float32Array[] = [];
  for (let i = 0; i < count; i += 8) {
    const r = await generate(model, { prompt, seed: i, batchSize: Math.min(8, count - i), width: size, height: size, upscale: false });
    for (const im of r.images) parts.push(im.latents);
  }
  const per = parts[0]?.length ?? 0;
  const out = new Float32Array(count * per);
  parts.forEach((p, i) => out.set(p, i * per));
  const f = model.spec.vaeScaleFactor;
  writeSafetensors(path, { latents: { dtype: 'F32', shape: [count, model.spec.latentChannels, size / f, size / f], data: out } }, { prompt });
  return out;
}

/**
 * The new model folder: the source copied beside it, its UNet re-encoded with the trained weights
 * (inline: the old external data file is dropped), a note in the model card and finetune.json; then
 * renamed into place, so a crash never leaves half a folder at `modelPath`.
 */
function writeModelFolder(
  o: FullFinetuneOptions,
  modelPath: string,
  values: ReadonlyMap<string, Float32Array>,
  step: number,
  prior: { prior: boolean; classPrompt: string; priorWeight: number; classCount: number },
): void {
  const tmp = `${modelPath}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(o.modelDir, tmp, { recursive: true });
  const unetPath = join(tmp, SD_LAYOUT.unet.onnx);
  const weights = readOnnxWeights(join(o.modelDir, SD_LAYOUT.unet.onnx));
  const externals = new Set(
    (weights.model.graph?.initializer ?? []).flatMap((t) =>
      t.data_location === 1 ? (t.external_data ?? []).filter((e) => e.key === 'location').map((e) => e.value ?? '') : [],
    ),
  );
  const bytes = encodeWithWeights(weights, values);
  for (const file of externals) rmSync(join(tmp, 'unet', file), { force: true });
  writeFileSync(unetPath, bytes);
  const record = {
    method: 'full',
    base_model: o.modelDir,
    data: o.dataDir,
    steps: step,
    prior_preservation: prior.prior ? { class_prompt: prior.classPrompt, class_images: prior.classCount, prior_weight: prior.priorWeight } : null,
  };
  writeFileSync(join(tmp, 'finetune.json'), `${JSON.stringify(record, null, 2)}\n`);
  const card = join(tmp, 'README.md');
  const note = `\n\n## Fine-tuned by gesso\n\nThis folder is ${o.modelDir} with its UNet fine-tuned (every weight) for ${step} steps on the pictures of ${o.dataDir}${
    prior.prior ? `, with prior preservation on ${prior.classCount} pictures of "${prior.classPrompt}" drawn by the original model` : ''
  } (\`gesso train finetune --method full\`; finetune.json). The text encoder, VAE and tokenizer are the original's.\n`;
  writeFileSync(card, (existsSync(card) ? readFileSync(card, 'utf8') : '') + note);
  rmSync(modelPath, { recursive: true, force: true });
  renameSync(tmp, modelPath);
}
