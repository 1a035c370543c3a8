/**
 * Tiny random-weight Stable Diffusion models in the real diffusers ONNX layout and I/O, for tests of
 * everything that loads and runs a model folder (pipelines, server, CLI). Their images are noise; what
 * matters is that names, dtypes, dims, configs and tokenizer are those of the real thing:
 *
 *   'sd1'     SD 1.x-like: int64 timestep, int32 input_ids, quick_gelu CLIP, "<|endoftext|>" padding,
 *             8 heads (the attention_head_dim quirk), conv proj_in, epsilon prediction, PNDM as SD 1.5 ships
 *   'sd2-v'   SD 2.x-like: float32 timestep, int64 input_ids, gelu CLIP, "!" padding, head width 16 via
 *             attention_head_dim [2, 4], linear proj_in, v_prediction, DDIM as SD 2 ships
 *   'inpaint' SD 1.x-like inpainting: a 9-channel UNet (latents, mask, masked-image latents), the
 *             OnnxStableDiffusionInpaintPipeline class
 *
 * Sizes: text hidden 32 (2 layers, 77 tokens, CLIP's real 49,408-token vocabulary), UNet channels
 * [32, 64] with cross-attention at the half-resolution level only, VAE channels [8, 16, 32, 32] (4 levels:
 * 8 pixels per latent, as SD). A 512×512 image is a 64×64 latent.
 */
import { Rng } from '../core/rng.ts';
import { buildVaeDecoder, buildVaeEncoder, vaeConfig, type AutoencoderKLConfig } from './autoencoder-kl.ts';
import { buildClipTextEncoder, clipTextConfig, type ClipTextConfig } from './clip-text-encoder.ts';
import { writeSdFolder, type PipelineClass, type WriteSdFolderOptions } from './sd-folder.ts';
import { buildUNet2DCondition, unetConfig, type UNet2DConditionConfig } from './unet2d-condition.ts';

export type TinySdVariant = 'sd1' | 'sd2-v' | 'inpaint';

export interface TinySdOptions extends WriteSdFolderOptions {
  variant: TinySdVariant;
  /** Seeds every component's random weights. */
  seed: number;
  /** A vae_encoder that samples inside its graph (unseeded), as optimum ≤ 1.22 exports it. */
  encoderSamples?: boolean;
}

/** What was written, for tests that want to check against it. */
export interface TinySdModel {
  dir: string;
  variant: TinySdVariant;
  pipeline: PipelineClass;
  unet: UNet2DConditionConfig;
  vae: AutoencoderKLConfig;
  text: ClipTextConfig;
  timestepDtype: 'int64' | 'float32';
  idsDtype: 'int32' | 'int64';
  scheduler: Record<string, unknown> & { _class_name: string };
}

/** scheduler_config.json of runwayml/stable-diffusion-v1-5. */
export const SD15_SCHEDULER = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.6.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
};

/** scheduler_config.json of stabilityai/stable-diffusion-2 (768, v-prediction). */
export const SD2_SCHEDULER = {
  _class_name: 'DDIMScheduler',
  _diffusers_version: '0.8.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  prediction_type: 'v_prediction',
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
};

export function tinySdSpec(variant: TinySdVariant): Omit<TinySdModel, 'dir'> {
  const v2 = variant === 'sd2-v';
  const text = clipTextConfig({
    hidden_size: 32,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    projection_dim: 32,
    hidden_act: v2 ? 'gelu' : 'quick_gelu',
  });
  const unet = unetConfig({
    sample_size: 64,
    in_channels: variant === 'inpaint' ? 9 : 4,
    out_channels: 4,
    block_out_channels: [32, 64],
    layers_per_block: 1,
    down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
    up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
    cross_attention_dim: 32,
    attention_head_dim: v2 ? [2, 4] : 8,
    norm_num_groups: 8,
    use_linear_projection: v2,
  });
  const vae = vaeConfig({
    block_out_channels: [8, 16, 32, 32],
    layers_per_block: 1,
    norm_num_groups: 8,
    latent_channels: 4,
    sample_size: 512,
    scaling_factor: 0.18215,
  });
  return {
    variant,
    pipeline: variant === 'inpaint' ? 'OnnxStableDiffusionInpaintPipeline' : 'OnnxStableDiffusionPipeline',
    unet,
    vae,
    text,
    timestepDtype: v2 ? 'float32' : 'int64',
    idsDtype: v2 ? 'int64' : 'int32',
    scheduler: v2 ? { ...SD2_SCHEDULER } : { ...SD15_SCHEDULER },
  };
}

const CARD = (s: Omit<TinySdModel, 'dir'>, seed: number): string => `# gesso tiny SD (${s.variant}), seed ${seed}

Random weights: this model draws noise, not pictures. It exists so that code which loads and runs
Stable Diffusion folders (diffusers ONNX layout) can be tested quickly. Written by
\`writeTinySdModel(dir, { variant: '${s.variant}', seed: ${seed} })\` (src/models/tiny-sd.ts).

- pipeline: ${s.pipeline}; scheduler: ${s.scheduler._class_name}
- unet: in ${s.unet.in_channels}, channels ${JSON.stringify(s.unet.block_out_channels)}, timestep ${s.timestepDtype}
- text encoder: hidden ${s.text.hidden_size}, ${s.text.num_hidden_layers} layers, ${s.text.hidden_act}, input_ids ${s.idsDtype}
- vae: channels ${JSON.stringify(s.vae.block_out_channels)}, latent ${s.vae.latent_channels}, scaling_factor ${s.vae.scaling_factor}
- tokenizer: OpenAI CLIP BPE (MIT)
`;

/** Writes a tiny model folder at `dir` (which must not exist unless `overwrite`). */
export function writeTinySdModel(dir: string, options: TinySdOptions): TinySdModel {
  const spec = tinySdSpec(options.variant);
  const seeds = new Rng(options.seed);
  const seed = (): number => seeds.int(2 ** 31);
  const textEncoder = buildClipTextEncoder(spec.text, { seed: seed(), idsDtype: spec.idsDtype });
  // Built at a small example size: batch, height and width are dynamic in the export.
  const unet = buildUNet2DCondition(spec.unet, { seed: seed(), height: 8, width: 8, timestepDtype: spec.timestepDtype });
  const vaeSeed = seed();
  const vaeEncoder = buildVaeEncoder(spec.vae, { seed: vaeSeed, height: 64, width: 64, sampleInGraph: options.encoderSamples ?? false });
  const vaeDecoder = buildVaeDecoder(spec.vae, { seed: vaeSeed + 1, height: 64, width: 64 });
  writeSdFolder(
    dir,
    {
      pipeline: spec.pipeline,
      textEncoder,
      unet,
      vaeEncoder,
      vaeDecoder,
      tokenizer: { kind: 'clip', padToken: options.variant === 'sd2-v' ? '!' : '<|endoftext|>' },
      scheduler: spec.scheduler,
      modelCard: CARD(spec, options.seed),
    },
    { overwrite: options.overwrite ?? false },
  );
  return { dir, ...spec };
}
