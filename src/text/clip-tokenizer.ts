/**
 * CLIP's byte-level BPE tokenizer, as Stable Diffusion 1.x/2.x text encoders expect it, loaded from a
 * model's `tokenizer/` folder (`vocab.json` + `merges.txt`, optional `tokenizer_config.json` and
 * `special_tokens_map.json`).
 *
 * Steps, following OpenAI CLIP's `simple_tokenizer.py` (Radford et al. 2021, MIT):
 *   1. clean: Unicode NFC (what ftfy's fix_text applies), fold runs of whitespace to one space, trim,
 *      lower-case. (CLIP also html-unescapes; prompts rarely carry entities, so we don't.)
 *   2. split with CLIP's pattern: the two special tokens, contractions 's 't 're 've 'm 'll 'd, runs of
 *      letters, single digits, runs of other non-space symbols.
 *   3. map each piece's UTF-8 bytes to printable characters (GPT-2's bytes_to_unicode table), mark the
 *      last character with `</w>`, and apply merges by rank (lowest rank first, every occurrence of
 *      the chosen pair left to right) until no adjacent pair has a rank.
 */
import { parseJson } from '../core/json.ts';
import { existsSync } from 'node:fs';
import { readTextFile } from '../core/safe-read.ts';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { wrapAndPad, type EncodedText, type Tokenizer } from './tokenizer.ts';

const START = '<|startoftext|>';
const END = '<|endoftext|>';
const END_OF_WORD = '</w>';
const PIECE = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;
/** Default sequence length of SD text encoders, used when the config gives none (or HF's "unset" 1e30). */
const DEFAULT_MAX_LENGTH = 77;
/** Word-cache bound, so a long-running server fed endless distinct words does not grow without end. */
const CACHE_LIMIT = 50_000;

/** GPT-2/CLIP's reversible byte -> printable character table (printable Latin-1 bytes map to themselves). */
function bytesToUnicode(): string[] {
  const table: string[] = new Array<string>(256);
  const keep = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(keep(b) ? b : 256 + n++);
  return table;
}
const BYTE_TO_CHAR = bytesToUnicode();
const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** CLIP's text cleanup (step 1 above). */
export function cleanClipText(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase();
}

/** CLIP's pre-tokenization (step 2 above) of already cleaned text. */
export function splitClipPieces(cleaned: string): string[] {
  return cleaned.match(PIECE) ?? [];
}

export interface ClipTokenizerOptions {
  maxLength?: number;
  /** Token used for padding; SD 1.x uses `<|endoftext|>`, some SD 2.x exports `!` (id 0). */
  padToken?: string;
  bosToken?: string;
  eosToken?: string;
  unkToken?: string;
}

export class ClipTokenizer implements Tokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;
  readonly vocabSize: number;
  readonly commaId: number | undefined;
  private readonly encoder: Map<string, number>;
  private readonly decoder: Map<number, string>;
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, number[]>();

  /**
   * @param vocab token -> id, as in vocab.json
   * @param merges merge pairs in rank order, as in merges.txt (without the header)
   */
  constructor(vocab: ReadonlyMap<string, number>, merges: ReadonlyArray<readonly [string, string]>, options: ClipTokenizerOptions = {}) {
    this.encoder = new Map(vocab);
    this.decoder = new Map();
    let maxId = -1;
    for (const [token, id] of this.encoder) {
      this.decoder.set(id, token);
      if (id > maxId) maxId = id;
    }
    this.vocabSize = maxId + 1;
    this.ranks = new Map();
    merges.forEach(([a, b], rank) => {
      const key = `${a} ${b}`;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
    const idOf = (token: string, role: string): number => {
      const id = this.encoder.get(token);
      if (id === undefined) throw new InputError(`CLIP vocabulary has no ${role} token ${JSON.stringify(token)}`);
      return id;
    };
    this.bosId = idOf(options.bosToken ?? START, 'bos');
    this.eosId = idOf(options.eosToken ?? END, 'eos');
    this.padId = idOf(options.padToken ?? options.eosToken ?? END, 'pad');
    this.unkId = idOf(options.unkToken ?? END, 'unk');
    this.commaId = this.encoder.get(`,${END_OF_WORD}`);
    const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
    if (!Number.isInteger(maxLength) || maxLength < 3) {
      throw new InputError(`CLIP tokenizer maxLength must be an integer >= 3, got ${maxLength}`);
    }
    this.maxLength = maxLength;
    // The special tokens are whole pieces of the split; map them straight to their ids.
    this.cache.set(START, [this.bosId]);
    this.cache.set(END, [this.eosId]);
  }

  tokenize(text: string): number[] {
    const out: number[] = [];
    for (const piece of splitClipPieces(cleanClipText(text))) {
      for (const id of this.pieceIds(piece)) out.push(id);
    }
    return out;
  }

  encode(text: string): EncodedText {
    return wrapAndPad(this.tokenize(text), this);
  }

  decode(ids: ArrayLike<number>): string {
    const specials = new Set([this.bosId, this.eosId, this.padId]);
    let symbols = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (specials.has(id)) continue;
      symbols += this.decoder.get(id) ?? '';
    }
    const bytes: number[] = [];
    for (const word of symbols.split(END_OF_WORD)) {
      for (const ch of word) {
        const b = CHAR_TO_BYTE.get(ch);
        if (b !== undefined) bytes.push(b);
      }
      bytes.push(0x20);
    }
    return new TextDecoder().decode(new Uint8Array(bytes)).replace(/ +/g, ' ').trim();
  }

  /** Ids of one pre-tokenized piece, cached: prompts repeat the same words a lot. */
  private pieceIds(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    const symbols = Array.from(new TextEncoder().encode(piece), (b) => BYTE_TO_CHAR[b]);
    symbols[symbols.length - 1] += END_OF_WORD;
    const ids = this.bpe(symbols).map((s) => this.encoder.get(s) ?? this.unkId);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }

  /** Merge adjacent symbols by rank until none of the adjacent pairs is a merge. */
  private bpe(start: string[]): string[] {
    let syms = start;
    // ranks[i] = rank of pair (syms[i], syms[i+1]); kept across rounds so only pairs next to a merge are looked up again.
    let pairRanks = syms.slice(1).map((s, i) => this.rank(syms[i], s));
    while (syms.length > 1) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i < pairRanks.length; i++) {
        if (pairRanks[i] < best) {
          best = pairRanks[i];
          at = i;
        }
      }
      if (at < 0) break;
      const first = syms[at];
      const second = syms[at + 1];
      const next: string[] = [];
      const merged: boolean[] = [];
      const from: number[] = []; // index in syms where next[j] starts
      for (let i = 0; i < syms.length; ) {
        from.push(i);
        if (i + 1 < syms.length && syms[i] === first && syms[i + 1] === second) {
          next.push(first + second);
          merged.push(true);
          i += 2;
        } else {
          next.push(syms[i]);
          merged.push(false);
          i += 1;
        }
      }
      const nextRanks: number[] = new Array<number>(next.length - 1);
      for (let j = 0; j + 1 < next.length; j++) {
        nextRanks[j] = merged[j] || merged[j + 1] ? this.rank(next[j], next[j + 1]) : pairRanks[from[j]];
      }
      syms = next;
      pairRanks = nextRanks;
    }
    return syms;
  }

  private rank(a: string, b: string): number {
    return this.ranks.get(`${a} ${b}`) ?? Infinity;
  }
}

