/**
 * Which textual-inversion embeddings a generation uses: `--embedding FILE` arguments, and every
 * `<word>.safetensors` in an embeddings folder (default ./embeddings, as A1111's) whose word the prompt
 * or negative prompt writes. Only the files used are read, so one broken file in the folder does not
 * stop prompts that never name it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../core/errors.ts';

export const DEFAULT_EMBEDDING_DIR = 'embeddings';

/** The word an embedding file gives a prompt: its name without `.safetensors`. */
export function embeddingWord(path: string): string {
  return basename(path).replace(/\.safetensors$/i, '');
}

/** True when `text` has `word` as a whole word (any case), as the tokenizer will match it. */
export function mentionsWord(text: string, word: string): boolean {
  const escaped = word.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}_-])${escaped}(?![\\p{L}\\p{N}_-])`, 'iu').test(text.normalize('NFC'));
}

/** Embedding files to load: the given ones, then the folder's whose word the prompts use. */
export function chooseEmbeddings(prompts: readonly string[], files: readonly string[], dir = DEFAULT_EMBEDDING_DIR): string[] {
  for (const f of files) if (!existsSync(f)) throw new InputError(`--embedding ${f}: no such file`);
  const chosen = new Map(files.map((f) => [embeddingWord(f).toLowerCase(), f]));
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    for (const name of readdirSync(dir).sort()) {
      if (!/\.safetensors$/i.test(name)) continue;
      const word = embeddingWord(name);
      if (chosen.has(word.toLowerCase()) || !prompts.some((p) => mentionsWord(p, word))) continue;
      chosen.set(word.toLowerCase(), join(dir, name));
    }
  }
  return [...chosen.values()];
}
