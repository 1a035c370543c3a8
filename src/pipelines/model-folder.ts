/**
 * Loads a Stable Diffusion model folder in the diffusers / optimum ONNX layout (SD_LAYOUT in
 * models/sd-layout.ts; docs/model-folder.md describes each part). Components: text encoder, tokenizer,
 * UNet, VAE decoder, optional VAE encoder (img2img, inpainting), optional gesso upscaler, scheduler config
 * and optional per-component config.json files.
 *
 * Everything the pipeline needs (dtypes, fixed dims, hidden size, latent channels) is read from the
 * sessions' metadata first and from the configs where the metadata leaves a dim symbolic; where both
 * speak they must agree. Every ONNX file passes `validateOnnxFile` (not a pickle, not truncated,
 * external data confined to its folder) before ONNX Runtime opens it. A safety_checker/ folder, if
 * present, is not used.
 */
import { SD_LAYOUT } from '../models/sd-layout.ts';
import { readJsonObjectFile } from '../core/json.ts';
import { withoutInGraphSampling } from './encoder-sampling.ts';
import { changeWeights } from './weight-changes.ts';
import { readLoraFile } from '../weights/lora-file.ts';
import { readEmbeddingFile, type EmbeddingFile } from '../weights/embedding-file.ts';
import { sha256File } from '../weights/hash.ts';
import { DEFAULT_MODEL_DIR } from '../core/paths.ts';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import type { Runner, SessionOptions, ValueInfo } from '../runtime/runner.ts';
import { Session } from '../runtime/session.ts';
import { WorkerSession } from '../runtime/worker-session.ts';
import { loadSchedulerConfig, lookupScheduler, type LoadedSchedulerConfig } from '../schedulers/index.ts';
import { loadTokenizer } from '../text/load-tokenizer.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { validateOnnxFile } from '../weights/onnx-external-data.ts';
import { modelFolderHash, type ModelHash } from './model-hash.ts';
import { checkFloatInput, fixedDim, floatTensor, pickOutput, refuseExtraInputs, requireInput } from './model-io.ts';

/** diffusers' AutoencoderKL default (Stable Diffusion 1.x and 2.x). */
export const DEFAULT_SCALING_FACTOR = 0.18215;
const DEFAULT_LATENT_CHANNELS = 4;
const DEFAULT_VAE_SCALE_FACTOR = 8;

export type Component = 'text_encoder' | 'unet' | 'vae_decoder' | 'vae_encoder' | 'upscaler';

export interface LoadModelOptions {
  /** 'worker' (default): each model in a worker thread, so the event loop stays free. 'in-process' for scripts. */
  runner?: 'worker' | 'in-process';
  /** Passed to every session (threads, spinning). */
  session?: SessionOptions;
  /** Load upscaler/ when it is present (default true). */
  upscaler?: boolean;
  /**
   * LoRA files merged into the UNet and text encoder weights at load (in memory; the folder's files
   * are not changed). See lora-merge.ts.
   */
  loras?: readonly LoraChoice[];
  /**
   * Textual-inversion embedding files (A1111 safetensors, `emb_params`): each file's name becomes a word
   * prompts can use. Added to the text encoder's token table in memory (embedding-merge.ts).
   */
  embeddings?: readonly string[];
  /**
   * A folder of embeddings (A1111's embeddings/): every `WORD.safetensors` in it is loaded, as A1111 does
   * at start-up; a file that cannot be used is skipped with a note (model.notes). `embeddings` win over
   * a folder file of the same word. Recipes record only the words a prompt writes.
   */
  embeddingDir?: string;
}

/** A LoRA file and its weight (`--lora FILE:0.8`). */
export interface LoraChoice {
  path: string;
  weight: number;
}

