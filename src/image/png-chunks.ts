// PNG chunk reading and text-chunk writing, on raw bytes (PNG spec, W3C 3rd edition, §5 and §11.3.3).
// A PNG is an 8-byte signature followed by chunks: length (u32 BE), type (4 ASCII letters), data, CRC-32
// of type + data. Text chunks: tEXt (Latin-1), zTXt (zlib-compressed Latin-1), iTXt (UTF-8, optionally
// zlib-compressed, with a language tag and a translated keyword).
import * as zlib from 'node:zlib';
import { deflateSync, inflateSync } from 'node:zlib';
import { concatBytes } from '../core/bytes.ts';
import { InputError } from '../core/errors.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Refuse to inflate a text chunk past this size: a tiny zTXt can otherwise expand to gigabytes. */
const MAX_INFLATED_TEXT = 64 * 1024 * 1024;

export interface PngChunk {
  type: string;
  /** Byte offset of the chunk's length field in the file. */
  offset: number;
  data: Uint8Array;
}

export type TextChunkType = 'tEXt' | 'zTXt' | 'iTXt';

export interface PngText {
  keyword: string;
  text: string;
  type: TextChunkType;
  compressed: boolean;
  /** iTXt only: RFC 3066 language tag, '' when unset. */
  languageTag?: string;
  /** iTXt only: the keyword translated into the language tag, '' when unset. */
  translatedKeyword?: string;
}

/** What to write: a tEXt when `type` is omitted and the text is ASCII, otherwise an iTXt (UTF-8). */
export interface PngTextToWrite {
  keyword: string;
  text: string;
  type?: TextChunkType;
  /** iTXt only; zTXt is always compressed and tEXt never is. */
  compress?: boolean;
  languageTag?: string;
  translatedKeyword?: string;
}

// CRC-32 as in ISO 3309 / PNG spec Annex D: reflected polynomial 0xEDB88320, table-driven.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

// zlib's native crc32 (Node >= 20.15) is ~10x faster than the table; older Node 20 lacks it.
const nativeCrc32: ((data: Uint8Array) => number) | undefined = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (nativeCrc32) return nativeCrc32(bytes.subarray(start, end)) >>> 0;
  return tableCrc32(bytes, start, end);
}

