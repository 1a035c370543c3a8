/**
 * Prompt -> text embeddings, as AUTOMATIC1111 does it:
 * 1. Parse emphasis `(word:1.3)`, `(word)`, `[word]` and cut the tokens into chunks of 75 (77 with bos
 *    and eos) — `weightedTokens` in src/text/prompt-weights.ts.
 * 2. Pad prompt and negative prompt to the same number of chunks with chunks of the empty prompt, so
 *    cond and uncond have one shape and can share a UNet batch.
 * 3. Run the text encoder on every chunk of both at once: (N, 77) ids -> (N, 77, D).
 * 4. Weight each chunk's output (`applyTokenWeights`: scale by emphasis, restore the mean) and join a
 *    prompt's chunks along the sequence axis: (1, 77·k, D).
 *
 * Long prompts: at most `maxChunks` chunks are kept (8 = 600 tokens by default; 1 when the UNet fixes
 * encoder_hidden_states to one chunk's length); tokens beyond are dropped and a warning says how many.
 */
import { InputError } from '../core/errors.ts';
import type { HostTensor } from '../runtime/tensor.ts';
import { applyTokenWeights, DEFAULT_MAX_CHUNKS, weightedTokens, type WeightedChunk, type WeightedPrompt } from '../text/prompt-weights.ts';
import type { DiffusionModel } from './model-folder.ts';
import { runBatched } from './model-io.ts';

export interface Conditioning {
  /** (1, S, D) prompt embeddings, S = 77 · chunks */
  cond: Float32Array;
  /** (1, S, D) negative-prompt embeddings (the empty prompt when there is none) */
  uncond: Float32Array;
  /** S */
  sequence: number;
  /** D */
  hidden: number;
  chunks: number;
  /** Prompt tokens counted before any were dropped. */
  promptTokens: number;
  negativeTokens: number;
  /** E.g. "prompt has 1012 tokens; only the first 8 chunks (600 tokens) are used". */
  warnings: string[];
}

export interface ConditioningOptions {
  /** Override the chunk limit (default: 8, or what a fixed UNet sequence allows). */
  maxChunks?: number;
  signal?: AbortSignal;
}

/** The most chunks the model can take: a UNet with a fixed sequence length takes exactly that many. */
export function chunkLimit(model: DiffusionModel, requested?: number): number {
  const per = model.tokenizer.maxLength;
  const fixed = model.spec.fixedSequence;
  if (fixed !== null) {
    if (fixed % per !== 0) {
      throw new InputError(`unet/model.onnx: encoder_hidden_states has a fixed length of ${fixed}, not a multiple of the tokenizer's ${per}`);
    }
    return fixed / per;
  }
  return requested ?? DEFAULT_MAX_CHUNKS;
}

export async function encodePrompts(model: DiffusionModel, prompt: string, negativePrompt: string, options: ConditioningOptions = {}): Promise<Conditioning> {
  const tokenizer = model.tokenizer;
  const fixed = model.spec.fixedSequence;
  const maxChunks = chunkLimit(model, options.maxChunks);

  // 1. Chunk both prompts.
  const pos = weightedTokens(tokenizer, prompt, { maxChunks });
  const neg = weightedTokens(tokenizer, negativePrompt, { maxChunks });
  const warnings = [
    truncationWarning('prompt', pos, maxChunks, tokenizer.maxLength),
    truncationWarning('negative prompt', neg, maxChunks, tokenizer.maxLength),
  ].filter((w): w is string => w !== null);

  // 2. Same chunk count for both (exactly the fixed count when the UNet fixes it).
  const chunks = fixed !== null ? maxChunks : Math.max(pos.chunks.length, neg.chunks.length);
  const empty = weightedTokens(tokenizer, '').chunks[0] as WeightedChunk;
  const pad = (c: WeightedChunk[]): WeightedChunk[] => [...c, ...Array<WeightedChunk>(chunks - c.length).fill(empty)];
  const all = [...pad(pos.chunks), ...pad(neg.chunks)]; // N = 2 · chunks

  // 3. One encoder batch: (N, L) -> (N, L, D)
  const L = tokenizer.maxLength;
  const spec = model.spec.textEncoder;
  const { data: hidden, dims } = await runBatched(
    model.textEncoder,
    all.length,
    spec.fixedBatch,
    (from, count, size) => ({ [spec.inputIds.name]: idsTensor(all, from, count, size, L, spec.inputIds.dtype === 'int64') }),
    spec.output,
    options.signal,
  );
  const D = dims[2];
  if (dims.length !== 3 || dims[1] !== L) {
    throw new InputError(`text_encoder/model.onnx: output "${spec.output}" is [${dims.join(', ')}]; expected (batch, ${L}, hidden)`);
  }
  if (D !== model.spec.hiddenSize) {
    throw new InputError(`text_encoder/model.onnx outputs width ${D} but unet/model.onnx expects ${model.spec.hiddenSize}`);
  }

  // 4. Weight each chunk, join chunks along the sequence: (1, L·chunks, D)
  const join = (first: number): Float32Array => {
    const out = new Float32Array(chunks * L * D);
    for (let c = 0; c < chunks; c++) {
      const i = first + c;
      const chunkHidden = hidden.subarray(i * L * D, (i + 1) * L * D); // (L, D)
      out.set(applyTokenWeights(chunkHidden, L, D, (all[i] as WeightedChunk).weights), c * L * D);
    }
    return out;
  };
  return {
    cond: join(0),
    uncond: join(chunks),
    sequence: chunks * L,
    hidden: D,
    chunks,
    promptTokens: pos.tokenCount,
    negativeTokens: neg.tokenCount,
    warnings,
  };
}

/** (size, L) ids of chunks [from, from + count), the last repeated as padding. */
function idsTensor(chunks: readonly WeightedChunk[], from: number, count: number, size: number, L: number, int64: boolean): HostTensor {
  const ids = new Int32Array(size * L);
  for (let i = 0; i < size; i++) ids.set((chunks[from + Math.min(i, count - 1)] as WeightedChunk).ids, i * L);
  if (int64) return { dtype: 'int64', dims: [size, L], data: BigInt64Array.from(ids, (v) => BigInt(v)) };
  return { dtype: 'int32', dims: [size, L], data: ids };
}

function truncationWarning(what: string, p: WeightedPrompt, maxChunks: number, L: number): string | null {
  if (!p.truncated) return null;
  return `${what} has ${p.tokenCount} tokens; only the first ${maxChunks} chunk${maxChunks > 1 ? 's' : ''} (up to ${maxChunks * (L - 2)} tokens) are used`;
}