/** What the pipeline needs to know about a loaded model, read from sessions and configs. */
export interface ModelSpec {
  /** Latent channels C (4 for Stable Diffusion). */
  latentChannels: number;
  /** UNet input channels: C, or 2C + 1 for an inpainting UNet (latents, mask, masked-image latents). */
  unetInChannels: number;
  inpaint: boolean;
  /** Text embedding width D (768 for SD 1.x, 1024 for SD 2.x). */
  hiddenSize: number;
  /** Pixels per latent along each axis: 2^(len(block_out_channels) - 1). */
  vaeScaleFactor: number;
  /** Latents = VAE latents × scalingFactor (vae config `scaling_factor`). */
  scalingFactor: number;
  /**
   * Latent sizes the UNet can take are multiples of this: 2^(len(block_out_channels) − 1) from unet/config.json
   * (8 for SD: exported UNets upsample by exactly 2, so their skips only meet at such sizes), 1 without a config.
   * Other sizes are padded for the UNet call (see denoise.ts).
   */
  unetMultiple: number;
  /** UNet `sample` height/width when the model fixes them (in latents), else null. */
  fixedLatentHeight: number | null;
  fixedLatentWidth: number | null;
  /** Default image size in pixels (unet sample_size × vaeScaleFactor, else 512). */
  defaultWidth: number;
  defaultHeight: number;
  /** Token sequence length of encoder_hidden_states when the UNet fixes it (e.g. 77: one prompt chunk), else null. */
  fixedSequence: number | null;
  unet: { sample: ValueInfo; timestep: ValueInfo; hidden: ValueInfo; output: string; fixedBatch: number | null };
  textEncoder: { inputIds: ValueInfo; output: string; fixedBatch: number | null };
  vaeDecoder: { input: ValueInfo; output: string; fixedBatch: number | null };
}

export interface VaeEncoderSpec {
  input: ValueInfo;
  output: string;
  fixedBatch: number | null;
  /** Output channels: 2C (mean and log-variance: gesso takes the mean) or C (already sampled). */
  outChannels: number;
}

export interface UpscalerSpec {
  input: ValueInfo;
  output: string;
  fixedBatch: number | null;
}

interface Files {
  /** Bytes of every ONNX file and its external data (for the memory estimate). */
  weightBytes: number;
  textEncoder: string;
  unet: string;
  vaeDecoder: string;
  vaeEncoder: string | null;
  upscaler: string | null;
  tokenizer: string;
  schedulerConfig: string;
}

/** A loaded model folder: sessions, tokenizer, scheduler config and the derived spec. Call release() when done. */
export class DiffusionModel {
  private encoderLoad: Promise<{ runner: Runner; spec: VaeEncoderSpec }> | null = null;
  private hashLoad: Promise<ModelHash> | null = null;
  /** Things gesso changed or assumed about this folder while loading it, for the user to read. */
  readonly notes: string[] = [];
  /** LoRAs merged into the weights at load, by file name (what `<lora:name:w>` calls them). */
  loras: { name: string; path: string; weight: number; sha256: string }[] = [];
  /** Textual-inversion words added at load, with their files and vector counts. */
  embeddings: { word: string; path: string; vectors: number; sha256: string }[] = [];

  private constructor(
    readonly dir: string,
    readonly name: string,
    readonly modelIndex: Record<string, unknown>,
    readonly tokenizer: Tokenizer,
    readonly scheduler: LoadedSchedulerConfig,
    readonly textEncoder: Runner,
    readonly unet: Runner,
    readonly vaeDecoder: Runner,
    readonly upscaler: { runner: Runner; spec: UpscalerSpec } | null,
    readonly spec: ModelSpec,
    /** The optional diffusers configs of unet/ and vae_decoder/ (null when absent). */
    readonly configs: { unet: JsonConfig; vae: JsonConfig; upscaler: JsonConfig },
    private readonly files: Files,
    private readonly options: LoadModelOptions,
  ) {}

