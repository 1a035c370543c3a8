/**
 * Stable Diffusion 1.5's configs (runwayml/stable-diffusion-v1-5: unet/, vae/, text_encoder/ config.json),
 * so benchmarks can build SD 1.5-shaped models with random weights and count their FLOPs, and tests can
 * check gesso's architectures against diffusers' published parameter counts.
 *
 * The UNet's weights are 3.4 GB in float32: past protobuf's 2 GB limit, so export it with
 * `exportUNet(built, { externalData: 'model.onnx_data' })`.
 */
import { Rng } from '../core/rng.ts';
import type { Graph } from '../graph/graph.ts';
import { sizeOf } from '../graph/types.ts';
import { vaeConfig, type AutoencoderKLConfig } from './autoencoder-kl.ts';
import { clipTextConfig, type ClipTextConfig } from './clip-text-encoder.ts';
import { buildUNet2DCondition, unetConfig, type BuiltUNet, type UNet2DConditionConfig, type UNetBuildOptions } from './unet2d-condition.ts';

export const SD15_UNET: UNet2DConditionConfig = unetConfig({
  sample_size: 64,
  in_channels: 4,
  out_channels: 4,
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: 2,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  cross_attention_dim: 768,
  attention_head_dim: 8, // 8 heads (the diffusers quirk)
  norm_num_groups: 32,
  norm_eps: 1e-5,
  use_linear_projection: false,
});

export const SD15_VAE: AutoencoderKLConfig = vaeConfig({
  in_channels: 3,
  out_channels: 3,
  block_out_channels: [128, 256, 512, 512],
  layers_per_block: 2,
  latent_channels: 4,
  norm_num_groups: 32,
  sample_size: 512,
  scaling_factor: 0.18215,
});

/** openai/clip-vit-large-patch14's text tower. */
export const SD15_TEXT: ClipTextConfig = clipTextConfig({
  vocab_size: 49408,
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  max_position_embeddings: 77,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
  projection_dim: 768,
});

/** Parameter counts diffusers / transformers report for SD 1.5's components (`sum(p.numel())`). */
export const SD15_PARAM_COUNTS = {
  unet: 859_520_964,
  vae: 83_653_863,
  textEncoder: 123_060_480,
} as const;

/**
 * An SD 1.5-shaped UNet at a 64×64 latent (512×512 image), batch 2 by default (classifier-free guidance
 * runs the conditional and unconditional halves together). `init: 'zeros'` builds it without drawing
 * 860M random numbers (zero-filled arrays cost no memory until written).
 */
export function buildSd15Unet(options: UNetBuildOptions = {}): BuiltUNet {
  return buildUNet2DCondition(SD15_UNET, { batch: 2, height: 64, width: 64, sequence: 77, ...options });
}

/**
 * Gives every weight (rank >= 2) of a graph built with `init: 'zeros'` random values quickly: a block
 * of 65,536 uniform samples is tiled and scaled to PyTorch's kaiming bound 1/sqrt(fan_in); vectors
 * (biases, norm parameters) are left as built. For benchmarks, where drawing 860M samples one by one
 * (`init: 'pytorch'`) takes minutes: the arithmetic is the same, the values merely repeat.
 */
export function fastRandomWeights(g: Graph, seed = 0): void {
  const block = new Rng(seed).uniformArray(1 << 16, -1, 1);
  for (const p of g.params.values()) {
    const shape = p.tensor.shape;
    if (shape.length < 2) continue;
    const scale = 1 / Math.sqrt(sizeOf(shape.slice(1)));
    const first = block.map((v) => v * scale);
    const out = new Float32Array(p.value.length);
    for (let off = 0; off < out.length; off += first.length) out.set(off + first.length <= out.length ? first : first.subarray(0, out.length - off), off);
    p.value = out;
  }
}
