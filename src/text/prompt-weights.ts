/**
 * AUTOMATIC1111's prompt emphasis syntax, its long-prompt chunking, and its rule for applying the weights
 * to the text encoder's output — behaviour re-implemented from the syntax described in A1111's wiki
 * ("Attention/emphasis") and its documented examples.
 *
 * Syntax: `(text)` multiplies attention by 1.1, `[text]` divides by 1.1, `(text:1.3)` sets a factor, and
 * these nest multiplicatively (`((text))` = 1.21). `\(` `\)` `\[` `\]` `\\` are literal characters. An
 * unmatched `)` or `]` is literal text; a bracket still open at the end of the prompt is closed there.
 * `BREAK` (upper case, a whole word) ends the current chunk. Unlike A1111, a BREAK inside brackets is
 * still a break (A1111 then treats it as the word "BREAK", a side effect of how it tags breaks).
 *
 * Long prompts: the tokens are cut into chunks of `tokenizer.maxLength - 2` (75 for CLIP) tokens, each
 * wrapped in bos/eos and padded to maxLength (77), with a per-token weight array. The pipeline runs the
 * text encoder on every chunk and concatenates the outputs along the sequence axis ((1, 77·k, D)), as
 * A1111 does. A1111 chunks the negative prompt the same way and pads the shorter of the two with chunks
 * of the empty prompt so both have the same length; the pipeline should do likewise. As in A1111, when
 * a chunk fills up and a comma occurred within the last `commaBacktrack` (20) tokens, the text after
 * that comma moves to the next chunk, so phrases are not split. A caller that
 * wants a bound passes `maxChunks` (default 8 = 600 tokens): later chunks are dropped and the result says
 * `truncated: true` so the caller can warn.
 */
import { InputError } from '../core/errors.ts';
import type { Tokenizer } from './tokenizer.ts';

export interface PromptFragment {
  text: string;
  weight: number;
  /** Set on the fragment that stands for a BREAK keyword (its text is "BREAK", weight 1). */
  isBreak?: true;
}

/** Largest emphasis (in size) a prompt fragment may get: 1.1^48 ≈ 97 brackets deep; A1111 users stay below ~2. */
export const MAX_PROMPT_WEIGHT = 100;
const ROUND_FACTOR = 1.1;
const SQUARE_FACTOR = 1 / 1.1;
// Escapes, a lone backslash, brackets, ":<number>)" closing a weighted group, plain text runs, a lone colon.
const ATTENTION = /\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|\]|[^\\()[\]:]+|:/g;
// BREAK as a whole word (word = letters, digits, underscore), with the whitespace around it.
const BREAK = /\s*(?<![\p{L}\p{N}_])BREAK(?![\p{L}\p{N}_])\s*/u;

/** Splits a prompt into text fragments with their emphasis weights (runs of equal weight merged). */
export function parsePromptWeights(prompt: string): PromptFragment[] {
  const res: PromptFragment[] = [];
  const round: number[] = []; // index in res where each open "(" starts
  const square: number[] = [];
  const multiply = (from: number, factor: number): void => {
    for (let i = from; i < res.length; i++) if (!res[i].isBreak) res[i].weight *= factor;
  };
  for (const m of prompt.matchAll(ATTENTION)) {
    const token = m[0];
    const weight = m[1];
    if (token.startsWith('\\')) {
      res.push({ text: token.slice(1), weight: 1 });
    } else if (token === '(') {
      round.push(res.length);
    } else if (token === '[') {
      square.push(res.length);
    } else if (weight !== undefined && round.length > 0) {
      const factor = Number(weight);
      if (!Number.isFinite(factor)) {
        throw new InputError(`prompt weight ${JSON.stringify(weight)} in ${JSON.stringify(token)} is not a number; expected e.g. (word:1.3)`);
      }
      multiply(round.pop() as number, factor);
    } else if (token === ')' && round.length > 0) {
      multiply(round.pop() as number, ROUND_FACTOR);
    } else if (token === ']' && square.length > 0) {
      multiply(square.pop() as number, SQUARE_FACTOR);
    } else {
      token.split(BREAK).forEach((part, i) => {
        if (i > 0) res.push({ text: 'BREAK', weight: 1, isBreak: true });
        res.push({ text: part, weight: 1 });
      });
    }
  }
  // Brackets left open close at the end of the prompt.
  for (const from of round) multiply(from, ROUND_FACTOR);
  for (const from of square) multiply(from, SQUARE_FACTOR);
  if (res.length === 0) return [{ text: '', weight: 1 }];
  // Weights scale the text encoder's output: a huge one (1000 nested brackets, (red:1e39)) overflows to NaN.
  const extreme = res.find((f) => !(Math.abs(f.weight) <= MAX_PROMPT_WEIGHT));
  if (extreme) {
    throw new InputError(
      `prompt emphasis on ${JSON.stringify(extreme.text.slice(0, 40))} comes to ${extreme.weight.toPrecision(3)} (nested brackets multiply by 1.1 each, (text:w) by w); expected at most ${MAX_PROMPT_WEIGHT} in size`,
    );
  }

  const merged: PromptFragment[] = [res[0]];
  for (let i = 1; i < res.length; i++) {
    const last = merged[merged.length - 1];
    const cur = res[i];
    if (!last.isBreak && !cur.isBreak && last.weight === cur.weight) last.text += cur.text;
    else merged.push(cur);
  }
  return merged;
}

