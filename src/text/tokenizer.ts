/**
 * The contract every gesso text tokenizer meets, so pipelines and prompt weighting need not know which
 * one a model uses (CLIP BPE for Stable Diffusion, gesso's word tokenizer for its small own models).
 */
export interface Tokenizer {
  /** Length of one encoded sequence, bos and eos included (77 for CLIP). */
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly vocabSize: number;
  /** Id of the "," token if the vocabulary has one (used by A1111's comma backtracking), else undefined. */
  readonly commaId: number | undefined;
  /** Token ids of `text`, without bos/eos/padding. */
  tokenize(text: string): number[];
  /** bos + ids + eos, truncated (eos kept) or padded with padId to exactly maxLength. */
  encode(text: string): EncodedText;
  /** Best-effort text of ids (special tokens dropped); for logs and tests. */
  decode(ids: ArrayLike<number>): string;
}

export interface EncodedText {
  /** (maxLength,) */
  ids: Int32Array;
  /** True when the text had more than maxLength - 2 tokens and some were dropped. */
  truncated: boolean;
}

/** Shared `encode` for tokenizers: wrap ids in bos/eos, keep eos when cutting, pad after it. */
export function wrapAndPad(tokens: readonly number[], t: Pick<Tokenizer, 'maxLength' | 'bosId' | 'eosId' | 'padId'>): EncodedText {
  const room = t.maxLength - 2;
  const truncated = tokens.length > room;
  const ids = new Int32Array(t.maxLength).fill(t.padId);
  ids[0] = t.bosId;
  const n = Math.min(room, tokens.length);
  for (let i = 0; i < n; i++) ids[i + 1] = tokens[i];
  ids[n + 1] = t.eosId;
  return { ids, truncated };
}
