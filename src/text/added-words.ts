/**
 * A tokenizer that knows extra words (textual-inversion embeddings): each added word becomes its own
 * token ids, whatever the base tokenizer would have made of it, and the rest of the text is tokenized
 * as before. Works over any gesso tokenizer (CLIP BPE, the word tokenizer). Words match whole, ignoring
 * case (CLIP and gesso's word tokenizer both lower-case prompts), as A1111 matches embedding names.
 */
import { InputError } from '../core/errors.ts';
import { wrapAndPad, type EncodedText, type Tokenizer } from './tokenizer.ts';

export class TokenizerWithWords implements Tokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly commaId: number | undefined;
  readonly vocabSize: number;
  private readonly ids: Map<string, readonly number[]>;
  private readonly pattern: RegExp;

  /** `words`: word -> its token ids (ids the base vocabulary does not use). */
  constructor(
    readonly base: Tokenizer,
    words: ReadonlyMap<string, readonly number[]>,
  ) {
    this.maxLength = base.maxLength;
    this.bosId = base.bosId;
    this.eosId = base.eosId;
    this.padId = base.padId;
    this.commaId = base.commaId;
    this.ids = new Map([...words].map(([w, ids]) => [w.toLowerCase(), ids]));
    if (this.ids.size !== words.size) throw new InputError(`embedding words differ only in case: ${[...words.keys()].join(', ')}`);
    let top = base.vocabSize - 1;
    for (const ids of words.values()) for (const id of ids) top = Math.max(top, id);
    this.vocabSize = top + 1;
    // Longest first, so "cat_v2" wins over "cat"; a word is whole when no letter, digit, _ or - touches it.
    const alternatives = [...this.ids.keys()].sort((a, b) => b.length - a.length).map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
    this.pattern = new RegExp(`(?<![\\p{L}\\p{N}_-])(${alternatives.join('|')})(?![\\p{L}\\p{N}_-])`, 'giu');
  }

  tokenize(text: string): number[] {
    if (this.ids.size === 0) return this.base.tokenize(text);
    const norm = text.normalize('NFC');
    const out: number[] = [];
    let at = 0;
    for (const m of norm.matchAll(this.pattern)) {
      const index = m.index ?? 0;
      out.push(...this.base.tokenize(norm.slice(at, index)), ...(this.ids.get(m[0].toLowerCase()) ?? []));
      at = index + m[0].length;
    }
    out.push(...this.base.tokenize(norm.slice(at)));
    return out;
  }

  encode(text: string): EncodedText {
    return wrapAndPad(this.tokenize(text), this);
  }

  decode(ids: ArrayLike<number>): string {
    const wordOf = new Map<number, string>();
    for (const [w, list] of this.ids) list.forEach((id, i) => wordOf.set(id, i === 0 ? w : ''));
    const parts: string[] = [];
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 0) parts.push(this.base.decode(run));
      run = [];
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      const word = wordOf.get(id);
      if (word === undefined) run.push(id);
      else {
        flush();
        if (word !== '') parts.push(word);
      }
    }
    flush();
    return parts.filter((p) => p !== '').join(' ');
  }

  /** The words this tokenizer added, lower-cased. */
  get words(): string[] {
    return [...this.ids.keys()];
  }
}
