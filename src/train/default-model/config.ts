/**
 * The training plan of gesso's shipped default model, gesso-clipart-v1: every architecture setting and
 * training hyper-parameter in one place, so the model card can print it and `--quick` can shrink it.
 */
import { unetConfig, type UNet2DConditionConfig } from '../../models/unet2d-condition.ts';
import { vaeConfig, type AutoencoderKLConfig } from '../../models/autoencoder-kl.ts';

export const MODEL_NAME = 'gesso-clipart-v1';
export const IMAGE_SIZE = 64;

export interface StageSchedule {
  steps: number;
  batch: number;
  lr: number;
  warmup: number;
  checkpointEvery: number;
  sampleEvery: number;
}

export interface DefaultModelPlan {
  seed: number;
  vae: AutoencoderKLConfig;
  /** Weight of the KL term against the per-pixel MSE (both are means). */
  klWeight: number;
  vaeTraining: StageSchedule;
  text: { hiddenSize: number; layers: number; heads: number; maxLength: number; minWordCount: number; maxVocab: number };
  unet: UNet2DConditionConfig;
  unetTraining: StageSchedule & { captionDropout: number; emaDecay: number; categoryCap: number };
  /** diffusers scheduler config used in training (noise schedule) and shipped for sampling. */
  scheduler: Record<string, unknown>;
}

export function defaultModelPlan(quick = false): DefaultModelPlan {
  // --quick exercises every stage end to end with tiny networks (tests); the shipped sizes are below.
  const vae = vaeConfig({
    block_out_channels: quick ? [8, 8, 8] : [16, 32, 64],
    layers_per_block: 1,
    latent_channels: 4,
    norm_num_groups: 8,
    sample_size: IMAGE_SIZE,
  });
  const textWidth = 128;
  const unet = unetConfig({
    sample_size: IMAGE_SIZE / 4,
    in_channels: 4,
    out_channels: 4,
    block_out_channels: quick ? [32, 32] : [64, 128, 128],
    layers_per_block: 1,
    // Cross-attention at 8×8 and 4×4 only: attention over the 256 positions of the 16×16 level costs the
    // most and a 64 px drawing's subject and colour are global properties.
    down_block_types: quick ? ['CrossAttnDownBlock2D', 'DownBlock2D'] : ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
    up_block_types: quick ? ['UpBlock2D', 'CrossAttnUpBlock2D'] : ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
    cross_attention_dim: textWidth,
    attention_head_dim: 4,
    norm_num_groups: 32,
  });
  const stage = (steps: number, batch: number, lr: number): StageSchedule => ({
    steps: quick ? 3 : steps,
    batch: quick ? 2 : batch,
    lr,
    warmup: quick ? 1 : Math.min(200, Math.floor(steps / 20)),
    checkpointEvery: quick ? 2 : 250,
    sampleEvery: quick ? 3 : 500,
  });
  return {
    seed: 1234,
    vae,
    klWeight: 1e-6,
    vaeTraining: stage(1250, 12, 2e-3),
    text: { hiddenSize: textWidth, layers: quick ? 1 : 2, heads: 4, maxLength: 16, minWordCount: quick ? 1 : 3, maxVocab: 4000 },
    unet,
    unetTraining: { ...stage(4000, 16, 1e-3), captionDropout: 0.1, emaDecay: 0.998, categoryCap: 300 },
    scheduler: {
      _class_name: 'DDIMScheduler',
      num_train_timesteps: 1000,
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      prediction_type: 'epsilon',
      timestep_spacing: 'leading',
      steps_offset: 1,
      clip_sample: false,
      set_alpha_to_one: false,
    },
  };
}
