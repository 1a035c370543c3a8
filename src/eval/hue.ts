/**
 * Colour adherence: does an image drawn for "a red star" come out red? An image's colour is the circular
 * mean hue of its chromatic pixels: those that are neither near-white, near-grey nor near-black (white
 * background, black outlines and grey shading say nothing about the named colour).
 *
 * Hue ranges are the dataset palette's (src/data/color-names.ts), because the captions that taught the
 * model "red" were written by that palette: red 345–15°, orange 15–45°, yellow 45–70°, green 70–165°,
 * blue 165–255°, purple 255–300°, pink 300–345°.
 */
import { InputError } from '../core/errors.ts';

export const HUE_RANGES = {
  red: [345, 15],
  orange: [15, 45],
  yellow: [45, 70],
  green: [70, 165],
  blue: [165, 255],
  purple: [255, 300],
  pink: [300, 345],
} as const satisfies Record<string, readonly [number, number]>;

export type HueName = keyof typeof HUE_RANGES;

/** A pixel counts as chromatic when its HSV saturation and value are at least these. */
export const MIN_SATURATION = 0.25;
export const MIN_VALUE = 0.2;
/** Fewer chromatic pixels than this share of the image: the image has no colour to measure. */
export const MIN_CHROMATIC_SHARE = 0.01;

/** HSV of one RGB colour in [0, 1]: hue in degrees [0, 360) (0 for greys), saturation and value in [0, 1]. */
export function rgbToHsv(r: number, g: number, b: number): { hue: number; saturation: number; value: number } {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let hue = 0;
  if (d > 0) {
    if (max === r) hue = ((g - b) / d) % 6;
    else if (max === g) hue = (b - r) / d + 2;
    else hue = (r - g) / d + 4;
    hue *= 60;
    if (hue < 0) hue += 360;
  }
  return { hue, saturation: max === 0 ? 0 : d / max, value: max };
}

/**
 * Circular mean of angles in degrees: atan2(mean sin, mean cos), in [0, 360), and the mean resultant
 * length R in [0, 1] (1: all angles equal; near 0: spread evenly, so the mean says little).
 * 350° and 10° average to 0°, not 180°.
 */
export function circularMeanDegrees(angles: ArrayLike<number>): { mean: number; resultant: number } {
  if (angles.length === 0) throw new InputError('circular mean of no angles: expected at least one');
  let s = 0;
  let c = 0;
  for (let i = 0; i < angles.length; i++) {
    const rad = (angles[i] * Math.PI) / 180;
    s += Math.sin(rad);
    c += Math.cos(rad);
  }
  s /= angles.length;
  c /= angles.length;
  let mean = (Math.atan2(s, c) * 180) / Math.PI;
  if (mean < 0) mean += 360;
  if (mean >= 360) mean -= 360;
  return { mean, resultant: Math.hypot(s, c) };
}

/** Whether `hue` (degrees) lies in the named range; ranges are half-open [from, to), red wraps past 0°. */
export function hueInRange(hue: number, name: HueName): boolean {
  const [from, to] = HUE_RANGES[name];
  const h = ((hue % 360) + 360) % 360;
  return from <= to ? h >= from && h < to : h >= from || h < to;
}

/** The palette name of a hue in degrees. */
export function hueName(hue: number): HueName {
  for (const name of Object.keys(HUE_RANGES) as HueName[]) if (hueInRange(hue, name)) return name;
  throw new InputError(`hue ${hue} is not a number of degrees`);
}

export interface ImageHue {
  /** Circular mean hue of the chromatic pixels, or null when there are too few of them. */
  hue: number | null;
  /** Mean resultant length of those hues (0 when hue is null). */
  resultant: number;
  /** Share of all pixels that are chromatic. */
  chromaticShare: number;
}

/** The mean hue of an (H, W, 3) image in [0, 1] (the pipeline's pixel layout), over its chromatic pixels. */
export function imageHue(pixels: Float32Array, width: number, height: number): ImageHue {
  const n = width * height;
  if (pixels.length !== n * 3) throw new InputError(`image of ${width}x${height} needs ${n * 3} values (H, W, 3), got ${pixels.length}`);
  const hues: number[] = [];
  for (let i = 0; i < n; i++) {
    const { hue, saturation, value } = rgbToHsv(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]);
    if (saturation >= MIN_SATURATION && value >= MIN_VALUE) hues.push(hue);
  }
  const chromaticShare = hues.length / n;
  if (hues.length === 0 || chromaticShare < MIN_CHROMATIC_SHARE) return { hue: null, resultant: 0, chromaticShare };
  const { mean, resultant } = circularMeanDegrees(hues);
  return { hue: mean, resultant, chromaticShare };
}

/** Whether an image's mean hue matches the named colour (an image with no colour never does). */
export function matchesColor(measured: ImageHue, name: HueName): boolean {
  return measured.hue !== null && hueInRange(measured.hue, name);
}
