/**
 * Limits on images that come from outside (uploads, base64 in API requests), checked from the file's
 * header before anything is decoded: a 20000×20000 PNG is a few KB of zeros compressed, and decoding it
 * would take 1.6 GB. PNG headers are read by gesso's own chunk reader; other formats by sharp's
 * metadata(), which also reads headers only.
 */
import sharp, { type Metadata } from 'sharp';
import { InputError } from '../core/errors.ts';
import { isPng, pngSize, readPngChunks } from '../image/png-chunks.ts';

export interface UploadLimits {
  /** Largest upload in bytes. */
  maxBytes: number;
  /** Largest width × height. */
  maxPixels: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxBytes: 32 * 1024 * 1024, maxPixels: 4096 * 4096 };

export interface ImageHeader {
  format: string;
  width: number;
  height: number;
}

/** Reads the size from the header and refuses what is over the limits; nothing is decoded. */
export async function checkUpload(bytes: Uint8Array, label: string, limits: UploadLimits = DEFAULT_UPLOAD_LIMITS): Promise<ImageHeader> {
  if (bytes.length > limits.maxBytes) throw new TooLargeError(`${label} is ${bytes.length} bytes; at most ${limits.maxBytes} are accepted`);
  if (bytes.length === 0) throw new InputError(`${label} is empty; expected a PNG, JPEG or WebP image`);
  let header: ImageHeader;
  if (isPng(bytes)) {
    header = { format: 'png', ...pngSize(readPngChunks(bytes, label)) };
  } else {
    let meta: Metadata;
    try {
      meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    } catch (err) {
      throw new InputError(`${label} is not an image gesso can read (expected PNG, JPEG or WebP): ${(err as Error).message}`);
    }
    if (meta.width === undefined || meta.height === undefined || !['jpeg', 'webp', 'png'].includes(meta.format ?? '')) {
      throw new InputError(`${label} is ${meta.format ?? 'an unknown format'}; expected a PNG, JPEG or WebP image`);
    }
    header = { format: meta.format as string, width: meta.width, height: meta.height };
  }
  const pixels = header.width * header.height;
  if (header.width < 1 || header.height < 1) throw new InputError(`${label} says it is ${header.width}x${header.height}; expected a positive size`);
  if (pixels > limits.maxPixels) {
    throw new TooLargeError(
      `${label} is ${header.width}x${header.height} = ${pixels} pixels; at most ${limits.maxPixels} are accepted (refused before decoding)`,
    );
  }
  return header;
}

/** Over a size limit: the server answers 413. */
export class TooLargeError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'TooLargeError';
  }
}