  /** Loads and checks `dir`; errors name the file and what was expected. */
  static async load(dir: string, options: LoadModelOptions = {}): Promise<DiffusionModel> {
    const root = resolve(dir);
    const files = findFiles(root, dir, options.upscaler ?? true);
    const modelIndex = readJsonObjectFile(join(root, SD_LAYOUT.modelIndex), SD_LAYOUT.modelIndex) as Record<string, unknown>;
    const scheduler = loadSchedulerConfig(files.schedulerConfig);
    const configs = readConfigs(root);
    const baseTokenizer = await loadTokenizer(files.tokenizer);
    const opened: Runner[] = [];
    const open = async (path: string | Uint8Array, label: string): Promise<Runner> => {
      const runner = await createRunner(path, label, options);
      opened.push(runner);
      return runner;
    };
    const loras = (options.loras ?? []).map((l) => ({ file: readLoraFile(l.path), weight: l.weight }));
    const embeddings = (options.embeddings ?? []).map(readEmbeddingFile);
    const skipped: string[] = [];
    if (options.embeddingDir !== undefined) embeddings.push(...folderEmbeddings(options.embeddingDir, embeddings, skipped));
    const { merged, tokenizer } = changeWeights({ unet: files.unet, textEncoder: files.textEncoder }, baseTokenizer, loras, embeddings);
    try {
      const [textEncoder, unet, vaeDecoder, upscalerRunner] = await Promise.all([
        open(merged.textEncoder ?? files.textEncoder, SD_LAYOUT.textEncoder.onnx),
        open(merged.unet ?? files.unet, SD_LAYOUT.unet.onnx),
        open(files.vaeDecoder, SD_LAYOUT.vaeDecoder.onnx),
        files.upscaler ? open(files.upscaler, SD_LAYOUT.upscaler.onnx) : Promise.resolve(null),
      ]);
      // diffusers' own ONNX script writes no config.json: measure the decoder's scale instead of assuming 8.
      const probedScale = Array.isArray(configs.vae?.block_out_channels) ? null : await probeVaeScale(vaeDecoder);
      const spec = deriveSpec(configs, tokenizer, textEncoder, unet, vaeDecoder, probedScale);
      const upscaler = upscalerRunner ? { runner: upscalerRunner, spec: upscalerSpec(upscalerRunner) } : null;
      const upscalerConfig = files.upscaler ? readJsonObjectFile(join(root, SD_LAYOUT.upscaler.config), SD_LAYOUT.upscaler.config, { optional: true }) : null;
      const model = new DiffusionModel(
        root,
        basename(root),
        modelIndex,
        tokenizer,
        scheduler,
        textEncoder,
        unet,
        vaeDecoder,
        upscaler,
        spec,
        { unet: configs.unet, vae: configs.vae, upscaler: upscalerConfig },
        files,
        options,
      );
      model.loras = await Promise.all(
        loras.map(async (l) => ({ name: l.file.name, path: l.file.path, weight: l.weight, sha256: await sha256File(l.file.path) })),
      );
      model.notes.push(...skipped);
      model.embeddings = await Promise.all(embeddings.map(async (e) => ({ word: e.word, path: e.path, vectors: e.count, sha256: await sha256File(e.path) })));
      return model;
    } catch (e) {
      await Promise.all(opened.map((r) => r.release().catch(() => undefined)));
      throw e;
    }
  }

  /** Bytes of the model's weight files (ONNX + external data). */
  get weightBytes(): number {
    return this.files.weightBytes;
  }

  get hasVaeEncoder(): boolean {
    return this.files.vaeEncoder !== null;
  }

  /** The scheduler the model folder names (model_index.json or scheduler_config.json), if gesso has it. */
  get defaultScheduler(): string {
    const fromConfig = this.scheduler.className;
    const fromIndex = Array.isArray(this.modelIndex.scheduler) ? this.modelIndex.scheduler[1] : null;
    for (const name of [fromConfig, fromIndex]) {
      if (typeof name === 'string' && lookupScheduler(name)) return name;
    }
    return 'PNDMScheduler'; // Stable Diffusion 1.x's own choice
  }