/** The portable CRC-32, exported so tests can check it against the native one. */
export function tableCrc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function hex32(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * Every chunk of a PNG, in file order, with CRCs checked. Throws InputError naming the chunk and byte
 * offset for a bad signature, a truncated chunk, a bad CRC or a missing IEND. `label` names the file.
 */
export function readPngChunks(png: Uint8Array, label = 'PNG data'): PngChunk[] {
  if (!isPng(png)) {
    const head = Array.from(png.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new InputError(`${label} is not a PNG file: expected the PNG signature 89 50 4e 47 0d 0a 1a 0a, found "${head}"`);
  }
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: PngChunk[] = [];
  let offset = 8;
  while (true) {
    if (offset + 8 > png.length) {
      const last = chunks.at(-1)?.type ?? 'signature';
      throw new InputError(`${label} is truncated: it ends at byte ${png.length}, after chunk ${last}, without an IEND chunk`);
    }
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) {
      throw new InputError(`${label} is corrupt: chunk at byte ${offset} has type ${JSON.stringify(type)}, expected 4 ASCII letters`);
    }
    if (length > 0x7fffffff) {
      throw new InputError(`${label} is corrupt: chunk ${type} at byte ${offset} declares length ${length}, over the PNG limit 2^31-1`);
    }
    const dataStart = offset + 8;
    const end = dataStart + length + 4;
    if (end > png.length) {
      throw new InputError(`${label} is truncated: chunk ${type} at byte ${offset} needs ${length + 12} bytes but only ${png.length - offset} remain`);
    }
    const stored = view.getUint32(dataStart + length);
    const computed = crc32(png, offset + 4, dataStart + length);
    if (stored !== computed) {
      throw new InputError(`${label} is corrupt: bad CRC in chunk ${type} at byte ${offset} (stored ${hex32(stored)}, computed ${hex32(computed)})`);
    }
    chunks.push({ type, offset, data: png.subarray(dataStart, dataStart + length) });
    offset = end;
    if (type === 'IEND') return chunks;
  }
}

/** Width and height from the IHDR chunk (which the spec requires to come first). */
export function pngSize(chunks: PngChunk[]): { width: number; height: number } {
  const ihdr = chunks[0];
  if (ihdr?.type !== 'IHDR' || ihdr.data.length < 8) {
    throw new InputError(`PNG is corrupt: expected an IHDR chunk first, found ${ihdr?.type ?? 'no chunk'}`);
  }
  const view = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, ihdr.data.byteLength);
  return { width: view.getUint32(0), height: view.getUint32(4) };
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function inflate(bytes: Uint8Array, where: string): Uint8Array {
  try {
    return inflateSync(bytes, { maxOutputLength: MAX_INFLATED_TEXT });
  } catch (err) {
    throw new InputError(`PNG is corrupt: cannot inflate the compressed text of ${where}: ${(err as Error).message}`);
  }
}

/** Decodes one tEXt, zTXt or iTXt chunk; returns undefined for other chunk types. */
export function decodeTextChunk(chunk: PngChunk): PngText | undefined {
  if (chunk.type !== 'tEXt' && chunk.type !== 'zTXt' && chunk.type !== 'iTXt') return undefined;
  const where = `chunk ${chunk.type} at byte ${chunk.offset}`;
  const d = chunk.data;
  const nul = d.indexOf(0);
  if (nul < 1 || nul > 79) throw new InputError(`PNG is corrupt: ${where} has no keyword of 1-79 bytes ended by a NUL`);
  const keyword = latin1(d.subarray(0, nul));
  if (chunk.type === 'tEXt') return { keyword, text: latin1(d.subarray(nul + 1)), type: 'tEXt', compressed: false };
  if (chunk.type === 'zTXt') {
    if (d[nul + 1] !== 0) throw new InputError(`PNG is corrupt: ${where} uses compression method ${d[nul + 1]}, expected 0 (zlib)`);
    return { keyword, text: latin1(inflate(d.subarray(nul + 2), where)), type: 'zTXt', compressed: true };
  }
  // iTXt: keyword \0 flag method language \0 translated \0 text
  const flag = d[nul + 1];
  const method = d[nul + 2];
  const langEnd = d.indexOf(0, nul + 3);
  const transEnd = langEnd < 0 ? -1 : d.indexOf(0, langEnd + 1);
  if (flag === undefined || flag > 1 || transEnd < 0) throw new InputError(`PNG is corrupt: ${where} has a malformed iTXt header`);
  if (flag === 1 && method !== 0) throw new InputError(`PNG is corrupt: ${where} uses compression method ${method}, expected 0 (zlib)`);
  const body = d.subarray(transEnd + 1);
  let text: string;
  let translatedKeyword: string;
  try {
    text = utf8Decoder.decode(flag === 1 ? inflate(body, where) : body);
    translatedKeyword = utf8Decoder.decode(d.subarray(langEnd + 1, transEnd));
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`PNG is corrupt: ${where} (keyword ${JSON.stringify(keyword)}) is not valid UTF-8`);
  }
  return {
    keyword,
    text,
    type: 'iTXt',
    compressed: flag === 1,
    languageTag: latin1(d.subarray(nul + 3, langEnd)),
    translatedKeyword,
  };
}

/** Every text chunk of a PNG, in file order (a keyword may repeat). */
export function readPngText(png: Uint8Array, label?: string): PngText[] {
  const out: PngText[] = [];
  for (const chunk of readPngChunks(png, label)) {
    const text = decodeTextChunk(chunk);
    if (text) out.push(text);
  }
  return out;
}

