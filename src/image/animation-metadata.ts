// Provenance inside animated WebP and GIF files, as PNGs carry it in text chunks (./write-image.ts):
//   WebP: an `XMP ` chunk (WebP container spec: extended format, VP8X flag bit 0x04), holding IPTC
//         DigitalSourceType, CreatorTool and gesso's recipe (gesso:recipe);
//   GIF:  the same XMP packet in an application extension `XMP DataXMP` (XMP spec part 3: raw packet
//         bytes followed by the 258-byte "magic trailer", so readers that walk sub-blocks skip it), and
//         the recipe JSON in a comment extension, which most GIF tools show.
// Both are inserted into the bytes an encoder (sharp) wrote; the frames are not touched.
import { concatBytes } from '../core/bytes.ts';
import { InputError } from '../core/errors.ts';
import { tryParseJson, isJsonObject, type JsonObject } from '../core/json.ts';
import { metadataXmp, type ImageMetadata } from './write-image.ts';
import { buildXmpPacket, readXmpFields } from './xmp.ts';

export interface AnimationMetadata {
  /** The XMP packet, if the file has one. */
  xmp?: string;
  /** gesso's recipe, from the XMP packet or (GIF) a comment holding a JSON object. */
  recipe?: JsonObject;
  /** GIF comment extensions, in order. */
  comments: string[];
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** `bytes` (a WebP or GIF) with `metadata` embedded: XMP with IPTC provenance and the recipe. */
export function embedAnimationMetadata(bytes: Uint8Array, metadata: ImageMetadata, label = 'animation'): Uint8Array {
  const recipe = metadata.recipe !== undefined ? JSON.stringify(metadata.recipe) : undefined;
  const xmp = buildXmpPacket({ ...metadataXmp(metadata), ...(recipe !== undefined ? { recipe } : {}) });
  if (isWebp(bytes)) return embedWebpXmp(bytes, xmp, label);
  if (isGif(bytes)) return embedGif(bytes, xmp, recipe, label);
  throw new InputError(`${label}: metadata can be embedded in WebP and GIF files only`);
}

/** What embedAnimationMetadata wrote (or another tool's XMP / GIF comments). */
export function readAnimationMetadata(bytes: Uint8Array, label = 'animation'): AnimationMetadata {
  const found: { xmp?: string; comments: string[] } = isWebp(bytes) ? readWebpXmp(bytes, label) : isGif(bytes) ? readGif(bytes, label) : { comments: [] };
  const out: AnimationMetadata = { comments: found.comments };
  if (found.xmp !== undefined) out.xmp = found.xmp;
  const candidates = [found.xmp !== undefined ? readXmpFields(found.xmp).recipe : undefined, ...found.comments];
  for (const c of candidates) {
    const parsed = c !== undefined ? tryParseJson(c) : undefined;
    if (isJsonObject(parsed)) {
      out.recipe = parsed;
      break;
    }
  }
  return out;
}

export function isWebp(b: Uint8Array): boolean {
  return b.length >= 12 && text(b.subarray(0, 4)) === 'RIFF' && text(b.subarray(8, 12)) === 'WEBP';
}

export function isGif(b: Uint8Array): boolean {
  return b.length >= 13 && /^GIF8[79]a$/.test(text(b.subarray(0, 6)));
}

// ---- WebP (RIFF): chunks of FourCC, u32le size, payload, a pad byte when the size is odd.

interface RiffChunk {
  fourcc: string;
  payload: Uint8Array;
}

function readRiffChunks(b: Uint8Array, label: string): RiffChunk[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = Math.min(b.length, 8 + view.getUint32(4, true));
  const chunks: RiffChunk[] = [];
  for (let at = 12; at < end; ) {
    if (at + 8 > end) throw new InputError(`${label}: WebP chunk header at byte ${at} runs past the end`);
    const size = view.getUint32(at + 4, true);
    if (at + 8 + size > end) throw new InputError(`${label}: WebP chunk ${text(b.subarray(at, at + 4))} at byte ${at} runs past the end`);
    chunks.push({ fourcc: text(b.subarray(at, at + 4)), payload: b.subarray(at + 8, at + 8 + size) });
    at += 8 + size + (size % 2);
  }
  return chunks;
}

function writeRiff(chunks: RiffChunk[]): Uint8Array {
  const body = chunks.reduce((n, c) => n + 8 + c.payload.length + (c.payload.length % 2), 0);
  const out = new Uint8Array(12 + body);
  const view = new DataView(out.buffer);
  out.set(ascii('RIFF'), 0);
  view.setUint32(4, 4 + body, true);
  out.set(ascii('WEBP'), 8);
  let at = 12;
  for (const c of chunks) {
    out.set(ascii(c.fourcc), at);
    view.setUint32(at + 4, c.payload.length, true);
    out.set(c.payload, at + 8);
    at += 8 + c.payload.length + (c.payload.length % 2);
  }
  return out;
}

const VP8X_XMP_FLAG = 0x04;

function embedWebpXmp(b: Uint8Array, xmp: string, label: string): Uint8Array {
  const chunks = readRiffChunks(b, label).filter((c) => c.fourcc !== 'XMP ');
  const vp8x = chunks[0];
  // sharp writes animations in the extended format; a simple (VP8/VP8L-only) file would need a VP8X first.
  if (vp8x?.fourcc !== 'VP8X') throw new InputError(`${label}: WebP without a VP8X header (not an animation); cannot embed XMP`);
  const header = Uint8Array.from(vp8x.payload);
  header[0] = (header[0] as number) | VP8X_XMP_FLAG;
  return writeRiff([{ fourcc: 'VP8X', payload: header }, ...chunks.slice(1), { fourcc: 'XMP ', payload: ascii(xmp) }]);
}

function readWebpXmp(b: Uint8Array, label: string): { xmp?: string; comments: string[] } {
  const chunk = readRiffChunks(b, label).find((c) => c.fourcc === 'XMP ');
  return chunk ? { xmp: text(chunk.payload), comments: [] } : { comments: [] };
}

// ---- GIF: header, logical screen descriptor (+ global colour table), then blocks until 0x3B.

const XMP_APP_ID = 'XMP DataXMP';
/** XMP spec part 3, GIF: 0x01, 0xFF, 0xFE … 0x01, 0x00, then the 0x00 block terminator. */
const MAGIC_TRAILER = Uint8Array.from({ length: 258 }, (_, i) => (i === 0 ? 1 : i === 257 ? 0 : 256 - i));

function afterColourTable(b: Uint8Array): number {
  const packed = b[10] as number;
  return 13 + (packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0);
}

function subBlocks(data: Uint8Array): Uint8Array {
  const parts: number[] = [];
  for (let i = 0; i < data.length; i += 255) {
    const piece = data.subarray(i, i + 255);
    parts.push(piece.length, ...piece);
  }
  parts.push(0);
  return Uint8Array.from(parts);
}

function embedGif(b: Uint8Array, xmp: string, recipe: string | undefined, label: string): Uint8Array {
  const at = afterColourTable(b);
  if (at > b.length) throw new InputError(`${label}: GIF colour table runs past the end`);
  const blocks: Uint8Array[] = [];
  if (recipe !== undefined) blocks.push(Uint8Array.of(0x21, 0xfe), subBlocks(ascii(recipe)));
  blocks.push(Uint8Array.of(0x21, 0xff, 11), ascii(XMP_APP_ID), ascii(xmp), MAGIC_TRAILER);
  const inserted = blocks.reduce((n, x) => n + x.length, 0);
  const out = new Uint8Array(b.length + inserted);
  out.set(b.subarray(0, at), 0);
  out.set(ascii('GIF89a'), 0); // extensions need GIF89a
  let p = at;
  for (const x of blocks) {
    out.set(x, p);
    p += x.length;
  }
  out.set(b.subarray(at), p);
  return out;
}

function readGif(b: Uint8Array, label: string): { xmp?: string; comments: string[] } {
  const out: { xmp?: string; comments: string[] } = { comments: [] };
  const need = (i: number): number => {
    if (i >= b.length) throw new InputError(`${label}: GIF ends inside a block (byte ${i})`);
    return b[i] as number;
  };
  /** Reads sub-blocks from `i`; returns their data and the index after the terminator. */
  const readSubBlocks = (i: number): [Uint8Array, number] => {
    const parts: Uint8Array[] = [];
    for (let n = need(i); n !== 0; n = need(i)) {
      parts.push(b.subarray(i + 1, i + 1 + n));
      i += 1 + n;
    }
    return [concatBytes(parts), i + 1];
  };
  for (let i = afterColourTable(b); i < b.length; ) {
    const kind = need(i);
    if (kind === 0x3b) break;
    if (kind === 0x2c) {
      const packed = need(i + 9);
      i += 10 + (packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0) + 1; // descriptor, local colours, LZW code size
      i = readSubBlocks(i)[1];
    } else if (kind === 0x21 && need(i + 1) === 0xff && need(i + 2) === 11 && text(b.subarray(i + 3, i + 14)) === XMP_APP_ID) {
      const start = i + 14;
      const end = indexOf(b, MAGIC_TRAILER.subarray(0, 4), start);
      if (end < 0) throw new InputError(`${label}: GIF XMP extension has no magic trailer`);
      out.xmp = text(b.subarray(start, end));
      i = end + MAGIC_TRAILER.length;
    } else if (kind === 0x21) {
      const [data, next] = readSubBlocks(i + 2);
      if (need(i + 1) === 0xfe) out.comments.push(text(data));
      i = next;
    } else throw new InputError(`${label}: unexpected GIF block 0x${kind.toString(16)} at byte ${i}`);
  }
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}