  /** The VAE encoder (img2img, inpainting), loaded on first use. */
  vaeEncoder(): Promise<{ runner: Runner; spec: VaeEncoderSpec }> {
    const path = this.files.vaeEncoder;
    if (path === null) {
      return Promise.reject(new InputError(`model folder ${this.dir} has no vae_encoder/model.onnx; img2img and inpainting need it`));
    }
    // An encoder that samples unseeded noise inside its graph is loaded with that noise at its mean.
    const loadEncoder = async (): Promise<Runner> => {
      const { model, replaced } = withoutInGraphSampling(path);
      if (model !== null) {
        this.notes.push(`vae_encoder/model.onnx samples its own unseeded noise (${replaced.join(', ')}); gesso uses the distribution's mean instead`);
      }
      return createRunner(model ?? path, 'vae_encoder/model.onnx', this.options);
    };
    this.encoderLoad ??= loadEncoder().then(async (runner) => {
      try {
        return { runner, spec: vaeEncoderSpec(runner, this.spec.latentChannels) };
      } catch (e) {
        await runner.release();
        throw e;
      }
    });
    // A failed load is not kept: the next call tries again (and release() has nothing to free).
    this.encoderLoad.catch(() => {
      this.encoderLoad = null;
    });
    return this.encoderLoad;
  }

  /** The model's identity for recipes and A1111's "Model hash" (see model-hash.ts); computed once. */
  hash(): Promise<ModelHash> {
    this.hashLoad ??= modelFolderHash(this.files.unet);
    this.hashLoad.catch(() => {
      this.hashLoad = null;
    });
    return this.hashLoad;
  }

  async release(): Promise<void> {
    const runners = [this.textEncoder, this.unet, this.vaeDecoder];
    if (this.upscaler) runners.push(this.upscaler.runner);
    if (this.encoderLoad)
      runners.push(
        await this.encoderLoad.then(
          (e) => e.runner,
          () => this.unet,
        ),
      );
    await Promise.all([...new Set(runners)].map((r) => r.release()));
  }
}

function createRunner(path: string | Uint8Array, label: string, options: LoadModelOptions): Promise<Runner> {
  const sessionOptions: SessionOptions = { ...options.session, name: label };
  return options.runner === 'in-process' ? Session.create(path, sessionOptions) : WorkerSession.create(path, sessionOptions);
}

/** Finds and validates every file before any session is created. */
function findFiles(root: string, given: string, withUpscaler: boolean): Files {
  if (!existsSync(root)) throw new InputError(`model folder ${given} does not exist`);
  if (!statSync(root).isDirectory()) throw new InputError(`model path ${given} is a file; expected a model folder (diffusers ONNX layout)`);
  const need = (rel: string, what: string): string => {
    const path = join(root, rel);
    if (!existsSync(path)) throw new InputError(`model folder ${given} has no ${rel} (${what})`);
    return path;
  };
  let weightBytes = 0;
  const onnx = (rel: string, what: string): string => {
    const path = need(rel, what);
    weightBytes += validateOnnxFile(path).externalBytes + statSync(path).size;
    return path;
  };
  const optionalOnnx = (rel: string): string | null => (existsSync(join(root, rel)) ? onnx(rel, '') : null);
  const L = SD_LAYOUT;
  need(L.modelIndex, 'the diffusers pipeline index');
  const tokenizer = need(L.tokenizer.folder, L.tokenizer.role);
  const files = {
    textEncoder: onnx(L.textEncoder.onnx, L.textEncoder.role),
    unet: onnx(L.unet.onnx, L.unet.role),
    vaeDecoder: onnx(L.vaeDecoder.onnx, L.vaeDecoder.role),
    vaeEncoder: optionalOnnx(L.vaeEncoder.onnx),
    upscaler: withUpscaler ? optionalOnnx(L.upscaler.onnx) : null,
    tokenizer,
    schedulerConfig: need(L.schedulerConfig, 'the diffusers scheduler settings'),
  };
  return { ...files, weightBytes };
}

/** A positive integer field of a config, or undefined; a present but wrong value is an error. */
function configInt(config: Record<string, unknown> | null, key: string, label: string): number | undefined {
  const v = config?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new InputError(`${label}: ${key} is ${JSON.stringify(v)}; expected a positive integer`);
  return v;
}

function configNumber(config: Record<string, unknown> | null, key: string, label: string): number | undefined {
  const v = config?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InputError(`${label}: ${key} is ${JSON.stringify(v)}; expected a positive number`);
  return v;
}

