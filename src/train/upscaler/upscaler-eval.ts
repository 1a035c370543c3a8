/**
 * Measuring the 4× upscaler on held-out drawings: each validation image is box-downscaled ×4 (as in
 * training) and brought back to full size by nearest neighbour, bilinear and bicubic with half-pixel
 * centres (src/image/bicubic.ts: the super-resolution literature's baselines), sharp's 'cubic' resize
 * (libvips; what a Node app would reach for), and gesso's net. All outputs are 8-bit, scored against
 * the original with PSNR and SSIM. Also draws the sample grid (LR nearest | bicubic | gesso | original).
 */
import sharp from 'sharp';
import type { Runner } from '../../runtime/runner.ts';
import { bicubicUpscale, bilinearUpscale } from '../../image/bicubic.ts';
import { batchToGrid } from '../../image/grid.ts';
import { meanPsnr, ssim } from '../../image/metrics.ts';
import { UPSCALER_INPUT, UPSCALER_OUTPUT } from '../../models/upscaler.ts';
import { downscaleImages, toBytes, toSigned, UPSCALE, type ImagePlanes } from './upscaler-pairs.ts';

/** Originals (N, 3, S, S) and their box-downscaled inputs (N, 3, S/4, S/4), as bytes. */
export interface EvalSet {
  high: Uint8Array;
  low: Uint8Array;
  count: number;
  size: number;
}

export interface Scores {
  /** Mean per-image PSNR in dB. */
  psnr: number;
  /** Mean per-image SSIM (0–1). */
  ssim: number;
}

export type Method = 'nearest' | 'bilinear' | 'bicubic' | 'sharpCubic' | 'gesso';

export function evalSet(images: ImagePlanes): EvalSet {
  return { high: images.pixels, low: downscaleImages(images), count: images.count, size: images.size };
}

/** A subset of an eval set (the first `n` images). */
export function firstImages(set: EvalSet, n: number): EvalSet {
  const count = Math.min(n, set.count);
  const small = set.size / UPSCALE;
  return { high: set.high.subarray(0, count * 3 * set.size * set.size), low: set.low.subarray(0, count * 3 * small * small), count, size: set.size };
}

/** Runs the exported upscaler (input `image`, output `upscaled`) over the set's inputs, `batch` at a time. */
export async function upscaleWithModel(runner: Runner, set: EvalSet, batch = 8): Promise<Uint8Array> {
  const small = set.size / UPSCALE;
  const inPer = 3 * small * small;
  const outPer = 3 * set.size * set.size;
  const out = new Uint8Array(set.count * outPer);
  for (let start = 0; start < set.count; start += batch) {
    const n = Math.min(batch, set.count - start);
    const data = new Float32Array(n * inPer);
    toSigned(set.low.subarray(start * inPer, (start + n) * inPer), data);
    const result = await runner.run({ [UPSCALER_INPUT]: { dtype: 'float32', dims: [n, 3, small, small], data } });
    out.set(toBytes(result[UPSCALER_OUTPUT]?.data as Float32Array), start * outPer);
  }
  return out;
}

/** Pixel replication: each input pixel becomes a 4×4 block. */
export function upscaleNearest(set: EvalSet): Uint8Array {
  const s = set.size;
  const small = s / UPSCALE;
  const out = new Uint8Array(set.count * 3 * s * s);
  for (let p = 0; p < set.count * 3; p++) {
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) out[(p * s + y) * s + x] = set.low[(p * small + Math.floor(y / UPSCALE)) * small + Math.floor(x / UPSCALE)];
    }
  }
  return out;
}

/** Bilinear or bicubic (Keys a = -0.5) with half-pixel centres, image by image. */
export function upscaleClassic(set: EvalSet, kind: 'bilinear' | 'bicubic'): Uint8Array {
  const s = set.size;
  const small = s / UPSCALE;
  const out = new Uint8Array(set.count * 3 * s * s);
  const f = kind === 'bicubic' ? bicubicUpscale : bilinearUpscale;
  for (let i = 0; i < set.count; i++) out.set(f(set.low.subarray(i * 3 * small * small, (i + 1) * 3 * small * small), 3, small, small, UPSCALE), i * 3 * s * s);
  return out;
}

