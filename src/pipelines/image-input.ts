/**
 * Init images and masks for img2img and inpainting, brought to the generation size.
 * Resizing stretches to the exact size (A1111's "Just resize"), with sharp's Lanczos filter.
 * Masks follow diffusers: white (>= 0.5 after averaging RGB) marks pixels to repaint, black pixels to
 * keep; the mask is binarized.
 */
import sharp from 'sharp';
import { InputError } from '../core/errors.ts';
import { decodeImage, type DecodedImage } from '../image/read-info.ts';

/** A file path, or pixels already decoded ((H, W, 3) in [0, 1]). */
export type ImageSource = string | DecodedImage;

/** `what` names the image in messages ("init image", "mask"); files larger than MAX_DECODE_SIDE a side are refused unread. */
export async function readSource(source: ImageSource, what: string): Promise<DecodedImage> {
  if (typeof source === 'string') return decodeImage(source, { what });
  if (source.data.length !== source.width * source.height * 3) {
    throw new InputError(`image of ${source.width}x${source.height} has ${source.data.length} values; expected ${source.width * source.height * 3} (H, W, 3)`);
  }
  return source;
}

/** The largest size <= the image's that is a multiple of `multiple` (diffusers rounds init images down the same way). */
export function roundDownSize(image: DecodedImage, multiple: number, what: string): { width: number; height: number } {
  const width = image.width - (image.width % multiple);
  const height = image.height - (image.height % multiple);
  if (width === 0 || height === 0) throw new InputError(`${what} is ${image.width}x${image.height}; it must be at least ${multiple}x${multiple}`);
  return { width, height };
}

/** (H, W, 3) in [0, 1] at exactly width × height. */
export async function resizePixels(image: DecodedImage, width: number, height: number): Promise<Float32Array> {
  if (image.width === width && image.height === height) return image.data;
  const bytes = new Uint8Array(image.data.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, image.data[i])) * 255);
  const raw = await sharp(bytes, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  const out = new Float32Array(raw.length);
  for (let i = 0; i < out.length; i++) out[i] = raw[i] / 255;
  return out;
}

/** (H, W) mask at width × height: 1 = repaint, 0 = keep. */
export async function maskAt(image: DecodedImage, width: number, height: number): Promise<Float32Array> {
  const pixels = await resizePixels(image, width, height);
  const mask = new Float32Array(width * height);
  for (let i = 0; i < mask.length; i++) {
    const grey = (pixels[i * 3] + pixels[i * 3 + 1] + pixels[i * 3 + 2]) / 3;
    mask[i] = grey >= 0.5 ? 1 : 0;
  }
  return mask;
}

/**
 * (H, W) pixel mask -> (h, w) latent mask by nearest neighbour, as diffusers' `F.interpolate(mask, size)`
 * does: latent (y, x) takes pixel (y·s, x·s).
 */
export function latentMask(mask: Float32Array, width: number, height: number, scale: number): Float32Array {
  const w = width / scale;
  const h = height / scale;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = mask[y * scale * width + x * scale];
  return out;
}