/** `what` from the model metadata and from a config must agree when both give it. */
function agree(what: string, fromModel: number | null, fromConfig: number | undefined, fallback: number): number {
  if (fromModel !== null && fromConfig !== undefined && fromModel !== fromConfig) {
    throw new InputError(`${what}: the ONNX model says ${fromModel} but the config says ${fromConfig}`);
  }
  return fromModel ?? fromConfig ?? fallback;
}

function checkRank(info: ValueInfo, rank: number, file: string, layout: string): void {
  if (info.shape.length !== 0 && info.shape.length !== rank) {
    throw new InputError(`${file}: input "${info.name}" has rank ${info.shape.length} [${info.shape.join(', ')}]; expected ${layout}`);
  }
}

export type JsonConfig = Record<string, unknown> | null;

/** A range check for one config field: whole numbers (or lists of them, `list` long at most) in [lo, hi]. */
interface FieldRule {
  lo: number;
  hi: number;
  integer: boolean;
  /** The value may (or, for 'list', must) be a list of at most this many numbers. */
  list?: number;
  listOnly?: boolean;
}

const int = (lo: number, hi: number): FieldRule => ({ lo, hi, integer: true });
// Bounds far beyond any real model: SD uses 4 blocks (up to 1280 channels), 8-20 heads, 4-9 in-channels.
const BLOCKS: FieldRule = { lo: 1, hi: 16384, integer: true, list: 6, listOnly: true };
const CONFIG_RULES: Record<'unet' | 'vae' | 'text', Record<string, FieldRule>> = {
  unet: {
    in_channels: int(1, 64),
    out_channels: int(1, 64),
    sample_size: int(1, 1024),
    cross_attention_dim: int(1, 16384),
    layers_per_block: int(1, 16),
    norm_num_groups: int(1, 1024),
    block_out_channels: BLOCKS,
    attention_head_dim: { lo: 1, hi: 1024, integer: true, list: 6 },
    num_attention_heads: { lo: 1, hi: 1024, integer: true, list: 6 },
  },
  vae: {
    latent_channels: int(1, 64),
    in_channels: int(1, 16),
    out_channels: int(1, 16),
    sample_size: int(1, 16384),
    layers_per_block: int(1, 16),
    norm_num_groups: int(1, 1024),
    block_out_channels: BLOCKS,
    scaling_factor: { lo: 1e-6, hi: 100, integer: false },
  },
  text: { hidden_size: int(1, 16384), num_hidden_layers: int(1, 256), num_attention_heads: int(1, 1024), max_position_embeddings: int(1, 65536) },
};

/** Every known field of a config, if present, is a number (or list) in range; an error names file, field, value and range. */
function checkConfigRanges(config: JsonConfig, label: string, rules: Record<string, FieldRule>): JsonConfig {
  for (const [key, rule] of Object.entries(rules)) {
    const v = config?.[key];
    if (v === undefined || v === null) continue;
    const inRange = (x: unknown): boolean =>
      typeof x === 'number' && Number.isFinite(x) && (!rule.integer || Number.isInteger(x)) && x >= rule.lo && x <= rule.hi;
    const kind = `${rule.integer ? 'whole numbers' : 'numbers'} from ${rule.lo} to ${rule.hi}`;
    if (Array.isArray(v)) {
      if (rule.list === undefined || v.length < 1 || v.length > rule.list || !v.every(inRange)) {
        throw new InputError(
          `${label}: ${key} is ${JSON.stringify(v).slice(0, 80)}; expected ${rule.list ? `a list of 1 to ${rule.list} ${kind}` : `one of ${kind}`}`,
        );
      }
    } else if (rule.listOnly || !inRange(v)) {
      throw new InputError(
        `${label}: ${key} is ${JSON.stringify(v).slice(0, 80)}; expected ${rule.listOnly ? `a list of 1 to ${rule.list} ${kind}` : `one of ${kind}${rule.list ? ` (or a list of them)` : ''}`}`,
      );
    }
  }
  return config;
}

