import sharp from 'sharp';
import { dominantColors, type ColorName } from './color-names.ts';
import { reframeSvg, svgPageBox, type Box } from './svg-frame.ts';

/** How a non-square picture becomes square: `pad` keeps all of it on white, `crop` cuts the centre out. */
export type Fit = 'pad' | 'crop';

export interface RenderOptions {
  /** Side of the square output, in pixels. */
  size: number;
  fit: Fit;
  /** White margin on each side with `pad`, as a fraction of `size`. Default 1/16. */
  margin?: number;
  /** Lift librsvg's and libvips' guards against huge inputs: only for trusted files. */
  unlimited?: boolean;
}

export interface RenderedSquare {
  /** The picture flattened onto white: 8-bit interleaved RGB, (size, size, 3). */
  rgb: Buffer;
  /** Dominant colour names of its ink, measured before flattening (color-names.ts). */
  colors: ColorName[];
  /** Share of pixels that are not (nearly) white after flattening: 0 means blank. */
  inkFraction: number;
}

/** Interleaved 8-bit RGBA pixels, (height, width, 4). */
interface Rgba {
  data: Buffer;
  width: number;
  height: number;
}

/** A pixel counts as ink when some channel is darker than this. */
const NEAR_WHITE = 243;
/** SVGs are rasterised at this many times the output size, then shrunk: smooth edges on thin lines. */
const SVG_SUPERSAMPLE = 2;
/** Longest side of the low-resolution render that finds where an SVG's drawing is. */
const PROBE_PX = 512;

/**
 * Renders an SVG or decodes a raster image into a white square of `size` pixels. With `pad`, the
 * picture's drawn part (transparent borders trimmed; for an SVG, its drawing wherever it lies, not its
 * page) is scaled to fit inside the margin, aspect kept and centred; with `crop`, it is scaled to cover
 * the square and centre-cropped. Transparent pixels are flattened onto white. Throws (sharp's error)
 * on a file it cannot decode.
 */
export async function renderSquare(input: Buffer, isSvg: boolean, options: RenderOptions): Promise<RenderedSquare> {
  const { size, fit } = options;
  const unlimited = options.unlimited ?? false;
  const margin = fit === 'pad' ? Math.round(size * (options.margin ?? 1 / 16)) : 0;
  const inner = size - 2 * margin;

  const picture = isSvg ? await renderSvgDrawing(input, SVG_SUPERSAMPLE * inner, unlimited) : await decodeRaster(input, unlimited, fit === 'pad');
  const transparent = { r: 255, g: 255, b: 255, alpha: 0 };
  let square: Buffer;
  if (picture === null) {
    square = Buffer.alloc(size * size * 4); // nothing drawn: all transparent, so blank
  } else {
    const raw = sharp(picture.data, { raw: { width: picture.width, height: picture.height, channels: 4 } });
    const resized =
      fit === 'pad'
        ? raw
            .resize(inner, inner, { fit: 'contain', background: transparent })
            .extend({ top: margin, bottom: margin, left: margin, right: margin, background: transparent })
        : raw.resize(size, size, { fit: 'cover', position: 'centre' });
    const { data, info } = await resized.raw().toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size || info.channels !== 4) {
      throw new Error(`rendered ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x4`);
    }
    square = data;
  }
  return flattenOntoWhite(square, size);
}

/** Colours measured, then alpha-blended onto white (sharp gives straight, not premultiplied, alpha). */
function flattenOntoWhite(rgba: Buffer, size: number): RenderedSquare {
  const colors = dominantColors(rgba, 4);
  const rgb = Buffer.alloc(size * size * 3);
  let ink = 0;
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
    const a = rgba[p + 3] / 255;
    let dark = false;
    for (let c = 0; c < 3; c++) {
      const v = Math.round(rgba[p + c] * a + 255 * (1 - a));
      rgb[q + c] = v;
      if (v < NEAR_WHITE) dark = true;
    }
    if (dark) ink++;
  }
  return { rgb, colors, inkFraction: ink / (size * size) };
}

/** A raster image as RGBA, EXIF orientation applied; with `trim`, transparent borders cut off. */
async function decodeRaster(input: Buffer, unlimited: boolean, trim: boolean): Promise<Rgba | null> {
  const { data, info } = await sharp(input, { unlimited }).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const image = { data, width: info.width, height: info.height };
  if (!trim) return image;
  const box = alphaBox(image);
  return box === null ? null : cropRgba(image, box);
}

/**
 * The SVG's drawing, wherever it lies, rendered with its longest side near `targetPx`: a probe render
 * of three times the page around the page finds the drawing, a second render shows just that region,
 * and its transparent border is trimmed. Null when nothing is drawn.
 */
async function renderSvgDrawing(input: Buffer, targetPx: number, unlimited: boolean): Promise<Rgba | null> {
  const text = input.toString('latin1');
  let page = svgPageBox(text, { width: NaN, height: NaN });
  if (!(page.width > 0 && page.height > 0)) {
    const meta = await sharp(input, { unlimited }).metadata();
    page = { x: 0, y: 0, width: meta.width ?? 0, height: meta.height ?? 0 };
    if (!(page.width > 0 && page.height > 0)) throw new Error('the SVG has no size');
  }
  const probeRegion = { x: page.x - page.width, y: page.y - page.height, width: 3 * page.width, height: 3 * page.height };
  const probe = await renderRegion(text, probeRegion, PROBE_PX, unlimited);
  const found = alphaBox(probe);
  if (found === null) return null;
  // One probe pixel of slack on each side: the probe is coarse, the final trim is exact.
  const ux = probeRegion.width / probe.width;
  const uy = probeRegion.height / probe.height;
  const region: Box = {
    x: probeRegion.x + (found.x - 1) * ux,
    y: probeRegion.y + (found.y - 1) * uy,
    width: (found.width + 2) * ux,
    height: (found.height + 2) * uy,
  };
  const drawing = await renderRegion(text, region, targetPx, unlimited);
  const box = alphaBox(drawing);
  return box === null ? null : cropRgba(drawing, box);
}

/** Renders a region of the SVG's user space with its longest side `longestPx` pixels. */
async function renderRegion(text: string, region: Box, longestPx: number, unlimited: boolean): Promise<Rgba> {
  const scale = longestPx / Math.max(region.width, region.height);
  const width = Math.max(1, Math.round(region.width * scale));
  const height = Math.max(1, Math.round(region.height * scale));
  const svg = Buffer.from(reframeSvg(text, region, width, height), 'latin1');
  const { data, info } = await sharp(svg, { unlimited, density: 72 }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The smallest box holding every pixel that is not fully transparent; null if there is none. */
export function alphaBox(image: Rgba): Box | null {
  const { data, width, height } = image;
  let left = width;
  let right = -1;
  let top = height;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[(y * width + x) * 4 + 3] === 0) continue;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
    }
  }
  return right < 0 ? null : { x: left, y: top, width: right - left + 1, height: bottom - top + 1 };
}

function cropRgba(image: Rgba, box: Box): Rgba {
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const w = Math.min(image.width - x0, Math.ceil(box.width));
  const h = Math.min(image.height - y0, Math.ceil(box.height));
  const out = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    const from = ((y0 + y) * image.width + x0) * 4;
    image.data.copy(out, y * w * 4, from, from + w * 4);
  }
  return { data: out, width: w, height: h };
}

/** Encodes (size, size, 3) RGB as PNG. */
export function encodePng(rgb: Buffer, size: number): Promise<Buffer> {
  return sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}
