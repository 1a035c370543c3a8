/**
 * Writes a whole Stable Diffusion model folder in the diffusers / optimum ONNX layout, so gesso's own
 * models load through the same pipeline (and the same third-party tools) as downloaded ones:
 *
 *   model_index.json                 _class_name OnnxStableDiffusion[Inpaint]Pipeline + component entries
 *   text_encoder/model.onnx          input_ids (B, 77) -> last_hidden_state (B, 77, D), pooler_output (B, D)
 *   text_encoder/config.json         transformers' CLIPTextConfig
 *   tokenizer/                       vocab.json + merges.txt + tokenizer_config.json + special_tokens_map.json
 *                                    (CLIP BPE), or gesso_tokenizer.json (gesso's word tokenizer)
 *   unet/model.onnx + model.onnx_data   sample, timestep, encoder_hidden_states -> out_sample (weights external)
 *   unet/config.json                 diffusers' UNet2DConditionModel config
 *   vae_encoder/model.onnx, vae_decoder/model.onnx (+ config.json each: AutoencoderKL's)
 *   scheduler/scheduler_config.json
 *   README.md                        the model card, when one is given
 *
 * The folder is written beside its destination under a temporary name and renamed into place at the
 * end, so a failure never leaves a half-written model folder.
 */
import { DEFAULT_CLIP_BPE_DIR } from '../core/paths.ts';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from '../core/errors.ts';
import { saveOnnx } from '../graph/save.ts';
import type { WordTokenizer } from '../text/word-tokenizer.ts';
import { WORD_TOKENIZER_FILE } from '../text/word-tokenizer.ts';
import { exportVaeDecoder, exportVaeEncoder, type AutoencoderKLConfig, type BuiltVae, type VaeDecoder, type VaeEncoder } from './autoencoder-kl.ts';
import { exportClipTextEncoder, type BuiltClipText, type ClipTextConfig } from './clip-text-encoder.ts';
import { exportUNet, type BuiltUNet, type UNet2DConditionConfig } from './unet2d-condition.ts';

/** The diffusers version gesso's config files claim to be written by (readers ignore it; diffusers warns on none). */
export const DIFFUSERS_VERSION = '0.25.0';
export const TRANSFORMERS_VERSION = '4.36.0';


export type PipelineClass = 'OnnxStableDiffusionPipeline' | 'OnnxStableDiffusionInpaintPipeline';

export type TokenizerSpec =
  /** CLIP BPE from `dir` (default DEFAULT_CLIP_BPE_DIR); `padToken` "<|endoftext|>" (SD 1.x) or "!" (SD 2.x). */
  | { kind: 'clip'; dir?: string; padToken?: '<|endoftext|>' | '!'; maxLength?: number }
  | { kind: 'word'; tokenizer: WordTokenizer };

export interface SdFolderComponents {
  pipeline: PipelineClass;
  textEncoder: BuiltClipText;
  unet: BuiltUNet;
  vaeEncoder: BuiltVae<VaeEncoder>;
  vaeDecoder: BuiltVae<VaeDecoder>;
  tokenizer: TokenizerSpec;
  /** scheduler_config.json's content, `_class_name` included (e.g. PNDMScheduler). */
  scheduler: Record<string, unknown> & { _class_name: string };
  /** Markdown model card, written as README.md. */
  modelCard?: string;
}

export interface WriteSdFolderOptions {
  /** Replace `dir` if it exists (default false: refuse). */
  overwrite?: boolean;
}

const ONNX_RUNTIME_MODEL = ['diffusers', 'OnnxRuntimeModel'] as const;

export function modelIndexJson(c: SdFolderComponents): Record<string, unknown> {
  return {
    _class_name: c.pipeline,
    _diffusers_version: DIFFUSERS_VERSION,
    feature_extractor: [null, null],
    requires_safety_checker: false,
    safety_checker: [null, null],
    scheduler: ['diffusers', c.scheduler._class_name],
    text_encoder: ONNX_RUNTIME_MODEL,
    tokenizer: c.tokenizer.kind === 'clip' ? ['transformers', 'CLIPTokenizer'] : ['gesso', 'WordTokenizer'],
    unet: ONNX_RUNTIME_MODEL,
    vae_decoder: ONNX_RUNTIME_MODEL,
    vae_encoder: ONNX_RUNTIME_MODEL,
  };
}