/** The optional diffusers/transformers configs, read and range-checked before any session so a broken one fails fast. */
function readConfigs(root: string): { vae: JsonConfig; unet: JsonConfig; text: JsonConfig } {
  const read = (rel: string, rules: Record<string, FieldRule>): JsonConfig =>
    checkConfigRanges(readJsonObjectFile(join(root, rel), rel, { optional: true }), rel, rules);
  return {
    vae: read(SD_LAYOUT.vaeDecoder.config, CONFIG_RULES.vae),
    unet: read(SD_LAYOUT.unet.config, CONFIG_RULES.unet),
    text: read(SD_LAYOUT.textEncoder.config, CONFIG_RULES.text),
  };
}

/** Pixels per latent of a VAE decoder, measured by decoding an 8×8 latent of zeros. */
async function probeVaeScale(vaeDecoder: Runner): Promise<number> {
  const VD = 'vae_decoder/model.onnx';
  const input = vaeDecoder.inputs.length === 1 ? (vaeDecoder.inputs[0] as ValueInfo) : requireInput(vaeDecoder, 'latent_sample', VD, 'latents (B, C, h, w)');
  checkFloatInput(input, VD);
  checkRank(input, 4, VD, '(batch, channels, height, width)');
  const size = fixedDim(input, 2) ?? 8;
  const dims = [fixedDim(input, 0) ?? 1, fixedDim(input, 1) ?? DEFAULT_LATENT_CHANNELS, size, fixedDim(input, 3) ?? size];
  const out = await vaeDecoder.run({ [input.name]: floatTensor(input, dims, new Float32Array(dims.reduce((a, b) => a * b, 1))) });
  const height = Object.values(out)[0]?.dims[2];
  if (height === undefined || height % size !== 0 || height < size) {
    throw new InputError(`${VD}: decoding ${size}x${size} latents gave an output of height ${height}; expected a whole multiple of ${size}`);
  }
  return height / size;
}

