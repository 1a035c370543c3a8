// What an image file says about how it was made: A1111 `parameters`, gesso's recipe, ComfyUI's graphs,
// XMP provenance, plus any other text chunks. PNGs are parsed here (CRCs checked); other formats give
// size and XMP through sharp. Also decodeImage, the one way gesso turns an image file into pixels.
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { InputError } from '../core/errors.ts';
import { FILE_LIMITS, readRegularFile } from '../core/safe-read.ts';
import { parseA1111Parameters, type A1111Parameters } from './a1111-parameters.ts';
import { summariseComfyUiPrompt, type ComfyUiSummary } from './comfyui.ts';
import { isJsonObject, tryParseJson, type JsonObject, type JsonValue } from '../core/json.ts';
import { readAnimationMetadata } from './animation-metadata.ts';
import { decodeTextChunk, isPng, pngSize, readPngChunks } from './png-chunks.ts';
import { PARAMETERS_KEYWORD, RECIPE_KEYWORD } from './write-image.ts';
import { readXmpFields, XMP_KEYWORD, type XmpFields } from './xmp.ts';

export interface ImageInfo {
  path: string;
  /** 'png', 'jpeg', 'webp', … */
  format: string;
  width: number;
  height: number;
  /** A1111 `parameters`, parsed; `parametersText` is the text as stored. */
  a1111?: A1111Parameters;
  parametersText?: string;
  /** gesso's JSON recipe. */
  recipe?: JsonObject;
  /** ComfyUI's `prompt` (API graph) and `workflow` (UI graph) chunks, parsed, and a summary of the first. */
  comfyui?: { prompt?: JsonValue; workflow?: JsonValue; summary?: ComfyUiSummary };
  /** Fields read from the XMP packet, and the packet itself. */
  xmp?: XmpFields & { packet: string };
  /** IPTC DigitalSourceType URI from the XMP, if any. */
  digitalSourceType?: string;
  /** Text chunks not interpreted above, keyword -> text (a repeated keyword keeps its last text). */
  otherText: Record<string, string>;
  /** Things that were found but could not be read (e.g. a `gesso` chunk that is not JSON). */
  warnings: string[];
}

function readImageBytes(path: string, what = 'image file'): Uint8Array {
  const bytes = readRegularFile(path, { what, maxBytes: FILE_LIMITS.image });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function notAnImage(path: string, reason: string): InputError {
  return new InputError(`${JSON.stringify(path)} is not an image gesso can read (expected PNG, JPEG, WebP, TIFF, GIF or AVIF): ${reason}`);
}

function readPngInfo(path: string, bytes: Uint8Array): ImageInfo {
  const chunks = readPngChunks(bytes, JSON.stringify(path));
  const { width, height } = pngSize(chunks);
  const info: ImageInfo = { path, format: 'png', width, height, otherText: {}, warnings: [] };
  const comfyui: NonNullable<ImageInfo['comfyui']> = {};
  for (const chunk of chunks) {
    let text;
    try {
      text = decodeTextChunk(chunk);
    } catch (err) {
      // One bad text chunk (invalid UTF-8 in an iTXt, say) costs that chunk, not the whole image.
      info.warnings.push(`${(err as Error).message.replace(/^PNG is corrupt: /, '')}; that chunk was skipped`);
      continue;
    }
    if (!text) continue;
    const { keyword } = text;
    if (keyword === PARAMETERS_KEYWORD) {
      info.parametersText = text.text;
      info.a1111 = parseA1111Parameters(text.text);
    } else if (keyword === RECIPE_KEYWORD) {
      const recipe = tryParseJson(text.text);
      if (isJsonObject(recipe)) info.recipe = recipe;
      else keepUnread(info, keyword, text.text, 'is not a JSON object');
    } else if (keyword === 'prompt' || keyword === 'workflow') {
      const graph = tryParseJson(text.text);
      if (graph !== undefined) comfyui[keyword] = graph;
      else keepUnread(info, keyword, text.text, 'is not JSON');
    } else if (keyword === XMP_KEYWORD) {
      addXmp(info, text.text);
    } else {
      info.otherText[keyword] = text.text;
    }
  }
  if (comfyui.prompt !== undefined) {
    const summary = summariseComfyUiPrompt(comfyui.prompt);
    if (summary) comfyui.summary = summary;
  }
  if (Object.keys(comfyui).length > 0) info.comfyui = comfyui;
  return info;
}

function keepUnread(info: ImageInfo, keyword: string, text: string, problem: string): void {
  info.warnings.push(`text chunk ${JSON.stringify(keyword)} ${problem}; kept as plain text`);
  info.otherText[keyword] = text;
}

function addXmp(info: ImageInfo, packet: string): void {
  const fields = readXmpFields(packet);
  info.xmp = { ...fields, packet };
  if (fields.digitalSourceType !== undefined) info.digitalSourceType = fields.digitalSourceType;
}

/** Everything `path` says about how it was made. Throws InputError for a missing, corrupt or non-image file. */
export async function readImageInfo(path: string): Promise<ImageInfo> {
  return readImageInfoFromBytes(readImageBytes(path), path);
}

/** readImageInfo for bytes already in memory (an upload); `path` only labels messages and the result. */
export async function readImageInfoFromBytes(bytes: Uint8Array, path: string): Promise<ImageInfo> {
  if (isPng(bytes)) return readPngInfo(path, bytes);
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    throw notAnImage(path, (err as Error).message);
  }
  if (meta.width === undefined || meta.height === undefined) throw notAnImage(path, 'it has no width and height');
  const info: ImageInfo = { path, format: meta.format ?? 'unknown', width: meta.width, height: meta.height, otherText: {}, warnings: [] };
  if (meta.xmp) addXmp(info, meta.xmp.toString('utf-8'));
  if (meta.format === 'gif' || meta.format === 'webp') {
    // Animations carry gesso's recipe in XMP (and GIF its XMP, which sharp does not read): ./animation-metadata.ts
    let found: ReturnType<typeof readAnimationMetadata> = { comments: [] };
    try {
      found = readAnimationMetadata(bytes, JSON.stringify(path));
    } catch (err) {
      info.warnings.push(`${(err as Error).message}; its metadata was not read`);
    }
    if (found.xmp !== undefined && !info.xmp) addXmp(info, found.xmp);
    if (found.recipe) info.recipe = found.recipe;
    found.comments.filter((c) => !isJsonObject(tryParseJson(c))).forEach((c, i) => (info.otherText[`comment${i ? i + 1 : ''}`] = c));
  }
  return info;
}

