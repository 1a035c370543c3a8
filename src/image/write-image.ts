// Encodes pixels to PNG with sharp, then adds gesso's provenance chunks:
//   `parameters`         A1111 settings text (tEXt, or iTXt when not ASCII), read by A1111, Civitai, …
//   `gesso`              the full JSON recipe that reproduces the image (iTXt, zlib-compressed when large)
//   `XML:com.adobe.xmp`  XMP with IPTC DigitalSourceType, the prompt and CreatorTool (uncompressed iTXt)
import sharp from 'sharp';
import { GessoError, InputError } from '../core/errors.ts';
import { writeNewFile } from '../core/output-file.ts';
import { formatA1111Parameters, type A1111Parameters } from './a1111-parameters.ts';
import { insertTextChunks, type PngTextToWrite } from './png-chunks.ts';
import { buildXmpPacket, COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, TRAINED_ALGORITHMIC_MEDIA, XMP_KEYWORD, type XmpFields } from './xmp.ts';

export const PARAMETERS_KEYWORD = 'parameters';
export const RECIPE_KEYWORD = 'gesso';
export const CREATOR_TOOL = 'gesso';
/** Recipes longer than this many characters are zlib-compressed in their iTXt chunk. */
const COMPRESS_RECIPE_ABOVE = 2048;

export interface ImageMetadata {
  /** Settings written as A1111 `parameters` text. */
  parameters?: A1111Parameters;
  /**
   * The full recipe as a JSON object (pipelines decide its content: model hash, scheduler config, every
   * setting, seed, lineage). Any plain object that JSON.stringify accepts.
   */
  recipe?: object;
  /** 'generated' (default): made from a prompt; 'edited': a user's image changed by a model (img2img, style). */
  source?: 'generated' | 'edited';
  /** Overrides for the XMP packet; description defaults to the prompt. */
  xmp?: Partial<XmpFields>;
}

/** The text chunks gesso adds for this metadata, in the order they are written. */
export function metadataChunks(metadata: ImageMetadata): PngTextToWrite[] {
  const chunks: PngTextToWrite[] = [];
  if (metadata.parameters) chunks.push({ keyword: PARAMETERS_KEYWORD, text: formatA1111Parameters(metadata.parameters) });
  if (metadata.recipe !== undefined) {
    const json = recipeJson(metadata.recipe);
    chunks.push({ keyword: RECIPE_KEYWORD, text: json, type: 'iTXt', compress: json.length > COMPRESS_RECIPE_ABOVE });
  }
  chunks.push({ keyword: XMP_KEYWORD, text: buildXmpPacket(metadataXmp(metadata)), type: 'iTXt', compress: false });
  return chunks;
}

/** The XMP fields for this metadata: IPTC DigitalSourceType, CreatorTool, the prompt as description. */
export function metadataXmp(metadata: ImageMetadata): XmpFields {
  return {
    digitalSourceType: metadata.source === 'edited' ? COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA : TRAINED_ALGORITHMIC_MEDIA,
    creatorTool: CREATOR_TOOL,
    ...(metadata.parameters?.prompt !== undefined ? { description: metadata.parameters.prompt } : {}),
    ...metadata.xmp,
  };
}

function recipeJson(recipe: object): string {
  if (recipe === null || Array.isArray(recipe)) throw new GessoError(`image recipe must be a JSON object, got ${Array.isArray(recipe) ? 'an array' : 'null'}`);
  try {
    return JSON.stringify(recipe);
  } catch (err) {
    throw new GessoError(`image recipe cannot be written as JSON: ${(err as Error).message}`);
  }
}

/**
 * 8-bit samples from `pixels`, as a PNG stores them. Float input is in [0, 1] and clamped; NaN is refused
 * (it means a broken pipeline, and a black pixel would hide that).
 */
export function toBytes(pixels: Float32Array | Uint8Array, width: number, channels: number): Uint8Array {
  if (pixels instanceof Uint8Array) return pixels;
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i]!;
    if (Number.isNaN(v)) {
      const pixel = Math.floor(i / channels);
      throw new GessoError(`pixel data has NaN at x=${pixel % width}, y=${Math.floor(pixel / width)}, channel ${i % channels}`);
    }
    out[i] = Math.round((v < 0 ? 0 : Math.min(v, 1)) * 255);
  }
  return out;
}

function checkShape(pixels: Float32Array | Uint8Array, width: number, height: number, channels: number): void {
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new InputError(`image ${name} is ${value}, expected a positive integer`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new InputError(`image channels is ${channels}, expected 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)`);
  const expected = width * height * channels;
  if (pixels.length !== expected) {
    throw new InputError(`pixel data has ${pixels.length} values, expected ${width}x${height}x${channels} = ${expected} (HWC layout)`);
  }
}

/**
 * A PNG of `pixels` with gesso's metadata chunks.
 *
 * Layout is HWC, row-major, top row first: the value of channel c of pixel (x, y) is at
 * `(y * width + x) * channels + c`. Channels are grey, grey+alpha, RGB or RGBA. A Float32Array holds
 * values in [0, 1] (clamped, rounded to 8 bits); a Uint8Array holds 0-255.
 */
export async function encodePng(
  pixels: Float32Array | Uint8Array,
  width: number,
  height: number,
  channels: number,
  metadata: ImageMetadata = {},
): Promise<Uint8Array> {
  checkShape(pixels, width, height, channels);
  const chunks = metadataChunks(metadata);
  const bytes = toBytes(pixels, width, channels);
  const png = await sharp(bytes, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } })
    .png()
    .toBuffer();
  return insertTextChunks(new Uint8Array(png.buffer, png.byteOffset, png.byteLength), chunks);
}

/**
 * Encodes as encodePng does, then writes `path` atomically (temp file + rename). An existing file is
 * replaced only when `replace` (default true, for gesso's own working files); user-facing outputs pass
 * false (or --overwrite) so a user's file is never replaced unasked. Returns the bytes written.
 */
export async function writeImageFile(
  path: string,
  pixels: Float32Array | Uint8Array,
  width: number,
  height: number,
  channels: number,
  metadata: ImageMetadata = {},
  options: { replace?: boolean } = {},
): Promise<Uint8Array> {
  if (!/\.png$/i.test(path)) throw new InputError(`cannot write image ${JSON.stringify(path)}: gesso writes PNG, expected a path ending in .png`);
  const png = await encodePng(pixels, width, height, channels, metadata);
  await writeNewFile(path, png, { overwrite: options.replace ?? true, what: 'image' });
  return png;
}