function deriveSpec(
  configs: ReturnType<typeof readConfigs>,
  tokenizer: Tokenizer,
  textEncoder: Runner,
  unet: Runner,
  vaeDecoder: Runner,
  probedVaeScale: number | null,
): ModelSpec {
  const { vae: vaeConfig, unet: unetConfig, text: textConfig } = configs;

  // Text encoder: (B, S) ids -> (B, S, D)
  const TE = 'text_encoder/model.onnx';
  const inputIds = requireInput(textEncoder, 'input_ids', TE, 'token ids (batch, sequence)');
  refuseExtraInputs(textEncoder, ['input_ids'], TE);
  if (inputIds.dtype !== 'int32' && inputIds.dtype !== 'int64') throw new InputError(`${TE}: input "input_ids" is ${inputIds.dtype}; expected int32 or int64`);
  checkRank(inputIds, 2, TE, '(batch, sequence)');
  const idsLength = fixedDim(inputIds, 1);
  if (idsLength !== null && idsLength !== tokenizer.maxLength) {
    throw new InputError(`${TE}: input_ids takes ${idsLength} tokens but the tokenizer in tokenizer/ makes sequences of ${tokenizer.maxLength}`);
  }
  const teOut = pickOutput(textEncoder, ['last_hidden_state'], TE);
  const teHidden = agree(
    `${TE}: hidden size (output "${teOut.name}" dim 2 vs text_encoder/config.json hidden_size)`,
    fixedDim(teOut, 2),
    configInt(textConfig, 'hidden_size', 'text_encoder/config.json'),
    0,
  );

  // VAE decoder: (B, C, h, w) -> (B, 3, H, W)
  const VD = 'vae_decoder/model.onnx';
  const vaeIn = vaeDecoder.inputs.length === 1 ? (vaeDecoder.inputs[0] as ValueInfo) : requireInput(vaeDecoder, 'latent_sample', VD, 'latents (B, C, h, w)');
  refuseExtraInputs(vaeDecoder, [vaeIn.name], VD);
  checkFloatInput(vaeIn, VD);
  checkRank(vaeIn, 4, VD, '(batch, channels, height, width)');
  const latentChannels = agree(
    `${VD}: latent channels (input dim 1 vs vae_decoder/config.json latent_channels)`,
    fixedDim(vaeIn, 1),
    configInt(vaeConfig, 'latent_channels', 'vae_decoder/config.json'),
    DEFAULT_LATENT_CHANNELS,
  );
  const vaeOut = pickOutput(vaeDecoder, ['sample'], VD);
  const vaeOutChannels = fixedDim(vaeOut, 1);
  if (vaeOutChannels !== null && vaeOutChannels !== 3) throw new InputError(`${VD}: output "${vaeOut.name}" has ${vaeOutChannels} channels; expected 3 (RGB)`);
  const blocks = vaeConfig?.block_out_channels;
  if (blocks !== undefined && (!Array.isArray(blocks) || blocks.length < 1))
    throw new InputError('vae_decoder/config.json: block_out_channels must be a non-empty array');
  const vaeScaleFactor = Array.isArray(blocks) ? 2 ** (blocks.length - 1) : (probedVaeScale ?? DEFAULT_VAE_SCALE_FACTOR);
  const scalingFactor = configNumber(vaeConfig, 'scaling_factor', 'vae_decoder/config.json') ?? DEFAULT_SCALING_FACTOR;

  // UNet: sample (B, Cin, h, w), timestep, encoder_hidden_states (B, S, D) -> (B, C, h, w)
  const UN = 'unet/model.onnx';
  const sample = requireInput(unet, 'sample', UN, 'noisy latents (batch, channels, height, width)');
  const timestep = requireInput(unet, 'timestep', UN, 'the diffusion timestep');
  const hidden = requireInput(unet, 'encoder_hidden_states', UN, 'text embeddings (batch, sequence, hidden)');
  refuseExtraInputs(unet, ['sample', 'timestep', 'encoder_hidden_states'], UN, ' (SDXL-style extra conditions are not supported)');
  checkFloatInput(sample, UN);
  checkFloatInput(hidden, UN);
  checkRank(sample, 4, UN, '(batch, channels, height, width)');
  checkRank(hidden, 3, UN, '(batch, sequence, hidden)');
  if (!['int64', 'int32', 'float32', 'float16'].includes(timestep.dtype))
    throw new InputError(`${UN}: input "timestep" is ${timestep.dtype}; expected int64, int32, float32 or float16`);
  if (timestep.shape.length > 1) throw new InputError(`${UN}: input "timestep" has rank ${timestep.shape.length}; expected a scalar or (batch,)`);
  const unetIn = agree(
    `${UN}: input channels (sample dim 1 vs unet/config.json in_channels)`,
    fixedDim(sample, 1),
    configInt(unetConfig, 'in_channels', 'unet/config.json'),
    latentChannels,
  );
  if (unetIn !== latentChannels && unetIn !== 2 * latentChannels + 1) {
    throw new InputError(
      `${UN}: sample has ${unetIn} channels; expected ${latentChannels} (the VAE's latent channels) or ${2 * latentChannels + 1} (an inpainting UNet)`,
    );
  }
  const unetOut = pickOutput(unet, ['out_sample'], UN);
  const outChannels = fixedDim(unetOut, 1);
  if (outChannels !== null && outChannels !== latentChannels) {
    throw new InputError(`${UN}: output "${unetOut.name}" has ${outChannels} channels; expected ${latentChannels} (the VAE's latent channels)`);
  }
  const unetHidden = fixedDim(hidden, 2);
  if (unetHidden !== null && teHidden !== 0 && unetHidden !== teHidden) {
    throw new InputError(`${UN}: encoder_hidden_states has width ${unetHidden} but ${TE} outputs ${teHidden}; the two do not belong together`);
  }
  const hiddenSize = unetHidden ?? teHidden;
  if (hiddenSize === 0)
    throw new InputError(`${TE}: cannot tell the hidden size (output dim 2 is symbolic and there is no text_encoder/config.json hidden_size)`);

  const unetBlocks = unetConfig?.block_out_channels;
  if (unetBlocks !== undefined && (!Array.isArray(unetBlocks) || unetBlocks.length < 1))
    throw new InputError('unet/config.json: block_out_channels must be a non-empty array');
  const unetMultiple = Array.isArray(unetBlocks) ? 2 ** (unetBlocks.length - 1) : 1;
  const fixedLatentHeight = fixedDim(sample, 2);
  const fixedLatentWidth = fixedDim(sample, 3);
  const sampleSize = configInt(unetConfig, 'sample_size', 'unet/config.json');
  const defaultSize = (fixed: number | null): number => (fixed ?? sampleSize ?? 512 / vaeScaleFactor) * vaeScaleFactor;
  return {
    latentChannels,
    unetInChannels: unetIn,
    inpaint: unetIn === 2 * latentChannels + 1,
    hiddenSize,
    unetMultiple,
    vaeScaleFactor,
    scalingFactor,
    fixedLatentHeight,
    fixedLatentWidth,
    defaultWidth: defaultSize(fixedLatentWidth),
    defaultHeight: defaultSize(fixedLatentHeight),
    fixedSequence: fixedDim(hidden, 1),
    unet: { sample, timestep, hidden, output: unetOut.name, fixedBatch: fixedDim(sample, 0) },
    textEncoder: { inputIds, output: teOut.name, fixedBatch: fixedDim(inputIds, 0) },
    vaeDecoder: { input: vaeIn, output: vaeOut.name, fixedBatch: fixedDim(vaeIn, 0) },
  };
}

