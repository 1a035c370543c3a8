/**
 * Stage 5 of the default model: the model folder in the diffusers ONNX layout (so the one pipeline
 * that loads Stable Diffusion loads it too), built from the trained weights of each stage.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildClipTextEncoder, type ClipTextConfig } from '../../models/clip-text-encoder.ts';
import { buildUNet2DCondition } from '../../models/unet2d-condition.ts';
import { buildVaeDecoder, buildVaeEncoder, type AutoencoderKLConfig } from '../../models/autoencoder-kl.ts';
import { writeSdFolder } from '../../models/sd-folder.ts';
import type { WordTokenizer } from '../../text/word-tokenizer.ts';
import type { DefaultModelPlan } from './config.ts';

export interface ExportInput {
  plan: DefaultModelPlan;
  vae: AutoencoderKLConfig;
  vaeValues: ReadonlyMap<string, Float32Array>;
  textConfig: ClipTextConfig;
  tokenizer: WordTokenizer;
  unetValues: ReadonlyMap<string, Float32Array>;
  modelCard?: string;
}

/**
 * Writes the folder at `dir` (replacing it). Components that other stages or tools put there and this
 * export does not make (the upscaler) are carried over.
 */
export function exportDefaultModel(dir: string, o: ExportInput): void {
  const vaeEncoder = buildVaeEncoder(o.vae, { init: 'zeros' });
  vaeEncoder.graph.setValues(o.vaeValues);
  const vaeDecoder = buildVaeDecoder(o.vae, { init: 'zeros' });
  vaeDecoder.graph.setValues(o.vaeValues);
  const textEncoder = buildClipTextEncoder(o.textConfig, { init: 'zeros', idsDtype: 'int64', eosTokenId: o.tokenizer.eosId });
  textEncoder.graph.setValues(o.unetValues, { complete: true });
  const unet = buildUNet2DCondition(o.plan.unet, { init: 'zeros', sequence: o.textConfig.max_position_embeddings, timestepDtype: 'int64' });
  unet.graph.setValues(o.unetValues, { complete: true });

  let keep: string | null = null;
  const upscaler = join(dir, 'upscaler');
  if (existsSync(upscaler)) {
    keep = mkdtempSync(join(dirname(dir), '.upscaler-'));
    cpSync(upscaler, join(keep, 'upscaler'), { recursive: true });
  }
  try {
    writeSdFolder(
      dir,
      {
        pipeline: 'OnnxStableDiffusionPipeline',
        textEncoder,
        unet,
        vaeEncoder,
        vaeDecoder,
        tokenizer: { kind: 'word', tokenizer: o.tokenizer },
        scheduler: o.plan.scheduler as Record<string, unknown> & { _class_name: string },
        ...(o.modelCard !== undefined ? { modelCard: o.modelCard } : {}),
      },
      { overwrite: true },
    );
    if (keep) cpSync(join(keep, 'upscaler'), upscaler, { recursive: true });
  } finally {
    if (keep) rmSync(keep, { recursive: true, force: true });
  }
}