function checkKeyword(keyword: string): void {
  // Spec §11.3.3.2: 1-79 printable Latin-1 characters, no leading, trailing or doubled spaces.
  const ok = /^[\x21-\x7e\xa1-\xff](?:[\x20-\x7e\xa1-\xff]{0,77}[\x21-\x7e\xa1-\xff])?$/.test(keyword) && !keyword.includes('  ');
  if (!ok) {
    throw new InputError(
      `PNG text keyword ${JSON.stringify(keyword)} is invalid: expected 1-79 printable Latin-1 characters without leading, trailing or double spaces`,
    );
  }
}

function latin1Bytes(text: string, what: string): Uint8Array {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || c === 0) {
      throw new InputError(`${what} has character U+${c.toString(16).padStart(4, '0')} at index ${i}, which a Latin-1 text chunk cannot hold; use iTXt`);
    }
  }
  return Buffer.from(text, 'latin1');
}

/** A complete chunk (length, type, data, CRC) ready to splice into a PNG. */
export function encodeChunk(type: string, data: Uint8Array): Uint8Array {
  if (!/^[A-Za-z]{4}$/.test(type)) throw new InputError(`PNG chunk type ${JSON.stringify(type)} is invalid: expected 4 ASCII letters`);
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

function isAscii(text: string): boolean {
  return /^[\x01-\x7f]*$/.test(text);
}

/** Encodes one text chunk. Without an explicit type, ASCII text goes in tEXt and anything else in iTXt. */
export function encodeTextChunk(t: PngTextToWrite): Uint8Array {
  checkKeyword(t.keyword);
  const type = t.type ?? (isAscii(t.text) ? 'tEXt' : 'iTXt');
  const key = Buffer.from(t.keyword, 'latin1');
  const what = `text for PNG keyword ${JSON.stringify(t.keyword)}`;
  if (type === 'tEXt') return encodeChunk('tEXt', concatBytes([key, Uint8Array.of(0), latin1Bytes(t.text, what)]));
  if (type === 'zTXt') return encodeChunk('zTXt', concatBytes([key, Uint8Array.of(0, 0), deflateSync(latin1Bytes(t.text, what))]));
  const language = latin1Bytes(t.languageTag ?? '', `language tag of PNG keyword ${JSON.stringify(t.keyword)}`);
  const utf8 = Buffer.from(t.text, 'utf-8');
  const body = t.compress ? deflateSync(utf8) : utf8;
  return encodeChunk(
    'iTXt',
    concatBytes([
      key,
      Uint8Array.of(0, t.compress ? 1 : 0, 0),
      language,
      Uint8Array.of(0),
      Buffer.from(t.translatedKeyword ?? '', 'utf-8'),
      Uint8Array.of(0),
      body,
    ]),
  );
}

/**
 * Where inserted text goes. Default 'IDAT' (just before the first IDAT), where PIL and so A1111 put
 * theirs: header-only readers stop at the image data, and libvips (sharp's `metadata()`) reports
 * `comments` and `xmp` only for chunks found before IDAT. 'IEND' appends after the image data.
 */
export type TextPlacement = 'IDAT' | 'IEND';

/** A copy of `png` with the given text chunks inserted (the PNG is validated first). */
export function insertTextChunks(png: Uint8Array, texts: PngTextToWrite[], options: { before?: TextPlacement; label?: string } = {}): Uint8Array {
  const chunks = readPngChunks(png, options.label);
  const before = options.before ?? 'IDAT';
  const anchor = chunks.find((c) => c.type === before);
  if (!anchor) throw new InputError(`${options.label ?? 'PNG data'} is corrupt: it has no ${before} chunk`);
  return concatBytes([png.subarray(0, anchor.offset), ...texts.map(encodeTextChunk), png.subarray(anchor.offset)]);
}
