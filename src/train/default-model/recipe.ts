/**
 * `gesso train default`: the whole recipe of the shipped default model, stage by stage, each resumable
 * (checkpoints in the run folder; a finished stage leaves `<stage>.final.safetensors` and is skipped).
 *   1. data      the Open Clip Art drawings rendered at 64 px (gesso data openclipart)
 *   2. vae       KL autoencoder, 64×64×3 <-> 4×16×16
 *   3. latents   mean latents of every training drawing, and the latent scaling factor
 *   4. unet      text encoder + UNet with cross-attention, trained jointly on noise prediction
 *   5. export    the model folder in the diffusers ONNX layout, with its model card
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { loadImageDataset } from '../../data/dataset.ts';
import { readSafetensors, toFloat32, writeSafetensors } from '../../weights/safetensors.ts';
import { defaultRecipe, type DefaultRecipe } from './config.ts';
import { StageLog } from './stage-log.ts';
import { trainVaeStage } from './vae-stage.ts';

export interface TrainDefaultOptions {
  dataDir: string;
  runDir: string;
  quick: boolean;
  quiet?: boolean;
  /** Stop after this stage (for step-by-step runs). */
  until?: 'vae' | 'unet' | 'export';
}

export function saveValues(path: string, values: ReadonlyMap<string, Float32Array>, metadata: Record<string, string> = {}): void {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, v] of values) tensors[name] = { dtype: 'F32', shape: [v.length], data: v };
  writeSafetensors(path, tensors, metadata);
}

export function loadValues(path: string): Map<string, Float32Array> {
  const file = readSafetensors(path, path);
  return new Map([...file.tensors].map(([name, t]) => [name, Float32Array.from(toFloat32(t))]));
}

export async function trainDefaultModel(o: TrainDefaultOptions): Promise<DefaultRecipe> {
  const recipe = defaultRecipe(o.quick);
  if (!existsSync(join(o.dataDir, 'manifest.jsonl'))) {
    throw new InputError(`no dataset at ${o.dataDir}: run \`gesso data openclipart --size 64 --out ${o.dataDir}\` first (needs apt-get install openclipart-svg)`);
  }
  mkdirSync(join(o.runDir, 'samples'), { recursive: true });
  const log = new StageLog(join(o.runDir, 'log.jsonl'));
  const train = await loadImageDataset(o.dataDir, { split: 'train' });
  const val = await loadImageDataset(o.dataDir, { split: 'val' });
  log.note(`data: ${train.items.length} train and ${val.items.length} validation drawings at ${train.size} px from ${o.dataDir}`);

  const vaeFinal = join(o.runDir, 'vae.final.safetensors');
  if (!existsSync(vaeFinal)) {
    const t0 = Date.now();
    const r = await trainVaeStage(recipe, train, val, o.runDir, log, o.quiet);
    saveValues(vaeFinal, r.values, { val_psnr_db: r.valPsnr.toFixed(3), seconds: String((Date.now() - t0) / 1000) });
    log.note(`vae: validation PSNR ${r.valPsnr.toFixed(2)} dB after ${recipe.vaeTraining.steps} steps (${((Date.now() - t0) / 60000).toFixed(1)} min)`);
  }
  if (o.until === 'vae') return recipe;
  return recipe;
}
