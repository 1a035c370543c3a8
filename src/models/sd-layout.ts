/**
 * The Stable Diffusion model folder layout (diffusers / optimum ONNX), in one place: the writer
 * (models/sd-folder.ts) and the loader (pipelines/model-folder.ts) both take their paths from here.
 * docs/model-folder.md describes each part for users.
 */

/** One component folder: its ONNX file, its optional diffusers/transformers config, what it does. */
export interface SdComponent {
  folder: string;
  onnx: string;
  config: string;
  role: string;
}

function component(folder: string, role: string): SdComponent {
  return { folder, onnx: `${folder}/model.onnx`, config: `${folder}/config.json`, role };
}

export const SD_LAYOUT = {
  modelIndex: 'model_index.json',
  textEncoder: component('text_encoder', 'the text encoder: input_ids (B, 77) -> last_hidden_state (B, 77, D)'),
  tokenizer: { folder: 'tokenizer', role: 'vocab.json + merges.txt for CLIP BPE, or gesso_tokenizer.json' },
  unet: component('unet', 'the UNet: sample, timestep, encoder_hidden_states -> noise prediction'),
  /** External weights of UNets over 2 GB, as optimum writes them. */
  unetWeights: 'model.onnx_data',
  vaeEncoder: component('vae_encoder', 'the VAE encoder (img2img, inpainting): sample (B, 3, H, W) -> latents'),
  vaeDecoder: component('vae_decoder', 'the VAE decoder: latent_sample (B, C, h, w) -> sample (B, 3, H, W)'),
  /** gesso's own addition: a 4× upscaler run after the VAE decoder. */
  upscaler: component('upscaler', "gesso's 4× upscaler: image (B, 3, h, w) -> upscaled (B, 3, 4h, 4w)"),
  schedulerConfig: 'scheduler/scheduler_config.json',
  modelCard: 'README.md',
} as const;
