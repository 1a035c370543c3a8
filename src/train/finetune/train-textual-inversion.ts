/**
 * `gesso train finetune --method textual-inversion --token WORD`: a new word for a model, learnt from
 * 3–20 pictures of a subject or style (Gal et al. 2022, "An Image is Worth One Word"). Only the word's
 * vectors train: the text encoder and UNet are the folder's own, frozen. Saved as an A1111 embedding
 * (`<out>/<WORD>.safetensors`, tensor emb_params (n_vectors, hidden)); prompts use it by writing WORD.
 *   1. data      pictures at the model's size; captions from .txt files (WORD is put in front of a
 *                caption that lacks it), or WORD alone for pictures without one (with a warning)
 *   2. encode    pictures -> VAE latents once; captions -> token ids with WORD as the new ids
 *                vocab_size .. vocab_size + n − 1 (the rows the embedding will take at load)
 *   3. graph     text encoder (its token table + the trainable rows) -> UNet, both rebuilt by gesso
 *                from the folder's configs with the folder's weights, frozen
 *   4. train     the model's own objective; checkpoints, resume, progress bar, sample grids with the
 *                embedding loaded through the real pipeline
 */
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { Rng } from '../../core/rng.ts';
import { Graph } from '../../graph/graph.ts';
import { ClipTextEncoder } from '../../models/clip-text-encoder.ts';
import { initializerValues, readOnnxWeights } from '../../models/onnx-weights.ts';
import { SD_LAYOUT } from '../../models/sd-layout.ts';
import { UNet2DCondition } from '../../models/unet2d-condition.ts';
import { mentionsWord } from '../../pipelines/embedding-choice.ts';
import { tokenEmbeddingName } from '../../pipelines/embedding-merge.ts';
import type { HostTensor } from '../../runtime/tensor.ts';
import { TokenizerWithWords } from '../../text/added-words.ts';
import { checkEmbeddingWord, MAX_EMBEDDING_VECTORS, writeEmbeddingFile } from '../../weights/embedding-file.ts';
import {
  adamwSession,
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
import { freezeAll } from './lora-attach.ts';

/** The trainable rows' parameter name (not a model weight: it never meets an ONNX initializer). */
const ROWS = 'emb_params';

export interface TextualInversionOptions extends FinetuneCommonOptions {
  /** The new word; also the embedding file's name (`<outDir>/<token>.safetensors`). */
  token: string;
  /** Vectors the word stands for (A1111's "number of vectors per token"). Default 1. */
  vectors?: number;
  /** Start from this text's mean token vector (e.g. "smiley"); default the mean of the whole table. */
  initText?: string;
}

export interface TextualInversionResult extends FinetuneCommonResult {
  embeddingPath: string;
  token: string;
  vectors: number;
}

export async function trainTextualInversion(o: TextualInversionOptions): Promise<TextualInversionResult> {
  const started = Date.now();
  const log = o.log ?? ((line: string) => console.log(line));
  const token = checkEmbeddingWord(o.token, '--token');
  const count = o.vectors ?? 1;
  const steps = o.steps ?? 300;
  const batch = o.batch ?? 4;
  const seed = o.seed ?? 0;
  for (const [flag, v, max] of [
    ['vectors', count, MAX_EMBEDDING_VECTORS],
    ['steps', steps, 1e9],
    ['batch', batch, 1024],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > max) throw new InputError(`--${flag} ${v}: expected a whole number from 1 to ${max}`);
  }
  const embeddingPath = join(o.outDir, `${token}.safetensors`);

  // 1–2. Data, latents, token ids with the new word.
  const prepared = await withFolderModel(o.modelDir, async (model) => {
    const table = readOnnxWeights(join(o.modelDir, SD_LAYOUT.textEncoder.onnx));
    const tableName = tokenEmbeddingName(table);
    const [rows, hidden] = (table.initializers.get(tableName)?.dims ?? []).map(Number) as [number, number];
    const tokenizer = new TokenizerWithWords(model.tokenizer, new Map([[token, Array.from({ length: count }, (_, i) => rows + i)]]));
    const pictures = await prepareTraining(model, o, log, token);
    const captions = pictures.captions.map((c) => (mentionsWord(c, token) ? c : `${token}, ${c}`));
    const initIds = o.initText ? model.tokenizer.tokenize(o.initText) : [];
    return {
      ...pictures,
      captions,
      table,
      tableName,
      rows,
      hidden,
      tokenizer,
      initIds,
    };
  });
  const { size, captions, latents, table, tableName, rows, hidden, tokenizer, prediction, schedule } = prepared;
  const n = captions.length;
  const ids = captions.map((c) => Array.from(tokenizer.encode(c).ids));
  const sequence = tokenizer.maxLength;
  log(`data: ${n} pictures at ${size} px; "${token}" is ${count} new token${count > 1 ? 's' : ''} (ids ${rows}..${rows + count - 1}); e.g. "${captions[0]}"`);

  // 3. Frozen text encoder and UNet, with the word's rows as the one trainable parameter.
  const g = new Graph();
  const textConfig = textConfigOf(o.modelDir);
  if (textConfig.vocab_size !== rows || textConfig.hidden_size !== hidden) {
    throw new InputError(
      `${o.modelDir}: text_encoder/config.json says vocab_size ${textConfig.vocab_size}, hidden_size ${textConfig.hidden_size}, but "${tableName}" is [${rows}, ${hidden}]`,
    );
  }
  const text = new ClipTextEncoder(g, textConfig, new Rng(seed));
  const c = unetConfigOf(o.modelDir);
  const unet = new UNet2DCondition(g, c, new Rng(seed));
  loadFolderWeights(g, o.modelDir, [SD_LAYOUT.unet.onnx, SD_LAYOUT.textEncoder.onnx]);
  freezeAll(g);
  const addedRows = g.param(ROWS, [count, hidden], initialRows(initializerValues(table, tableName), hidden, count, prepared.initIds));
  const h = size / prepared.vaeScale;
  const dims = [batch, c.in_channels, h, h];
  const x = latentInputs(g, dims);
  const tokens = g.input('ids', [batch, sequence], 'int64');
  const context = text.forward(tokens, { addedRows }).lastHiddenState; // (B, S, D)
  const loss = diffusionLoss(unet.forward(x.noisy, x.t, context), x.target);
  log(`text encoder and UNet frozen; ${count} × ${hidden} = ${g.paramCount()} trainable values`);

  // 4. Training.
  const session = await adamwSession(g, loss, { weightDecay: 0 });
  const run = await runFinetune({
    session,
    options: o,
    steps,
    lr: o.lr ?? 5e-3,
    seed,
    label: `textual inversion "${token}"`,
    checkpointMetadata: { gesso_token: token },
    samples: { defaultPrompts: [token, ...new Set(captions)].slice(0, 4), size, embeddings: [embeddingPath] },
    batch: (rng): Record<string, HostTensor> => {
      const picks = Array.from({ length: batch }, () => rng.int(n));
      const idData = new BigInt64Array(batch * sequence);
      picks.forEach((i, b) => (ids[i] as number[]).forEach((id, k) => (idData[b * sequence + k] = BigInt(id))));
      return { ...noisedBatch(rng, schedule, prediction, latents, picks, dims), ids: { dtype: 'int64', dims: [batch, sequence], data: idData } };
    },
    save: async () => {
      const rowsNow = (await session.values([ROWS])).get(ROWS) as Float32Array;
      writeEmbeddingFile(embeddingPath, rowsNow, count, {
        gesso_token: token,
        gesso_base_model: o.modelDir,
        gesso_data: o.dataDir,
        gesso_steps: String(session.stepCount),
        gesso_method: 'textual-inversion',
      });
    },
  });
  return { embeddingPath, token, vectors: count, steps, losses: run.losses, images: n, resumedFrom: run.resumedFrom, seconds: (Date.now() - started) / 1000 };
}

/**
 * Starting vectors: each is the mean of `initIds`' rows (A1111's "initialization text"), or of the
 * whole table when there are none, so the word starts as an ordinary, unremarkable token.
 */
function initialRows(table: Float32Array, hidden: number, count: number, initIds: readonly number[]): Float32Array {
  const rowsUsed = initIds.length > 0 ? initIds : Array.from({ length: table.length / hidden }, (_, i) => i);
  const mean = new Float32Array(hidden);
  for (const r of rowsUsed) for (let j = 0; j < hidden; j++) mean[j] = (mean[j] as number) + (table[r * hidden + j] as number) / rowsUsed.length;
  const out = new Float32Array(count * hidden);
  for (let v = 0; v < count; v++) out.set(mean, v * hidden);
  return out;
}
