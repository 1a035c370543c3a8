/** Picks the tokenizer a model's `tokenizer/` folder holds, from the files present. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { loadClipTokenizer } from './clip-tokenizer.ts';
import type { Tokenizer } from './tokenizer.ts';
import { loadWordTokenizer, WORD_TOKENIZER_FILE } from './word-tokenizer.ts';

/**
 * `dir` is a tokenizer folder, or a model folder with a `tokenizer/` subfolder.
 * `gesso_tokenizer.json` -> gesso's word tokenizer; `vocab.json`/`merges.txt` -> CLIP BPE.
 */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`tokenizer folder ${dir} does not exist`);
    if (code === 'ENOTDIR') throw new InputError(`tokenizer path ${dir} is a file; expected a folder`);
    throw e;
  }
  if (names.includes(WORD_TOKENIZER_FILE)) return loadWordTokenizer(join(dir, WORD_TOKENIZER_FILE));
  if (names.includes('vocab.json') || names.includes('merges.txt')) return loadClipTokenizer(dir);
  if (names.includes('tokenizer') && (await stat(join(dir, 'tokenizer'))).isDirectory()) return loadTokenizer(join(dir, 'tokenizer'));
  throw new InputError(`${dir} holds no tokenizer: expected ${WORD_TOKENIZER_FILE} (gesso word tokenizer) or vocab.json + merges.txt (CLIP BPE)`);
}
