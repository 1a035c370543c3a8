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
import { join } from 'node:path';
import { Graph } from '../../graph/graph.ts';
import { Rng } from '../../core/rng.ts';
import { ClipTextEncoder } from '../../models/clip-text-encoder.ts';
import { SD_LAYOUT } from '../../models/sd-layout.ts';
import { UNet2DCondition } from '../../models/unet2d-condition.ts';
import type { HostTensor } from '../../runtime/tensor.ts';
import { writeLoraFile } from '../../weights/lora-file.ts';
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
  textConfigOf,
  unetConfigOf,
  withFolderModel,
} from './finetune-common.ts';
import { attachLora, findLinears, freezeAll, loraModules, TEXT_ATTENTION_TARGETS, UNET_ATTENTION_TARGETS } from './lora-attach.ts';

/** `outDir` holds the checkpoint, samples, `history.jsonl` and the LoRA file `<name>.safetensors`. */
export interface LoraTrainingOptions extends FinetuneCommonOptions {
  /** Name of the LoRA file (`<name>.safetensors`, what `<lora:name>` calls it). Default "lora". */
  name?: string;
  rank?: number;
  /** Default: the rank (scale 1). */
  alpha?: number;
  /** Adapt the text encoder's attention projections too (its weights frozen, adapters trained with the UNet's). */
  textEncoder?: boolean;
  /** Probability of training on the empty caption, so guidance keeps working. Default 0.1. */
  captionDropout?: number;
}

export interface LoraTrainingResult extends FinetuneCommonResult {
  loraPath: string;
  adaptedModules: number;
  trainableParams: number;
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
  checkCounts({ rank, steps, batch });
  const loraPath = join(o.outDir, `${name}.safetensors`);

  // 1–2. Data, latents and text states, with the folder's own VAE encoder and text encoder.
  const prepared = await withFolderModel(o.modelDir, async (model) => {
    const pictures = await prepareTraining(model, o, log);
    const captionSet = ['', ...pictures.captions];
    const text = await captionStates(model, captionSet);
    const captionIds = new Map(captionSet.map((c) => [c, Array.from(model.tokenizer.encode(c).ids)]));
    return { ...pictures, ...text, captionIds };
  });
  const { prediction, schedule, size, captions, latents, states: contexts, sequence, hidden, captionIds } = prepared;
  const n = captions.length;
  log(`data: ${n} pictures at ${size} px, ${contexts.size - 1} distinct captions; text states (${sequence}, ${hidden}); ${prediction} objective`);

  // 3. The UNet with the folder's weights, frozen, and the adapters.
  const c = unetConfigOf(o.modelDir);
  const g = new Graph();
  const unet = new UNet2DCondition(g, c, new Rng(seed));
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
  const h = size / prepared.vaeScale;
  const dims = [batch, c.in_channels, h, h];
  const x = latentInputs(g, dims);
  const ids = text ? g.input('ids', [batch, sequence], 'int64') : null;
  const context = text && ids ? text.forward(ids).lastHiddenState : g.input('context', [batch, sequence, hidden]); // (B, S, D)
  const loss = diffusionLoss(unet.forward(x.noisy, x.t, context), x.target);
  log(
    `${text ? 'unet and text encoder' : 'unet'}: ${attached.length} attention projections adapted at rank ${rank} (alpha ${alpha}): ${g.paramCount()} trainable parameters`,
  );

  // 4. Training.
  const session = await adamwSession(g, loss, { weightDecay: 0, clipGradNorm: 1 });
  const dropout = o.captionDropout ?? 0.1;
  const run = await runFinetune({
    session,
    options: o,
    steps,
    lr: o.lr ?? 1e-3,
    seed,
    label: 'lora',
    checkpointMetadata: { gesso_lora_name: name },
    samples: {
      defaultPrompts: [...new Set(captions)].slice(0, 4),
      size,
      loras: [{ path: loraPath, weight: 1 }],
    },
    batch: (rng): Record<string, HostTensor> => {
      const picks = Array.from({ length: batch }, () => rng.int(n));
      const ctx = new Float32Array(text ? 0 : batch * sequence * hidden);
      const tokens = new BigInt64Array(text ? batch * sequence : 0);
      picks.forEach((i, b) => {
        const caption = rng.uniform() < dropout ? '' : (captions[i] as string);
        if (text) (captionIds.get(caption) as number[]).forEach((id, k) => (tokens[b * sequence + k] = BigInt(id)));
        else ctx.set(contexts.get(caption) as Float32Array, b * sequence * hidden);
      });
      return {
        ...noisedBatch(rng, schedule, prediction, latents, picks, dims),
        ...(text
          ? { ids: { dtype: 'int64', dims: [batch, sequence], data: tokens } as HostTensor }
          : { context: { dtype: 'float32', dims: [batch, sequence, hidden], data: ctx } as HostTensor }),
      };
    },
    // The studio's Train page reads the loss curve from it, also while the run is stopped.
    history: join(o.outDir, 'history.jsonl'),
    save: async () =>
      writeLoraFile(loraPath, loraModules(attached, await session.values()), {
        gesso_base_model: o.modelDir,
        gesso_data: o.dataDir,
        gesso_steps: String(session.stepCount),
        ss_training_comment: 'trained by gesso train finetune --method lora',
      }),
  });
  return {
    loraPath,
    steps,
    losses: run.losses,
    images: n,
    adaptedModules: attached.length,
    trainableParams: g.paramCount(),
    resumedFrom: run.resumedFrom,
    seconds: (Date.now() - started) / 1000,
  };
}
