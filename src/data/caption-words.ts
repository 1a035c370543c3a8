/**
 * Words for captions, from file names, folder names and titles: accents folded to ASCII, split on
 * anything that is not a letter or digit, numbers and noise removed. Author names are removed
 * elsewhere (author-words.ts): this file only knows rules that hold for any name.
 */

/** Words that describe the file, not the picture. */
const NOISE_WORDS = new Set([
  'clipart',
  'svg',
  'png',
  'jpg',
  'jpeg',
  'webp',
  'icon',
  'icons',
  // openclipart and icon-theme habits: "_bw" (black-and-white version; colours are measured instead),
  // "alt1" variants, GNOME stock/mime icon prefixes, "copy"/"final"/"untitled" leftovers.
  'bw',
  'alt',
  'gnome',
  'mime',
  'stock',
  'copy',
  'final',
  'untitled',
  'version',
  'ver',
]);

/** Words with digits that still mean something in a caption. */
const DIGIT_WORDS = new Set(['2d', '3d', 'mp3', 'mp4', '4x4']);

/** Lower-case ASCII words: accents folded ("Gonéri" -> "goneri"), camelCase split, split on non-alphanumerics. */
export function splitWords(text: string): string[] {
  const folded = text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z]{2,})([A-Z][a-z])/g, '$1 $2');
  return folded
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/**
 * Removes what never belongs in a caption: pure numbers and index tokens ("01", "04c"), digits stuck to
 * a word ("head14" -> "head", "2rightarrow" -> "rightarrow", "92pt15step" dropped), single letters, noise words and the phrase "clip art".
 */
export function dropNoise(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const raw = words[i] as string;
    if (raw === 'clip' && words[i + 1] === 'art') {
      i++;
      continue;
    }
    const w = DIGIT_WORDS.has(raw) ? raw : raw.replace(/^([a-z]+)\d+$/, '$1').replace(/^\d+([a-z]{3,})$/, '$1');
    if (/\d/.test(w) && !DIGIT_WORDS.has(w)) continue;
    if (w.length < 2 || NOISE_WORDS.has(w)) continue;
    out.push(w);
  }
  return out;
}

/** splitWords then dropNoise: the clean words of a name. */
export function cleanWords(text: string): string[] {
  return dropNoise(splitWords(text));
}

/** A file name without its folder and last extension: "a/b/apple_01.svg" -> "apple_01". */
export function fileStem(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}