/** unet/config.json as diffusers writes it for a UNet2DConditionModel. */
export function unetConfigJson(c: UNet2DConditionConfig): Record<string, unknown> {
  return {
    _class_name: 'UNet2DConditionModel',
    _diffusers_version: DIFFUSERS_VERSION,
    act_fn: 'silu',
    attention_head_dim: c.attention_head_dim,
    block_out_channels: c.block_out_channels,
    center_input_sample: false,
    cross_attention_dim: c.cross_attention_dim,
    down_block_types: c.down_block_types,
    downsample_padding: 1,
    dual_cross_attention: false,
    flip_sin_to_cos: c.flip_sin_to_cos,
    freq_shift: c.freq_shift,
    in_channels: c.in_channels,
    layers_per_block: c.layers_per_block,
    mid_block_scale_factor: 1,
    norm_eps: c.norm_eps,
    norm_num_groups: c.norm_num_groups,
    num_attention_heads: c.num_attention_heads ?? null,
    only_cross_attention: false,
    out_channels: c.out_channels,
    sample_size: c.sample_size,
    transformer_layers_per_block: c.transformer_layers_per_block,
    up_block_types: c.up_block_types,
    upcast_attention: false,
    use_linear_projection: c.use_linear_projection,
  };
}

/** vae_encoder/config.json and vae_decoder/config.json: diffusers' AutoencoderKL config. */
export function vaeConfigJson(c: AutoencoderKLConfig): Record<string, unknown> {
  const n = c.block_out_channels.length;
  return {
    _class_name: 'AutoencoderKL',
    _diffusers_version: DIFFUSERS_VERSION,
    act_fn: 'silu',
    block_out_channels: c.block_out_channels,
    down_block_types: new Array<string>(n).fill('DownEncoderBlock2D'),
    in_channels: c.in_channels,
    latent_channels: c.latent_channels,
    layers_per_block: c.layers_per_block,
    norm_num_groups: c.norm_num_groups,
    out_channels: c.out_channels,
    sample_size: c.sample_size,
    scaling_factor: c.scaling_factor,
    up_block_types: new Array<string>(n).fill('UpDecoderBlock2D'),
  };
}

/** text_encoder/config.json: transformers' CLIPTextConfig. */
export function clipTextConfigJson(c: ClipTextConfig): Record<string, unknown> {
  return {
    architectures: ['CLIPTextModel'],
    attention_dropout: 0.0,
    bos_token_id: c.bos_token_id,
    dropout: 0.0,
    eos_token_id: c.eos_token_id,
    hidden_act: c.hidden_act,
    hidden_size: c.hidden_size,
    initializer_factor: 1.0,
    initializer_range: 0.02,
    intermediate_size: c.intermediate_size,
    layer_norm_eps: c.layer_norm_eps,
    max_position_embeddings: c.max_position_embeddings,
    model_type: 'clip_text_model',
    num_attention_heads: c.num_attention_heads,
    num_hidden_layers: c.num_hidden_layers,
    pad_token_id: c.pad_token_id,
    projection_dim: c.projection_dim,
    torch_dtype: 'float32',
    transformers_version: TRANSFORMERS_VERSION,
    vocab_size: c.vocab_size,
  };
}

