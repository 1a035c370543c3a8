/**
 * Textual-inversion embeddings at load: each embedding's vectors become new rows at the end of the text
 * encoder's token-embedding table (in memory; the user's files are never written), and the tokenizer
 * maps the embedding's word to those rows' ids. So the ONNX text encoder reads the new word like any
 * other token, for gesso's own models (word tokenizer) and Stable Diffusion folders (CLIP BPE) alike.
 *
 * The table is the initializer `text_model.embeddings.token_embedding.weight` (transformers' name, which
 * gesso's exports and optimum's keep); failing that, the one 2-D initializer a Gather reads with the
 * input ids. SD's pooled output (argmax of the ids) is not used by the UNet, so ids past the end-of-text
 * token change nothing the pipeline reads.
 */
import { InputError } from '../core/errors.ts';
import type { OnnxWeights } from '../models/onnx-weights.ts';
import { initializerValues } from '../models/onnx-weights.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { TokenizerWithWords } from '../text/added-words.ts';
import type { EmbeddingFile } from '../weights/embedding-file.ts';

export const TOKEN_EMBEDDING = 'text_model.embeddings.token_embedding.weight';

export interface EmbeddedWords {
  /** The extended table: initializer name, values (rows, hidden) and new dims. */
  initializer: string;
  values: Float32Array;
  dims: [number, number];
  tokenizer: TokenizerWithWords;
}

/** The name of the text encoder's token-embedding table. */
export function tokenEmbeddingName(w: OnnxWeights): string {
  if (w.initializers.get(TOKEN_EMBEDDING)?.dims?.length === 2) return TOKEN_EMBEDDING;
  const inputs = new Set((w.model.graph?.input ?? []).map((i) => i.name));
  const fromIds = (w.model.graph?.node ?? []).filter(
    (n) => n.op_type === 'Gather' && w.initializers.get(n.input?.[0] ?? '')?.dims?.length === 2 && inputs.has(n.input?.[1] ?? ''),
  );
  const name = fromIds[0]?.input?.[0];
  if (fromIds.length !== 1 || !name) {
    throw new InputError(
      `${w.path}: cannot find the token-embedding table (no initializer "${TOKEN_EMBEDDING}" and ${fromIds.length} Gathers of an initializer by the input ids); textual-inversion embeddings need it`,
    );
  }
  return name;
}

/** Appends every embedding's vectors to the table and gives the tokenizer their words. */
export function embedWords(w: OnnxWeights, tokenizer: Tokenizer, embeddings: readonly EmbeddingFile[]): EmbeddedWords {
  const initializer = tokenEmbeddingName(w);
  const [rows, hidden] = (w.initializers.get(initializer)?.dims ?? []).map(Number) as [number, number];
  const seen = new Map<string, string>();
  for (const e of embeddings) {
    if (e.hidden !== hidden) {
      throw new InputError(
        `${e.path}: embedding "${e.word}" has vectors of width ${e.hidden}; this model's text encoder takes ${hidden} (the embedding was made for another model family)`,
      );
    }
    const before = seen.get(e.word.toLowerCase());
    if (before) throw new InputError(`embedding word "${e.word}" is given twice (${before} and ${e.path}); give it once`);
    seen.set(e.word.toLowerCase(), e.path);
  }
  const added = embeddings.reduce((n, e) => n + e.count, 0);
  const values = new Float32Array((rows + added) * hidden); // (rows + added, hidden)
  values.set(initializerValues(w, initializer));
  const words = new Map<string, number[]>();
  let next = rows;
  for (const e of embeddings) {
    values.set(e.vectors, next * hidden);
    words.set(
      e.word,
      Array.from({ length: e.count }, (_, i) => next + i),
    );
    next += e.count;
  }
  return { initializer, values, dims: [rows + added, hidden], tokenizer: new TokenizerWithWords(tokenizer, words) };
}
