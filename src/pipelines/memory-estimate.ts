/**
 * How much memory a generation request needs, estimated before anything runs, so a size the machine
 * cannot hold is refused with a message instead of swapping for minutes or dying in ORT's allocator
 * (a 2048 px request made ORT ask for 137 GB).
 *
 * The dominant terms are self-attention score matrices, quadratic in the number of positions N:
 *   UNet:  at every level with attention, B·heads·N² floats (N = latent pixels at that level, B =
 *          images × 2 with classifier-free guidance), for Q·Kᵀ and its softmax;
 *   VAE:   its mid block attends over every latent pixel with one head: N² floats, N = h·w latents.
 * Convolution activations are linear in pixels: channels × pixels floats, a few copies alive at once.
 * ONNX Runtime keeps each session's arena at its peak, so the peaks of the UNet, the VAE decoder (and
 * encoder) and the upscaler add up. The constants were calibrated against measured peak RSS of the
 * default model (docs in README "Security"); the estimate errs high.
 */
import type { JsonConfig } from './model-folder.ts';

const FLOAT = 4;
/** Score matrices alive at once per attention (Q·Kᵀ and its softmax). */
const ATTENTION_COPIES = 2;
/** Activation tensors (channels × pixels) alive at once in a conv stack. */
const CONV_COPIES = 6;
/** Upscaler activations alive per channel and input pixel (fitted to measured peak RSS at 256 and 512 px). */
const UPSCALER_COPIES = 72;
/** Node.js, ORT, sharp and small sessions before any request (measured: 360 MB at 64 px). */
const BASELINE_BYTES = 350 * 1024 * 1024;

// Stable Diffusion 1.x, for folders without configs.
const SD_UNET_BLOCKS = [320, 640, 1280, 1280];
const SD_UNET_ATTENTION = [true, true, true, false];
const SD_VAE_BLOCKS = [128, 256, 512, 512];

export interface MemoryPart {
  name: string;
  bytes: number;
}

export interface MemoryEstimate {
  bytes: number;
  parts: MemoryPart[];
}

export interface MemoryRequest {
  width: number;
  height: number;
  batchSize: number;
  guided: boolean;
  upscale: boolean;
  /** img2img / inpainting: the VAE encoder runs too. */
  encodes: boolean;
}

export interface MemoryModel {
  vaeScaleFactor: number;
  unetConfig: JsonConfig;
  vaeConfig: JsonConfig;
  /** Bytes of every weight file the sessions load. */
  weightBytes: number;
  /** Channels of the upscaler's convolutions (null: no upscaler). */
  upscalerChannels: number | null;
}

function numbers(value: unknown, fallback: number[]): number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number') ? (value as number[]) : fallback;
}

function headsAt(config: JsonConfig, level: number): number {
  // diffusers: num_attention_heads, else attention_head_dim (which holds the number of heads), else 8.
  const v = config?.num_attention_heads ?? config?.attention_head_dim ?? 8;
  if (typeof v === 'number') return v;
  return numbers(v, [8])[level] ?? 8;
}

function unetBytes(config: JsonConfig, latentPixels: number, batch: number): number {
  const blocks = numbers(config?.block_out_channels, SD_UNET_BLOCKS);
  const types = Array.isArray(config?.down_block_types) ? (config.down_block_types as unknown[]) : null;
  let attention = 0;
  let conv = 0;
  blocks.forEach((channels, level) => {
    const n = latentPixels / 4 ** level;
    conv += batch * channels * n * FLOAT * CONV_COPIES;
    const hasAttention = types ? String(types[level]).includes('Attn') : (SD_UNET_ATTENTION[level] ?? false);
    // The mid block attends at the lowest level too; one matrix at a time is alive.
    if (hasAttention || level === blocks.length - 1) attention = Math.max(attention, batch * headsAt(config, level) * n * n * FLOAT * ATTENTION_COPIES);
  });
  return attention + conv;
}

function vaeBytes(config: JsonConfig, latentPixels: number, imagePixels: number): number {
  const blocks = numbers(config?.block_out_channels, SD_VAE_BLOCKS);
  const midAttention = config?.mid_block_add_attention === false ? 0 : latentPixels * latentPixels * FLOAT * ATTENTION_COPIES;
  return midAttention + (blocks[0] ?? 128) * imagePixels * FLOAT * CONV_COPIES;
}

export function estimateGenerateMemory(model: MemoryModel, request: MemoryRequest): MemoryEstimate {
  const latentPixels = (request.width / model.vaeScaleFactor) * (request.height / model.vaeScaleFactor);
  const imagePixels = request.width * request.height;
  const batch = request.batchSize * (request.guided ? 2 : 1);
  const parts: MemoryPart[] = [
    { name: 'runtime', bytes: BASELINE_BYTES },
    { name: 'weights', bytes: model.weightBytes },
    { name: 'UNet', bytes: unetBytes(model.unetConfig, latentPixels, batch) },
    { name: 'VAE decoder', bytes: vaeBytes(model.vaeConfig, latentPixels, imagePixels) },
  ];
  if (request.encodes) parts.push({ name: 'VAE encoder', bytes: vaeBytes(model.vaeConfig, latentPixels, imagePixels) });
  if (request.upscale && model.upscalerChannels !== null) {
    // Measured: ~2,100 floats per input pixel for 32 channels (ORT's arena keeps every block's activations),
    // plus the 4× depth-to-space output and the bilinear skip at 16× the pixels.
    parts.push({ name: 'upscaler', bytes: (model.upscalerChannels * UPSCALER_COPIES + 3 * 16 * 3) * imagePixels * FLOAT });
  }
  return { bytes: parts.reduce((a, p) => a + p.bytes, 0), parts };
}

export function formatBytes(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  return gib >= 1 ? `${gib.toFixed(gib >= 100 ? 0 : 1)} GB` : `${Math.round(bytes / 1024 ** 2)} MB`;
}