/** sharp's resize with a classic kernel ('linear' or 'cubic'), image by image. */
export async function upscaleWithSharp(set: EvalSet, kernel: 'linear' | 'cubic'): Promise<Uint8Array> {
  const s = set.size;
  const small = s / UPSCALE;
  const out = new Uint8Array(set.count * 3 * s * s);
  for (let i = 0; i < set.count; i++) {
    const hwc = planarToInterleaved(set.low.subarray(i * 3 * small * small, (i + 1) * 3 * small * small), small * small);
    const big = await sharp(hwc, { raw: { width: small, height: small, channels: 3 } })
      .resize(s, s, { kernel, fit: 'fill' })
      .raw()
      .toBuffer();
    out.set(interleavedToPlanar(big, s * s), i * 3 * s * s);
  }
  return out;
}

/** Mean PSNR and SSIM of (N, 3, S, S) outputs against the set's originals. */
export function score(set: EvalSet, outputs: Uint8Array): Scores {
  const per = 3 * set.size * set.size;
  const pairs: [Uint8Array, Uint8Array][] = [];
  let ssimSum = 0;
  for (let i = 0; i < set.count; i++) {
    const a = set.high.subarray(i * per, (i + 1) * per);
    const b = outputs.subarray(i * per, (i + 1) * per);
    pairs.push([a, b]);
    ssimSum += ssim(a, b, 3, set.size, set.size);
  }
  return { psnr: meanPsnr(pairs), ssim: ssimSum / Math.max(1, set.count) };
}

/** The sample grid: one row per image, columns LR (nearest ×4) | bicubic | gesso | original, with a header. */
export async function sampleGridPng(
  set: EvalSet,
  columns: { nearest: Uint8Array; bicubic: Uint8Array; gesso: Uint8Array },
  title: string,
): Promise<Uint8Array> {
  const s = set.size;
  const per = 3 * s * s;
  const batch = new Float32Array(set.count * 4 * per);
  for (let i = 0; i < set.count; i++) {
    [columns.nearest, columns.bicubic, columns.gesso, set.high].forEach((source, k) =>
      toSigned(source.subarray(i * per, (i + 1) * per), batch, (i * 4 + k) * per),
    );
  }
  const grid = batchToGrid(batch, [set.count * 4, 3, s, s], { cols: 4, gap: 4 });
  const header = 26;
  const labels = ['input (64 px, nearest)', 'bicubic', 'gesso upscaler', 'original'];
  const text = labels.map((l, k) => `<text x="${4 + k * (s + 4) + s / 2}" y="18" text-anchor="middle">${l}</text>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${grid.width}" height="${header}" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#222"><rect width="100%" height="100%" fill="white"/>${text}<text x="${grid.width - 4}" y="${header - 2}" text-anchor="end" font-size="9" fill="#777">${title.replace(/[<&>]/g, '')}</text></svg>`;
  const png = await sharp({ create: { width: grid.width, height: grid.height + header, channels: 3, background: '#ffffff' } })
    .composite([
      { input: Buffer.from(svg), top: 0, left: 0 },
      { input: Buffer.from(grid.pixels), raw: { width: grid.width, height: grid.height, channels: 3 }, top: header, left: 0 },
    ])
    .png()
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** (3, P) planes -> (P, 3) interleaved. */
export function planarToInterleaved(planes: Uint8Array, plane: number): Buffer {
  const out = Buffer.alloc(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[3 * p + c] = planes[c * plane + p];
  return out;
}

/** (P, 3) interleaved -> (3, P) planes. */
export function interleavedToPlanar(hwc: Uint8Array, plane: number): Uint8Array {
  const out = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = hwc[3 * p + c];
  return out;
}