export interface DecodedImage {
  /** (H, W, 3) RGB, row-major, values in [0, 1]: channel c of pixel (x, y) is at (y * width + x) * 3 + c. */
  data: Float32Array;
  width: number;
  height: number;
}

/** Largest image gesso decodes unless a use asks for less: 4096 × 4096 (48 MiB as bytes, 192 MiB as floats). */
export const MAX_DECODE_SIDE = 4096;

export interface DecodeLimits {
  /** Names the image in messages: "init image", "mask", "upscale input". */
  what: string;
  /** Largest width and height accepted (default MAX_DECODE_SIDE). */
  maxSide?: number;
  /** What to do about an image that is too large, added to the message. */
  hint?: string;
}

/**
 * The size an image file declares in its header, read without decoding any pixels (a 747 KB PNG can
 * declare 16000 × 16000). PNG from IHDR; other formats through sharp's header-only metadata.
 */
export async function declaredImageSize(bytes: Uint8Array, path: string): Promise<{ width: number; height: number }> {
  if (isPng(bytes)) return pngSize(readPngChunks(bytes, JSON.stringify(path)));
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw notAnImage(path, (err as Error).message);
  }
  if (meta.width === undefined || meta.height === undefined) throw notAnImage(path, 'it has no width and height');
  // EXIF orientations 5-8 swap the axes when the image is turned upright.
  return (meta.orientation ?? 1) >= 5 ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
}

async function checkDeclaredSize(bytes: Uint8Array, path: string, limits: DecodeLimits): Promise<{ width: number; height: number }> {
  const maxSide = limits.maxSide ?? MAX_DECODE_SIDE;
  const declared = await declaredImageSize(bytes, path);
  if (declared.width > maxSide || declared.height > maxSide || declared.width < 1 || declared.height < 1) {
    throw new InputError(
      `${limits.what} ${JSON.stringify(path)} is ${declared.width}x${declared.height}; expected at most ${maxSide}x${maxSide} pixels (nothing was decoded)${limits.hint ? `; ${limits.hint}` : ''}`,
    );
  }
  return declared;
}

/** Checks an image file as decodeImage would (kind, byte size, declared pixel size) without decoding it: for checks before a model loads. */
export async function checkImageFile(path: string, limits: DecodeLimits): Promise<{ width: number; height: number }> {
  return checkDeclaredSize(readImageBytes(path, limits.what), path, limits);
}

/**
 * Decodes any image sharp reads into RGB floats. EXIF orientation is applied (pixels come out upright),
 * grey and CMYK are converted to sRGB, and transparency is flattened onto white.
 * Decompression bombs: the file is capped in bytes, the size its header declares is checked against
 * `limits` before any pixel is decoded, and sharp decodes with the same pixel limit.
 */
export async function decodeImage(path: string, limits: DecodeLimits = { what: 'image file' }): Promise<DecodedImage> {
  return decodeImageBytes(readImageBytes(path, limits.what), path, limits);
}

/** decodeImage for bytes already in memory (an upload); `path` only labels messages. Same header-first limits. */
export async function decodeImageBytes(bytes: Uint8Array, path: string, limits: DecodeLimits = { what: 'image' }): Promise<DecodedImage> {
  const maxSide = limits.maxSide ?? MAX_DECODE_SIDE;
  await checkDeclaredSize(bytes, path, limits);
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(bytes, { limitInputPixels: maxSide * maxSide })
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    if (isPng(bytes)) readPngChunks(bytes, JSON.stringify(path)); // names the bad chunk, if that is the cause
    throw notAnImage(path, (err as Error).message);
  }
  const { width, height, channels } = raw.info;
  if (width > maxSide || height > maxSide) throw notAnImage(path, `decoded to ${width}x${height}, more than its header declared`);
  if (channels !== 3) throw notAnImage(path, `decoded to ${channels} channels, expected 3`);
  const data = new Float32Array(raw.data.length);
  for (let i = 0; i < data.length; i++) data[i] = raw.data[i]! / 255;
  return { data, width, height };
}
