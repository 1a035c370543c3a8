/**
 * Frame sequences for style transfer: a folder of still images (sorted by name, numbers in names
 * compared as numbers: f2 before f10) or an animated GIF / WebP (decoded with sharp, every page
 * composited as it is shown). Each still frame goes through loadImage's checks (size declared in the
 * header, SVG references, formats); all frames must have one size.
 */
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { InputError } from '../core/errors.ts';
import { loadImage, MAX_PIXELS } from './load-image.ts';
import { toPlanes, type RgbPlanes } from './planes.ts';

export interface FrameSequence {
  frames: RgbPlanes[];
  /** A name per frame (file names, or `<file>#<page>` for an animation). */
  names: string[];
  /** Display time per frame in milliseconds, when the input is an animation. */
  delays: number[] | null;
}

/** More frames than this is a video job, not something to hold in memory as float planes. */
export const MAX_FRAMES = 500;
export const FRAME_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif'];

/** True for a folder, or for a GIF/WebP file with more than one frame. */
export async function isFrameSequence(path: string): Promise<boolean> {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return false;
  }
  if (st.isDirectory()) return true;
  if (!/\.(gif|webp)$/i.test(path)) return false;
  try {
    return ((await sharp(await readFile(path), { limitInputPixels: false }).metadata()).pages ?? 1) > 1;
  } catch {
    return false; // not an image at all: loadImage will say so
  }
}

/** Loads a folder of frames or an animated GIF/WebP. */
export async function loadFrames(path: string): Promise<FrameSequence> {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`frames ${JSON.stringify(path)}: no such file or folder`);
  }
  return st.isDirectory() ? loadFolder(path) : loadAnimation(path);
}

async function loadFolder(dir: string): Promise<FrameSequence> {
  const names = readdirSync(dir)
    .filter((f) => FRAME_EXTENSIONS.includes(extname(f).toLowerCase()) && statSync(join(dir, f)).isFile())
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (names.length === 0) throw new InputError(`frames folder ${JSON.stringify(dir)} holds no images (expected ${FRAME_EXTENSIONS.join(' ')} files)`);
  if (names.length > MAX_FRAMES)
    throw new InputError(`frames folder ${JSON.stringify(dir)} holds ${names.length} images; gesso stylises at most ${MAX_FRAMES} frames per run`);
  const frames: RgbPlanes[] = [];
  for (const name of names) {
    const f = await loadImage(join(dir, name), 'frame');
    const first = frames[0];
    if (first && (f.width !== first.width || f.height !== first.height))
      throw new InputError(
        `frame ${JSON.stringify(name)} is ${f.width}x${f.height}, but the first frame ${JSON.stringify(names[0])} is ${first.width}x${first.height}; all frames of a sequence must have one size`,
      );
    frames.push(f);
  }
  return { frames, names, delays: null };
}

async function loadAnimation(path: string): Promise<FrameSequence> {
  if (!/\.(gif|webp)$/i.test(path)) throw new InputError(`frames ${JSON.stringify(path)}: expected a folder of frames or an animated .gif / .webp file`);
  const bytes = await readFile(path);
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new InputError(`frames ${JSON.stringify(path)} is not an image gesso can read (${(e as Error).message.split('\n')[0]})`);
  }
  const pages = meta.pages ?? 1;
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (pages < 2) throw new InputError(`${JSON.stringify(path)} has one frame; give a still image as content, or an animation / folder of frames`);
  if (pages > MAX_FRAMES) throw new InputError(`${JSON.stringify(path)} has ${pages} frames; gesso stylises at most ${MAX_FRAMES} frames per run`);
  if (width < 1 || height < 1 || width * height > MAX_PIXELS)
    throw new InputError(`${JSON.stringify(path)} declares frames of ${width}x${height}; expected 1 to ${MAX_PIXELS / 1e6} MP per frame`);
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(bytes, { pages: -1, limitInputPixels: false })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new InputError(`frames ${JSON.stringify(path)} cannot be decoded (${(e as Error).message.split('\n')[0]})`);
  }
  const { channels } = raw.info;
  if (channels !== 3 || raw.info.width !== width || raw.info.height !== height * pages)
    throw new InputError(
      `frames ${JSON.stringify(path)} decoded to ${raw.info.width}x${raw.info.height}x${channels}, not ${pages} frames of ${width}x${height} RGB`,
    );
  const frames: RgbPlanes[] = [];
  const n = width * height * 3;
  for (let k = 0; k < pages; k++) {
    const px = new Float32Array(n);
    for (let i = 0; i < n; i++) px[i] = (raw.data[k * n + i] as number) / 255;
    frames.push(toPlanes(px, width, height));
  }
  const delays = meta.delay && meta.delay.length === pages ? meta.delay : null;
  return { frames, names: frames.map((_, k) => `${path}#${k}`), delays };
}