export interface WeightedChunk {
  /** (maxLength,) bos, up to maxLength - 2 prompt tokens, eos, padding */
  ids: Int32Array;
  /** (maxLength,) emphasis of each position; 1 on bos/eos/padding */
  weights: Float32Array;
}

export interface WeightedPrompt {
  chunks: WeightedChunk[];
  /** Prompt tokens in the whole prompt, before any chunks were dropped. */
  tokenCount: number;
  /** True when chunks beyond maxChunks were dropped. */
  truncated: boolean;
}

export interface WeightedTokensOptions {
  /** Keep at most this many chunks (default 8); more sets `truncated`. */
  maxChunks?: number;
  /** A1111's comma_padding_backtrack: how far back a comma may move text to the next chunk (default 20, 0 = off). */
  commaBacktrack?: number;
}

export const DEFAULT_MAX_CHUNKS = 8;
const DEFAULT_COMMA_BACKTRACK = 20;

/** Tokenizes a weighted prompt into A1111-style chunks (see file header). */
export function weightedTokens(tokenizer: Tokenizer, prompt: string, options: WeightedTokensOptions = {}): WeightedPrompt {
  const maxChunks = options.maxChunks ?? DEFAULT_MAX_CHUNKS;
  const backtrack = options.commaBacktrack ?? DEFAULT_COMMA_BACKTRACK;
  if (!Number.isInteger(maxChunks) || maxChunks < 1) throw new InputError(`maxChunks must be an integer >= 1, got ${maxChunks}`);
  if (!Number.isInteger(backtrack) || backtrack < 0) throw new InputError(`commaBacktrack must be an integer >= 0, got ${backtrack}`);
  const chunkLength = tokenizer.maxLength - 2;

  const chunks: Array<{ tokens: number[]; weights: number[] }> = [];
  let tokens: number[] = [];
  let weights: number[] = [];
  let lastComma = -1;
  let tokenCount = 0;
  const nextChunk = (): void => {
    chunks.push({ tokens, weights });
    tokens = [];
    weights = [];
    lastComma = -1;
  };

  for (const fragment of parsePromptWeights(prompt)) {
    if (fragment.isBreak) {
      nextChunk();
      continue;
    }
    for (const id of tokenizer.tokenize(fragment.text)) {
      tokenCount++;
      if (id === tokenizer.commaId) {
        lastComma = tokens.length;
      } else if (backtrack > 0 && tokens.length === chunkLength && lastComma !== -1 && tokens.length - lastComma <= backtrack) {
        // Move what follows the last comma to the next chunk, so the phrase stays whole.
        const cut = lastComma + 1;
        const movedTokens = tokens.slice(cut);
        const movedWeights = weights.slice(cut);
        tokens.length = cut;
        weights.length = cut;
        nextChunk();
        tokens = movedTokens;
        weights = movedWeights;
      }
      if (tokens.length === chunkLength) nextChunk();
      tokens.push(id);
      weights.push(fragment.weight);
    }
  }
  if (tokens.length > 0 || chunks.length === 0) nextChunk();

  const truncated = chunks.length > maxChunks;
  return {
    chunks: chunks.slice(0, maxChunks).map((c) => wrapChunk(c.tokens, c.weights, tokenizer)),
    tokenCount,
    truncated,
  };
}

function wrapChunk(tokens: readonly number[], weights: readonly number[], t: Tokenizer): WeightedChunk {
  const ids = new Int32Array(t.maxLength).fill(t.padId); // (maxLength,)
  const w = new Float32Array(t.maxLength).fill(1); // (maxLength,)
  ids[0] = t.bosId;
  for (let i = 0; i < tokens.length; i++) {
    ids[i + 1] = tokens[i];
    w[i + 1] = weights[i];
  }
  ids[tokens.length + 1] = t.eosId;
  return { ids, weights: w };
}

/**
 * A1111's way of applying emphasis to one chunk's encoder output: scale each token's embedding by its
 * weight, then rescale everything so the mean over the whole (T, D) output equals the unweighted mean.
 * `hidden` is (T, D) row-major (a (1, T, D) buffer works as is); returns a new (T, D) array.
 */
export function applyTokenWeights(hidden: Float32Array, T: number, D: number, weights: ArrayLike<number>): Float32Array {
  if (hidden.length !== T * D) throw new InputError(`encoder output has ${hidden.length} values; expected T*D = ${T}*${D} = ${T * D}`);
  if (weights.length !== T) throw new InputError(`got ${weights.length} token weights for ${T} tokens`);
  const out = new Float32Array(T * D); // (T, D)
  let before = 0;
  let after = 0;
  for (let t = 0; t < T; t++) {
    const w = weights[t];
    for (let d = t * D, end = d + D; d < end; d++) {
      before += hidden[d];
      out[d] = hidden[d] * w;
      after += out[d];
    }
  }
  // A zero mean cannot be restored by scaling; leave the weighted values as they are.
  if (after === 0 || !Number.isFinite(before / after)) return out;
  const scale = before / after;
  for (let i = 0; i < out.length; i++) out[i] *= scale;
  return out;
}
