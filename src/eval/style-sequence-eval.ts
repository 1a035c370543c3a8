/**
 * Flicker of stylised sequences (`npm run eval:style-sequence`): a short camera move (pan + slow zoom)
 * over a real wallpaper from Debian's gnome-backgrounds, stylised by each method with and without
 * temporal coherence (src/style/sequence.ts). Flicker = mean |frame(k) − frame(k−1)| of the output over
 * that of the input frames; "along the motion" compensates the camera move first, so what remains is
 * the change the style adds by itself.
 */
import sharp from 'sharp';
import { InputError } from '../core/errors.ts';
import { toPlanes, type RgbPlanes } from '../style/planes.ts';

export const SEQUENCE_SOURCE = '/usr/share/backgrounds/gnome/licorice-l.webp';

/**
 * `n` frames of side `size` cut from `source`: the window starts at 2·size wide, shrinks 1.5% per frame
 * (zoom in) and moves right and down (about 2.5 and 1 output pixels per frame).
 */
export async function panZoomFrames(source: string, n: number, size: number): Promise<RgbPlanes[]> {
  const base = 4 * size;
  let raw: Buffer;
  try {
    raw = await sharp(source).resize(base, base, { fit: 'cover' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
  } catch (e) {
    throw new InputError(`${source} cannot be read (${(e as Error).message}); apt-get install gnome-backgrounds`);
  }
  const frames: RgbPlanes[] = [];
  for (let k = 0; k < n; k++) {
    const side = Math.round(2 * size * (1 - 0.015 * k));
    const left = Math.round(base / 4 + 5 * k + (2 * size - side) / 2);
    const top = Math.round(base / 4 + 2 * k + (2 * size - side) / 2);
    const px = await sharp(raw, { raw: { width: base, height: base, channels: 3 } })
      .extract({ left, top, width: side, height: side })
      .resize(size, size, { kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    frames.push(
      toPlanes(
        Float32Array.from(px, (v) => v / 255),
        size,
        size,
      ),
    );
  }
  return frames;
}