/** A special token as transformers writes it in tokenizer_config.json / special_tokens_map.json. */
function addedToken(content: string): Record<string, unknown> {
  return { content, lstrip: false, normalized: true, rstrip: false, single_word: false };
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function writeTokenizer(dir: string, spec: TokenizerSpec, text: ClipTextConfig): void {
  mkdirSync(dir);
  if (spec.kind === 'word') {
    const t = spec.tokenizer;
    if (t.maxLength !== text.max_position_embeddings) throw new InputError(`word tokenizer max length ${t.maxLength} must equal the text encoder's max_position_embeddings ${text.max_position_embeddings}`);
    if (t.vocabSize > text.vocab_size) throw new InputError(`word tokenizer has ${t.vocabSize} tokens, more than the text encoder's vocab_size ${text.vocab_size}`);
    writeJson(join(dir, WORD_TOKENIZER_FILE), t.toJSON());
    return;
  }
  const source = spec.dir ?? DEFAULT_CLIP_BPE_DIR;
  for (const file of ['vocab.json', 'merges.txt']) {
    if (!existsSync(join(source, file))) throw new InputError(`CLIP tokenizer folder ${source} has no ${file}`);
    copyFileSync(join(source, file), join(dir, file));
  }
  const maxLength = spec.maxLength ?? text.max_position_embeddings;
  if (maxLength !== text.max_position_embeddings) throw new InputError(`tokenizer max length ${maxLength} must equal the text encoder's max_position_embeddings ${text.max_position_embeddings}`);
  const pad = spec.padToken ?? '<|endoftext|>';
  const special = {
    bos_token: addedToken('<|startoftext|>'),
    eos_token: addedToken('<|endoftext|>'),
    pad_token: pad,
    unk_token: addedToken('<|endoftext|>'),
  };
  writeJson(join(dir, 'special_tokens_map.json'), special);
  writeJson(join(dir, 'tokenizer_config.json'), {
    add_prefix_space: false,
    ...special,
    bos_token: { __type: 'AddedToken', ...addedToken('<|startoftext|>') },
    eos_token: { __type: 'AddedToken', ...addedToken('<|endoftext|>') },
    unk_token: { __type: 'AddedToken', ...addedToken('<|endoftext|>') },
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    errors: 'replace',
    model_max_length: maxLength,
    tokenizer_class: 'CLIPTokenizer',
  });
}

function checkComponents(c: SdFolderComponents): void {
  const unet = c.unet.config;
  const text = c.textEncoder.config;
  const vae = c.vaeDecoder.config;
  if (unet.cross_attention_dim !== text.hidden_size) throw new InputError(`unet cross_attention_dim ${unet.cross_attention_dim} must equal the text encoder's hidden_size ${text.hidden_size}`);
  const expectIn = c.pipeline === 'OnnxStableDiffusionInpaintPipeline' ? 2 * vae.latent_channels + 1 : vae.latent_channels;
  if (unet.in_channels !== expectIn) throw new InputError(`${c.pipeline}: unet in_channels ${unet.in_channels} must be ${expectIn} for ${vae.latent_channels} latent channels`);
  if (unet.out_channels !== vae.latent_channels) throw new InputError(`unet out_channels ${unet.out_channels} must equal the VAE's latent_channels ${vae.latent_channels}`);
  if (JSON.stringify(c.vaeEncoder.config) !== JSON.stringify(vae)) throw new InputError('vae_encoder and vae_decoder were built from different VAE configs');
  if (typeof c.scheduler._class_name !== 'string' || c.scheduler._class_name === '') throw new InputError('scheduler config needs a _class_name (e.g. "PNDMScheduler")');
}

/** Writes the folder (see the file comment). `dir` must not exist unless `overwrite`. */
export function writeSdFolder(dir: string, c: SdFolderComponents, options: WriteSdFolderOptions = {}): void {
  checkComponents(c);
  const target = resolve(dir);
  if (existsSync(target) && !options.overwrite) throw new InputError(`model folder ${dir} already exists (pass overwrite to replace it)`);
  mkdirSync(dirname(target), { recursive: true });
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  mkdirSync(temp);
  try {
    writeJson(join(temp, 'model_index.json'), modelIndexJson(c));
    const component = (name: string): string => {
      const d = join(temp, name);
      mkdirSync(d);
      return d;
    };

    const text = component('text_encoder');
    saveOnnx(join(text, 'model.onnx'), exportClipTextEncoder(c.textEncoder));
    writeJson(join(text, 'config.json'), clipTextConfigJson(c.textEncoder.config));

    writeTokenizer(join(temp, 'tokenizer'), c.tokenizer, c.textEncoder.config);

    const unet = component('unet');
    saveOnnx(join(unet, 'model.onnx'), exportUNet(c.unet, { externalData: 'model.onnx_data' }));
    writeJson(join(unet, 'config.json'), unetConfigJson(c.unet.config));

    for (const [name, model] of [['vae_encoder', exportVaeEncoder(c.vaeEncoder)], ['vae_decoder', exportVaeDecoder(c.vaeDecoder)]] as const) {
      const d = component(name);
      saveOnnx(join(d, 'model.onnx'), model);
      writeJson(join(d, 'config.json'), vaeConfigJson(c.vaeDecoder.config));
    }

    writeJson(join(component('scheduler'), 'scheduler_config.json'), { ...c.scheduler, _diffusers_version: c.scheduler['_diffusers_version'] ?? DIFFUSERS_VERSION });
    if (c.modelCard !== undefined) writeFileSync(join(temp, 'README.md'), c.modelCard);

    if (existsSync(target)) {
      // Swap: move the old folder aside first, so `dir` is never missing a part while both exist.
      const old = `${temp}.old`;
      renameSync(target, old);
      renameSync(temp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(temp, target);
    }
  } catch (e) {
    rmSync(temp, { recursive: true, force: true });
    throw e;
  }
}