function vaeEncoderSpec(runner: Runner, latentChannels: number): VaeEncoderSpec {
  const VE = 'vae_encoder/model.onnx';
  const input = runner.inputs.length === 1 ? (runner.inputs[0] as ValueInfo) : requireInput(runner, 'sample', VE, 'an image (B, 3, H, W) in [-1, 1]');
  refuseExtraInputs(runner, [input.name], VE);
  checkFloatInput(input, VE);
  checkRank(input, 4, VE, '(batch, 3, height, width)');
  const out = pickOutput(runner, ['latent_sample', 'latent_parameters', 'latent_dist'], VE);
  const outChannels = fixedDim(out, 1) ?? latentChannels;
  if (outChannels !== latentChannels && outChannels !== 2 * latentChannels) {
    throw new InputError(
      `${VE}: output "${out.name}" has ${outChannels} channels; expected ${latentChannels} (sampled latents) or ${2 * latentChannels} (mean and log-variance)`,
    );
  }
  return { input, output: out.name, fixedBatch: fixedDim(input, 0), outChannels };
}

function upscalerSpec(runner: Runner): UpscalerSpec {
  const UP = 'upscaler/model.onnx';
  const input = runner.inputs.length === 1 ? (runner.inputs[0] as ValueInfo) : requireInput(runner, 'image', UP, 'an image (B, 3, h, w) in [-1, 1]');
  refuseExtraInputs(runner, [input.name], UP);
  checkFloatInput(input, UP);
  checkRank(input, 4, UP, '(batch, 3, height, width)');
  const out = pickOutput(runner, ['upscaled'], UP);
  return { input, output: out.name, fixedBatch: fixedDim(input, 0) };
}

/** The usable embeddings of a folder (sorted by name), except words `given` already has; the rest noted in `skipped`. */
function folderEmbeddings(dir: string, given: readonly EmbeddingFile[], skipped: string[]): EmbeddingFile[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`embeddings folder ${dir} does not exist`);
  const words = new Set(given.map((e) => e.word.toLowerCase()));
  const out: EmbeddingFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!/\.safetensors$/i.test(name)) continue;
    try {
      const e = readEmbeddingFile(join(dir, name));
      if (words.has(e.word.toLowerCase())) continue;
      words.add(e.word.toLowerCase());
      out.push(e);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      skipped.push(`embedding ${join(dir, name)} skipped: ${err.message}`);
    }
  }
  return out;
}

/** Loads a model folder in the diffusers ONNX layout (default: gesso's shipped model). Call release() when done. */
export function loadModel(dir: string = DEFAULT_MODEL_DIR, options: LoadModelOptions = {}): Promise<DiffusionModel> {
  return DiffusionModel.load(dir, options);
}
