/**
 * Textual-inversion embeddings in the safetensors layout AUTOMATIC1111 reads (and Civitai shares): one
 * tensor `emb_params` of shape (n_vectors, hidden), the new word's input vectors for the text encoder's
 * token-embedding table. The word a prompt uses is the file's name without `.safetensors`, as in A1111's
 * embeddings/ folder. Pickled `.pt`/`.bin` embeddings are refused by their bytes, never unpickled.
 */
import { basename } from 'node:path';
import { InputError } from '../core/errors.ts';
import { assertNotPickle } from './pickle-guard.ts';
import { readSafetensors, toFloat32, writeSafetensors } from './safetensors.ts';

export const EMBEDDING_KEY = 'emb_params';
/** A1111 caps an embedding at 75 vectors (one prompt chunk); more could never fit a prompt. */
export const MAX_EMBEDDING_VECTORS = 75;

export interface EmbeddingFile {
  path: string;
  /** The word that calls it: the file name without `.safetensors`. */
  word: string;
  /** (vectors, hidden), row-major */
  vectors: Float32Array;
  count: number;
  hidden: number;
  metadata: Record<string, string>;
}

/** A word a tokenizer can match: letters, digits, `_` and `-`, starting with a letter or digit. */
export function checkEmbeddingWord(word: string, where: string): string {
  if (!/^[\p{L}\p{N}][\p{L}\p{N}_-]*$/u.test(word)) {
    throw new InputError(`${where}: "${word}" cannot be an embedding's word; use letters, digits, "_" and "-" (starting with a letter or digit)`);
  }
  return word;
}

/** Reads and checks an embedding: not a pickle, valid safetensors, one (n, hidden) `emb_params`, finite values. */
export function readEmbeddingFile(path: string): EmbeddingFile {
  if (!/\.safetensors$/i.test(path)) {
    throw new InputError(`${path}: an embedding must be a .safetensors file with an "${EMBEDDING_KEY}" tensor (A1111's layout; .pt/.bin pickles are not read)`);
  }
  assertNotPickle(path);
  const file = readSafetensors(path, path);
  const t = file.tensors.get(EMBEDDING_KEY);
  if (!t) {
    const keys = [...file.tensors.keys()].slice(0, 5).join(', ') || 'none';
    throw new InputError(`${path}: no "${EMBEDDING_KEY}" tensor (found: ${keys}); a textual-inversion embedding holds emb_params (n_vectors, hidden)`);
  }
  const shape = t.shape.length === 1 ? [1, t.shape[0] as number] : t.shape;
  const [count, hidden] = shape as [number, number];
  if (shape.length !== 2 || count < 1 || count > MAX_EMBEDDING_VECTORS || hidden < 1) {
    throw new InputError(`${path}: "${EMBEDDING_KEY}" is [${t.shape.join(', ')}]; expected (n_vectors, hidden) with 1 to ${MAX_EMBEDDING_VECTORS} vectors`);
  }
  const vectors = Float32Array.from(toFloat32(t));
  const bad = vectors.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new InputError(
      `${path}: "${EMBEDDING_KEY}" holds ${vectors[bad]} at vector ${Math.floor(bad / hidden)}, index ${bad % hidden}; an embedding with NaN or infinite values is refused`,
    );
  }
  const word = checkEmbeddingWord(basename(path).replace(/\.safetensors$/i, ''), path);
  return { path, word, vectors, count, hidden, metadata: file.metadata };
}

/** Writes an embedding (atomically) as A1111 reads it; the file name should be the word. */
export function writeEmbeddingFile(path: string, vectors: Float32Array, count: number, metadata: Record<string, string> = {}): void {
  if (count < 1 || vectors.length % count !== 0) throw new InputError(`embedding ${path}: ${vectors.length} values do not make ${count} vectors`);
  writeSafetensors(path, { [EMBEDDING_KEY]: { dtype: 'F32', shape: [count, vectors.length / count], data: vectors } }, metadata);
}