/** Parses vocab.json text; `file` names the file in errors. */
export function parseClipVocab(text: string, file: string): Map<string, number> {
  const raw = parseJson(text, file, 'an object mapping token to id');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError(`${file} must be a JSON object mapping token to id, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(raw)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new InputError(`${file}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}; expected a non-negative integer`);
    }
    vocab.set(token, id);
  }
  if (vocab.size === 0) throw new InputError(`${file} has no tokens`);
  return vocab;
}

/** Parses merges.txt text (optional `#version` header, then one `a b` pair a line in rank order). */
export function parseClipMerges(text: string, file: string): Array<[string, string]> {
  const merges: Array<[string, string]> = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '' || (i === 0 && line.startsWith('#version'))) continue;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new InputError(`${file} line ${i + 1}: expected two symbols separated by one space, got ${JSON.stringify(line.slice(0, 80))}`);
    }
    merges.push([parts[0], parts[1]]);
  }
  if (merges.length === 0) throw new InputError(`${file} has no merges`);
  return merges;
}

/** Reads a JSON file if it exists; undefined if absent; InputError naming the file if malformed. */
async function readOptionalJsonObject(file: string): Promise<Record<string, unknown> | undefined> {
  if (!existsSync(file)) return undefined;
  const text = readTextFile(file, 'tokenizer file');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file} is not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(`${file} must hold a JSON object`);
  return raw as Record<string, unknown>;
}

/** HF writes special tokens either as a string or as `{ "content": "..." }` (AddedToken). */
function tokenName(value: unknown, file: string, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  throw new InputError(`${file}: ${key} must be a string or {"content": string}, got ${JSON.stringify(value)}`);
}

async function readRequired(file: string): Promise<string> {
  try {
    return readTextFile(file, 'tokenizer file');
  } catch (e) {
    if (!existsSync(file)) {
      throw new InputError(`tokenizer folder is missing ${file}; a CLIP tokenizer needs vocab.json and merges.txt`);
    }
    throw e;
  }
}

/** Loads a CLIP tokenizer from a Stable Diffusion `tokenizer/` folder. */
export async function loadClipTokenizer(dir: string): Promise<ClipTokenizer> {
  const vocabFile = join(dir, 'vocab.json');
  const mergesFile = join(dir, 'merges.txt');
  const configFile = join(dir, 'tokenizer_config.json');
  const mapFile = join(dir, 'special_tokens_map.json');
  const vocab = parseClipVocab(await readRequired(vocabFile), vocabFile);
  const merges = parseClipMerges(await readRequired(mergesFile), mergesFile);
  const config = (await readOptionalJsonObject(configFile)) ?? {};
  const map = (await readOptionalJsonObject(mapFile)) ?? {};

  const options: ClipTokenizerOptions = {};
  // special_tokens_map.json wins over tokenizer_config.json, as in transformers.
  for (const key of ['pad_token', 'bos_token', 'eos_token', 'unk_token'] as const) {
    const name = tokenName(map[key], mapFile, key) ?? tokenName(config[key], configFile, key);
    if (name === undefined) continue;
    if (!vocab.has(name)) {
      throw new InputError(`${key} ${JSON.stringify(name)} (from ${map[key] !== undefined ? mapFile : configFile}) is not in ${vocabFile}`);
    }
    if (key === 'pad_token') options.padToken = name;
    else if (key === 'bos_token') options.bosToken = name;
    else if (key === 'eos_token') options.eosToken = name;
    else options.unkToken = name;
  }
  const len = config.model_max_length;
  // transformers writes a huge sentinel (1e30) when no length is set; only take plausible values.
  if (typeof len === 'number' && Number.isInteger(len) && len >= 3 && len <= 4096) options.maxLength = len;
  try {
    return new ClipTokenizer(vocab, merges, options);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${vocabFile}: ${e.message}`);
    throw e;
  }
}
