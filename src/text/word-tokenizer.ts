/**
 * gesso's word tokenizer for its small self-trained text encoders: one token per word, words being runs
 * of Unicode letters/digits (everything else separates them), unknown words -> `<unk>`. Stored as
 * `tokenizer/gesso_tokenizer.json`:
 *   { "type": "gesso-word", "version": 1, "max_length": N, "lowercase": true,
 *     "vocab": ["<pad>", "<bos>", "<eos>", "<unk>", ...words] }
 * The four special tokens always take ids 0..3, in that order.
 */
import { parseJson } from '../core/json.ts';
import { existsSync } from 'node:fs';
import { readTextFile } from '../core/safe-read.ts';
import { rename, writeFile, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InputError } from '../core/errors.ts';
import { wrapAndPad, type EncodedText, type Tokenizer } from './tokenizer.ts';

export const WORD_TOKENIZER_FILE = 'gesso_tokenizer.json';
export const WORD_SPECIALS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;

/** Dropped when outside the vocabulary (see WordTokenizer.tokenize). */
const ARTICLES = new Set(['a', 'an', 'the']);
const WORD = /[\p{L}\p{N}]+/gu;

export interface WordTokenizerJson {
  type: 'gesso-word';
  version: 1;
  max_length: number;
  lowercase: boolean;
  vocab: string[];
}

/** Words of `text` as the tokenizer sees them. */
export function splitWords(text: string, lowercase: boolean): string[] {
  const norm = text.normalize('NFC');
  return (lowercase ? norm.toLowerCase() : norm).match(WORD) ?? [];
}

export class WordTokenizer implements Tokenizer {
  readonly maxLength: number;
  readonly bosId = 1;
  readonly eosId = 2;
  readonly padId = 0;
  readonly unkId = 3;
  readonly commaId: number | undefined = undefined;
  readonly vocabSize: number;
  readonly lowercase: boolean;
  private readonly vocab: readonly string[];
  private readonly ids: Map<string, number>;

  /** `vocab` must start with the four special tokens; `file` names the source in errors. */
  constructor(vocab: readonly string[], options: { maxLength: number; lowercase?: boolean }, file = 'word vocabulary') {
    WORD_SPECIALS.forEach((s, i) => {
      if (vocab[i] !== s) {
        throw new InputError(`${file}: vocab[${i}] must be ${JSON.stringify(s)}, got ${JSON.stringify(vocab[i])}`);
      }
    });
    if (!Number.isInteger(options.maxLength) || options.maxLength < 3) {
      throw new InputError(`${file}: max_length must be an integer >= 3, got ${JSON.stringify(options.maxLength)}`);
    }
    this.ids = new Map();
    vocab.forEach((word, i) => {
      if (typeof word !== 'string' || word === '') throw new InputError(`${file}: vocab[${i}] must be a non-empty string, got ${JSON.stringify(word)}`);
      if (this.ids.has(word)) throw new InputError(`${file}: vocab has ${JSON.stringify(word)} twice (ids ${this.ids.get(word)} and ${i})`);
      this.ids.set(word, i);
    });
    this.vocab = vocab.slice();
    this.vocabSize = vocab.length;
    this.maxLength = options.maxLength;
    this.lowercase = options.lowercase ?? true;
  }

  /**
   * Word ids; a word outside the vocabulary is `<unk>`, except English articles, which are dropped:
   * captions built from file names never contain them, so "a red star" would otherwise carry an
   * `<unk>` the model only ever saw standing for a rare content word.
   */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    for (const w of splitWords(text, this.lowercase)) {
      const id = this.ids.get(w);
      if (id !== undefined) ids.push(id);
      else if (!ARTICLES.has(w)) ids.push(this.unkId);
    }
    return ids;
  }

  encode(text: string): EncodedText {
    return wrapAndPad(this.tokenize(text), this);
  }

  decode(ids: ArrayLike<number>): string {
    const words: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === this.padId || id === this.bosId || id === this.eosId) continue;
      words.push(this.vocab[id] ?? WORD_SPECIALS[3]);
    }
    return words.join(' ');
  }

  toJSON(): WordTokenizerJson {
    return { type: 'gesso-word', version: 1, max_length: this.maxLength, lowercase: this.lowercase, vocab: this.vocab.slice() };
  }
}

/** Validates parsed gesso_tokenizer.json content. */
export function wordTokenizerFromJson(raw: unknown, file: string): WordTokenizer {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(`${file} must hold a JSON object`);
  const o = raw as Record<string, unknown>;
  if (o.type !== 'gesso-word') throw new InputError(`${file}: type must be "gesso-word", got ${JSON.stringify(o.type)}`);
  if (o.version !== 1) throw new InputError(`${file}: version ${JSON.stringify(o.version)} is not supported (expected 1)`);
  if (typeof o.lowercase !== 'boolean') throw new InputError(`${file}: lowercase must be true or false, got ${JSON.stringify(o.lowercase)}`);
  if (!Array.isArray(o.vocab)) throw new InputError(`${file}: vocab must be an array of strings`);
  return new WordTokenizer(o.vocab as string[], { maxLength: o.max_length as number, lowercase: o.lowercase }, file);
}

export async function loadWordTokenizer(file: string): Promise<WordTokenizer> {
  if (!existsSync(file)) throw new InputError(`word tokenizer file ${file} does not exist`);
  const text = readTextFile(file, 'word tokenizer file');
  return wordTokenizerFromJson(parseJson(text, file, 'a gesso word tokenizer'), file);
}

/** Writes the tokenizer as JSON via a temp file + rename, so a crash never leaves half a file. */
export async function saveWordTokenizer(tokenizer: WordTokenizer, file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, JSON.stringify(tokenizer.toJSON()) + '\n');
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export interface BuildWordVocabOptions {
  /** Words seen fewer times are left out (become `<unk>`). Default 1. */
  minCount?: number;
  /** Largest vocabulary size, the four special tokens included. Default unbounded. */
  maxSize?: number;
  lowercase?: boolean;
}

/**
 * Vocabulary from training captions: specials, then words by descending count, ties alphabetical
 * (by code unit) so the same captions always give the same ids.
 */
export function buildWordVocab(captions: Iterable<string>, options: BuildWordVocabOptions = {}): string[] {
  const minCount = options.minCount ?? 1;
  const maxSize = options.maxSize ?? Infinity;
  if (!Number.isInteger(minCount) || minCount < 1) throw new InputError(`minCount must be an integer >= 1, got ${minCount}`);
  if (maxSize !== Infinity && (!Number.isInteger(maxSize) || maxSize < WORD_SPECIALS.length)) {
    throw new InputError(`maxSize must be an integer >= ${WORD_SPECIALS.length} (the special tokens), got ${maxSize}`);
  }
  const counts = new Map<string, number>();
  for (const caption of captions) {
    for (const w of splitWords(caption, options.lowercase ?? true)) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  // Words are letter/digit runs, so they can never collide with the bracketed special tokens.
  const words = [...counts]
    .filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([w]) => w);
  return [...WORD_SPECIALS, ...words.slice(0, Math.max(0, maxSize - WORD_SPECIALS.length))];
}
