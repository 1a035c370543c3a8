/**
 * A small fixed image embedding for the taste model (no learned encoder ships on this branch): colour
 * histograms, colour statistics, how much of the canvas is drawn on, edge density, and an 8×8 grey
 * thumbnail. Input: (H, W, 3) RGB in [0, 1], row-major, as src/image decodes it.
 */
const BINS = 6; // per channel
const THUMB = 8;

/** Pixels darker or more saturated than this count as "drawn on" (clip art sits on white). */
const INK_THRESHOLD = 0.12;

export const FEATURE_NAMES: string[] = [
  ...['r', 'g', 'b'].flatMap((c) => Array.from({ length: BINS }, (_, i) => `hist_${c}${i}`)),
  'mean_r',
  'mean_g',
  'mean_b',
  'warmth',
  'saturation',
  'ink',
  'edges',
  ...Array.from({ length: THUMB * THUMB }, (_, i) => `thumb_${i}`),
];
export const FEATURE_SIZE = FEATURE_NAMES.length;

export interface PixelImage {
  data: Float32Array; // (H, W, 3)
  width: number;
  height: number;
}

/** Fraction of pixels that are not near-white background. */
export function inkCoverage(im: PixelImage): number {
  let ink = 0;
  const n = im.width * im.height;
  for (let p = 0; p < n; p++) {
    const r = im.data[p * 3] as number;
    const g = im.data[p * 3 + 1] as number;
    const b = im.data[p * 3 + 2] as number;
    if (1 - Math.min(r, g, b) > INK_THRESHOLD) ink++;
  }
  return ink / n;
}

/** Mean (red − blue) over drawn pixels: positive for reds/oranges/yellows, negative for blues. */
export function warmth(im: PixelImage): number {
  let sum = 0;
  let count = 0;
  for (let p = 0; p < im.width * im.height; p++) {
    const r = im.data[p * 3] as number;
    const g = im.data[p * 3 + 1] as number;
    const b = im.data[p * 3 + 2] as number;
    if (1 - Math.min(r, g, b) <= INK_THRESHOLD) continue;
    sum += r - b;
    count++;
  }
  return count === 0 ? 0 : sum / count;
}

/** Mean absolute difference between neighbouring grey pixels (busy line work scores high). */
export function edgeDensity(im: PixelImage): number {
  const { width: w, height: h, data } = im;
  const grey = (x: number, y: number) => {
    const i = (y * w + x) * 3;
    return ((data[i] as number) + (data[i + 1] as number) + (data[i + 2] as number)) / 3;
  };
  let sum = 0;
  for (let y = 0; y < h - 1; y++) for (let x = 0; x < w - 1; x++) sum += Math.abs(grey(x + 1, y) - grey(x, y)) + Math.abs(grey(x, y + 1) - grey(x, y));
  return sum / (2 * (w - 1) * (h - 1));
}

export function imageFeatures(im: PixelImage): Float32Array {
  const { width: w, height: h, data } = im;
  const n = w * h;
  const out = new Float32Array(FEATURE_SIZE);
  let k = 0;
  const means = [0, 0, 0];
  let sat = 0;
  for (let c = 0; c < 3; c++) {
    const hist = new Float32Array(BINS);
    for (let p = 0; p < n; p++) {
      const v = data[p * 3 + c] as number;
      hist[Math.min(BINS - 1, Math.floor(v * BINS))]! += 1 / n;
      means[c]! += v / n;
    }
    out.set(hist, k);
    k += BINS;
  }
  for (let p = 0; p < n; p++) {
    const r = data[p * 3] as number;
    const g = data[p * 3 + 1] as number;
    const b = data[p * 3 + 2] as number;
    sat += (Math.max(r, g, b) - Math.min(r, g, b)) / n;
  }
  out[k++] = means[0]!;
  out[k++] = means[1]!;
  out[k++] = means[2]!;
  out[k++] = warmth(im);
  out[k++] = sat;
  out[k++] = inkCoverage(im);
  out[k++] = edgeDensity(im);
  // (8, 8) grey thumbnail by box averaging.
  for (let ty = 0; ty < THUMB; ty++) {
    for (let tx = 0; tx < THUMB; tx++) {
      let sum = 0;
      let count = 0;
      for (let y = Math.floor((ty * h) / THUMB); y < Math.floor(((ty + 1) * h) / THUMB); y++) {
        for (let x = Math.floor((tx * w) / THUMB); x < Math.floor(((tx + 1) * w) / THUMB); x++) {
          const i = (y * w + x) * 3;
          sum += ((data[i] as number) + (data[i + 1] as number) + (data[i + 2] as number)) / 3;
          count++;
        }
      }
      out[k++] = count ? sum / count : 0;
    }
  }
  return out;
}

/** Per-feature mean and standard deviation over a set of embeddings, to put features on one scale. */
export function standardiser(rows: Float32Array[]): (x: Float32Array) => Float32Array {
  const d = rows[0]?.length ?? 0;
  const mean = new Float32Array(d);
  const std = new Float32Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += (r[j] as number) / rows.length;
  for (const r of rows) for (let j = 0; j < d; j++) std[j]! += ((r[j] as number) - (mean[j] as number)) ** 2 / rows.length;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j] as number) || 1;
  return (x) => x.map((v, j) => (v - (mean[j] as number)) / (std[j] as number));
}
