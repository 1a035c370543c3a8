/**
 * Colour names measured from pixels, so that captions can say "red star" and a model can learn "a red star".
 * A small fixed palette, named by hue, saturation and value (HSV, each in [0, 1], hue in degrees):
 *
 *   value < 0.2                          black
 *   saturation < 0.15: value > 0.85      white, else gray
 *   hue 15–50 and (value < 0.65 or saturation < 0.4)   brown
 *   hue < 15 or ≥ 345                    red (brown when saturation < 0.6 and value < 0.6;
 *                                        pink when saturation < 0.45 and value > 0.75)
 *   15–45 orange, 45–70 yellow, 70–165 green, 165–255 blue, 255–300 purple, 300–345 pink
 */

export const COLOR_NAMES = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown', 'black', 'gray', 'white'] as const;
export type ColorName = (typeof COLOR_NAMES)[number];

/** The palette name of one colour given as 0–255 channels. */
export function nameColor(r: number, g: number, b: number): ColorName {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const value = max / 255;
  const saturation = max === 0 ? 0 : (max - min) / max;
  if (value < 0.2) return 'black';
  if (saturation < 0.15) return value > 0.85 ? 'white' : 'gray';
  const hue = hueDegrees(r, g, b, max, min);
  if (hue >= 15 && hue < 50 && (value < 0.65 || saturation < 0.4)) return 'brown';
  if (hue < 15 || hue >= 345) {
    if (saturation < 0.6 && value < 0.6) return 'brown'; // dull dark red: cardboard, wood
    return saturation < 0.45 && value > 0.75 ? 'pink' : 'red';
  }
  if (hue < 45) return 'orange';
  if (hue < 70) return 'yellow';
  if (hue < 165) return 'green';
  if (hue < 255) return 'blue';
  if (hue < 300) return 'purple';
  return 'pink';
}

function hueDegrees(r: number, g: number, b: number, max: number, min: number): number {
  const d = max - min;
  let h: number;
  if (max === r) h = ((g - b) / d) % 6;
  else if (max === g) h = (b - r) / d + 2;
  else h = (r - g) / d + 4;
  h *= 60;
  return h < 0 ? h + 360 : h;
}

const MIN_ALPHA = 1 / 8;

export interface DominantColorOptions {
  /** A colour after the first is named when it covers at least this share of the ink. Default 0.25. */
  minShare?: number;
  /** At most this many names. Default 3. */
  max?: number;
}

/**
 * The dominant colour names of an image's ink: its non-white pixels, each weighted by its alpha
 * (pixels under 1/8 opaque left out), most common first. The most common is always named; others when they cover `minShare` of the ink.
 * An image whose visible pixels are all white is ["white"]; one with no visible pixel is [].
 * `pixels` is interleaved 8-bit (H, W, channels) with 3 (RGB) or 4 (RGBA) channels.
 */
export function dominantColors(pixels: Uint8Array, channels: 3 | 4, options: DominantColorOptions = {}): ColorName[] {
  const minShare = options.minShare ?? 0.25;
  const max = options.max ?? 3;
  const counts = new Map<ColorName, number>();
  let ink = 0;
  let opaque = 0;
  for (let i = 0; i + channels <= pixels.length; i += channels) {
    // Weighted by alpha: faint anti-aliased edges count little, and their colour is still the ink's.
    const weight = channels === 4 ? pixels[i + 3] / 255 : 1;
    if (weight < MIN_ALPHA) continue;
    opaque += weight;
    const name = nameColor(pixels[i], pixels[i + 1], pixels[i + 2]);
    if (name === 'white') continue;
    ink += weight;
    counts.set(name, (counts.get(name) ?? 0) + weight);
  }
  if (ink === 0) return opaque > 0 ? ['white'] : [];
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || COLOR_NAMES.indexOf(a[0]) - COLOR_NAMES.indexOf(b[0]));
  return ranked
    .filter(([, n], i) => i === 0 || n >= minShare * ink)
    .slice(0, max)
    .map(([name]) => name);
}
