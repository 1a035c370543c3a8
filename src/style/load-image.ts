/**
 * Reads content, style and mask images for style transfer, refusing what should never be decoded:
 * - an image whose header declares more than `MAX_PIXELS` pixels is refused from its header, before any
 *   pixel is decoded (a 20000×20000 PNG of a few KB would otherwise take 1.6 GB);
 * - an SVG that references anything outside itself (a local file, a URL) is refused before librsvg
 *   sees it, so rendering it cannot read other files;
 * - formats sharp cannot read get a message that lists what works.
 * Greyscale, CMYK, 16-bit and alpha images are converted to 8-bit sRGB on white (decodeImage).
 */
import { readFile, stat } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { InputError } from '../core/errors.ts';
import { decodeImageBytes } from '../image/read-info.ts';
import { toPlanes, type RgbPlanes } from './planes.ts';

/** 50 megapixels: larger than any photo style transfer on a CPU can use, far below sharp's 268 MP default. */
export const MAX_PIXELS = 50_000_000;
/** Longest side decoded: a 50 MP panorama of 16384 × 3052 still loads. */
const MAX_SIDE = 16384;
export const SUPPORTED_FORMATS = 'PNG, JPEG, WebP, GIF, TIFF, AVIF or SVG';

/** Decodes an image file to RGB planes in [0, 1]; `role` names it in errors ("style image", "mask"). */
export async function loadImage(path: string, role: string): Promise<RgbPlanes> {
  let bytes: Buffer;
  try {
    if ((await stat(path)).isDirectory()) throw new InputError(`${role} ${JSON.stringify(path)} is a folder; expected an image file`);
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(
      `${role} ${JSON.stringify(path)} cannot be read: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  if (looksLikeSvg(bytes)) refuseExternalReferences(bytes.toString('utf8'), path, role);
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata(); // header only
  } catch (e) {
    throw new InputError(
      `${role} ${JSON.stringify(path)} is not an image gesso can read (${(e as Error).message.split('\n')[0]}); expected ${SUPPORTED_FORMATS}`,
    );
  }
  const { width = 0, height = 0 } = meta;
  if (width * height > MAX_PIXELS) {
    throw new InputError(
      `${role} ${JSON.stringify(path)} declares ${width}x${height} pixels (${((width * height) / 1e6).toFixed(0)} MP); gesso decodes at most ${MAX_PIXELS / 1e6} MP`,
    );
  }
  if (width < 1 || height < 1) throw new InputError(`${role} ${JSON.stringify(path)} declares a size of ${width}x${height}`);
  // The pixel count is checked above; a panorama or a 5K photo may be wider than decodeImage's default side.
  const decoded = await decodeImageBytes(bytes, path, { what: role, maxSide: MAX_SIDE });
  return toPlanes(decoded.data, decoded.width, decoded.height);
}

function looksLikeSvg(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 1024).toString('utf8').trimStart().toLowerCase();
  return (
    head.startsWith('<svg') ||
    (head.startsWith('<?xml') && bytes.subarray(0, 4096).toString('utf8').toLowerCase().includes('<svg')) ||
    head.startsWith('<!doctype svg')
  );
}

/** Any href / xlink:href / url(...) / XInclude / entity that is not a fragment (#id) or a data: URI. */
function refuseExternalReferences(svg: string, path: string, role: string): void {
  const refs = [
    ...svg.matchAll(/(?:xlink:)?href\s*=\s*["']([^"']*)["']/gi),
    ...svg.matchAll(/url\(\s*["']?([^"')]*)["']?\s*\)/gi),
    ...svg.matchAll(/<!ENTITY[^>]*(?:SYSTEM|PUBLIC)\s+["']([^"']*)["']/gi),
    ...svg.matchAll(/<xi:include[^>]*href\s*=\s*["']([^"']*)["']/gi),
    ...svg.matchAll(/@import\s+["']?([^"';]+)/gi),
  ].map((m) => (m[1] ?? '').trim());
  const external = refs.find((r) => !r.startsWith('#') && !/^data:/i.test(r));
  if (external !== undefined) {
    throw new InputError(
      `${role} ${JSON.stringify(path)} is an SVG that references ${JSON.stringify(external)}; gesso renders only self-contained SVGs (embed images as data: URIs)`,
    );
  }
}
