import { COLOR_NAMES, type ColorName } from './color-names.ts';
import { cleanWords } from './caption-words.ts';

/**
 * Caption format (the same for every dataset gesso builds from names):
 *
 *   "<colour> <title> with <colour> and <colour>, <folder>, <parent folder>"
 *   e.g. "red star with black, stars, shapes", "red apple bitten, fruit, food"
 *
 * The most common measured colour goes straight before the title, so the caption holds the phrase a
 * prompt uses ("a red star" -> "red star"); other measured colours follow as "with …". When the title
 * already names a colour ("jigsaw red"), measured colours are not put before it, only after "with".
 * Then the folder path, deepest folder first (the most specific context). Without a title, the colour
 * goes before the first folder phrase instead ("yellow stars, shapes").
 */
export function composeCaption(title: string, context: readonly string[], colors: readonly ColorName[]): string {
  const titleWords = title.split(' ').filter((w) => w.length > 0);
  const named = new Set(titleWords);
  const titleHasColor = titleWords.some((w) => (COLOR_NAMES as readonly string[]).includes(w));
  const extra = colors.filter((c) => !named.has(c));
  const phrases = [...context];
  let head = titleWords.length > 0 ? titleWords.join(' ') : (phrases.shift() ?? '');
  let rest = extra;
  if (!titleHasColor && extra.length > 0 && head.length > 0) {
    head = `${extra[0]} ${head}`;
    rest = extra.slice(1);
  }
  if (rest.length > 0) head = head.length > 0 ? `${head} with ${rest.join(' and ')}` : rest.join(' and ');
  const parts = [head, ...phrases.filter((p) => p !== title)].filter((p) => p.length > 0);
  return parts.join(', ');
}

/**
 * Folder names as caption context, deepest first: "food/fruit" -> ["fruit", "food"]. Folders whose
 * name says nothing about the picture (`skip`) are left out, and so are repeats.
 */
export function folderPhrases(category: string, skip: (folder: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const folder of category.split('/').reverse()) {
    if (folder.length === 0 || skip(folder)) continue;
    const phrase = cleanWords(folder).join(' ');
    if (phrase.length > 0 && !out.includes(phrase)) out.push(phrase);
  }
  return out;
}
