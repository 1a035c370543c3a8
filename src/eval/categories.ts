/**
 * Which "content categories" the classification accuracy score uses, and the prompt for each.
 *
 * Level: a drawing's category is the first two folders of its path ("food/fruit", "animals/mammals",
 * "shapes/stars"), or its one folder when it sits directly in a top-level folder ("tools"). Top-level
 * folders alone are too mixed to name ("computer", "recreation", "signs_and_symbols" each hold unrelated
 * kinds of drawing); deeper folders split a kind by style ("cards/bordered" vs "cards/ornamental").
 *
 * Prompt: the folder's own name as the captions carry it (captions end with the folder path, deepest
 * first: "red apple, fruit, food"), so the prompt is a phrase the model was trained on. Its singular
 * (one trailing "s" dropped: "stars" -> "star") is used instead, as "a star" / "an arrow", when the
 * captions name the drawings that way about as well (F1 within 10% of the plural's); otherwise the
 * folder phrase stands bare ("flags", "fruit", "map symbols").
 *
 * A category qualifies when its prompt phrase is a meaningful name for it in the data: it appears in
 * at least half of the category's captions (coverage) and at least half of the captions containing it
 * belong to the category (precision). That rules out folders the captions never name (icon themes:
 * "icons" is a noise word in captions), grab-bag top-level folders whose name is in every subfolder's
 * captions too ("people", "food", "computer"), and "unsorted". The 10 largest qualifying categories by
 * number of drawings (train and val) are used.
 */
import { InputError } from '../core/errors.ts';
import { cleanWords, splitWords } from '../data/caption-words.ts';
import type { DatasetItem } from '../data/dataset.ts';

export const MIN_COVERAGE = 0.5;
export const MIN_PRECISION = 0.5;
/** The singular wins when its F1 is at least this share of the plural's. */
const SINGULAR_SLACK = 0.9;

export interface ContentCategory {
  /** Category key: the first two folders ("food/fruit"). */
  key: string;
  /** The prompt, e.g. "a star" or "flags". */
  prompt: string;
  /** The phrase searched for in captions, e.g. "star". */
  phrase: string;
  /** Drawings in the category (train + val). */
  count: number;
  /** Share of the category's captions that contain the phrase. */
  coverage: number;
  /** Share of all captions containing the phrase that are in this category. */
  precision: number;
  /** Which of several data folders the category was chosen from (chooseCategoriesPerPart). */
  part?: number;
}

/** The category key of a manifest category path: its first two folders. */
export function categoryKey(category: string): string {
  return category
    .split('/')
    .filter((p) => p.length > 0)
    .slice(0, 2)
    .join('/');
}

/** Whether `words` contains `phrase` (a word list) as a contiguous run. */
function containsPhrase(words: readonly string[], phrase: readonly string[]): boolean {
  outer: for (let i = 0; i + phrase.length <= words.length; i++) {
    for (let k = 0; k < phrase.length; k++) if (words[i + k] !== phrase[k]) continue outer;
    return true;
  }
  return false;
}

/** "a star", "an arrow" */
function withArticle(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

/** Every category with its best prompt and the numbers behind the choice, largest first (qualifying or not). */
export function rankCategories(items: readonly DatasetItem[]): (ContentCategory & { qualifies: boolean })[] {
  const captionWords = items.map((it) => splitWords(it.caption));
  const keys = items.map((it) => categoryKey(it.category));
  const members = new Map<string, number[]>();
  keys.forEach((k, i) => {
    if (k === '') return;
    const list = members.get(k) ?? [];
    list.push(i);
    members.set(k, list);
  });

  const score = (key: string, phrase: string[]): { coverage: number; precision: number; f1: number } => {
    const own = members.get(key) ?? [];
    if (phrase.length === 0 || own.length === 0) return { coverage: 0, precision: 0, f1: 0 };
    const inOwn = own.filter((i) => containsPhrase(captionWords[i] as string[], phrase)).length;
    let anywhere = 0;
    captionWords.forEach((w) => {
      if (containsPhrase(w, phrase)) anywhere++;
    });
    const coverage = inOwn / own.length;
    const precision = anywhere === 0 ? 0 : inOwn / anywhere;
    const f1 = coverage + precision === 0 ? 0 : (2 * coverage * precision) / (coverage + precision);
    return { coverage, precision, f1 };
  };

  const out: (ContentCategory & { qualifies: boolean })[] = [];
  for (const [key, list] of members) {
    const folder = key.split('/').at(-1) as string;
    const phrase = cleanWords(folder);
    const plural = score(key, phrase);
    let chosen = { ...plural, words: phrase, prompt: phrase.join(' ') };
    const last = phrase.at(-1);
    if (last !== undefined && last.length > 3 && last.endsWith('s') && !last.endsWith('ss')) {
      const singularWords = [...phrase.slice(0, -1), last.slice(0, -1)];
      const singular = score(key, singularWords);
      if (singular.f1 >= SINGULAR_SLACK * plural.f1 && singular.f1 > 0) {
        chosen = { ...singular, words: singularWords, prompt: withArticle(singularWords.join(' ')) };
      }
    }
    out.push({
      key,
      prompt: chosen.prompt,
      phrase: chosen.words.join(' '),
      count: list.length,
      coverage: chosen.coverage,
      precision: chosen.precision,
      qualifies: chosen.words.length > 0 && chosen.coverage >= MIN_COVERAGE && chosen.precision >= MIN_PRECISION,
    });
  }
  return out.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
}

/** The `n` largest qualifying content categories (see the file comment). */
export function chooseCategories(items: readonly DatasetItem[], n = 10): ContentCategory[] {
  const chosen = rankCategories(items)
    .filter((c) => c.qualifies)
    .slice(0, n)
    .map(({ qualifies: _, ...c }) => c);
  if (chosen.length < 2)
    throw new InputError(`the dataset has ${chosen.length} content categories whose folder names its captions use; the classification score needs at least 2`);
  return chosen;
}

/**
 * Categories of a model trained on several datasets (Open Clip Art and emoji): each part's `n` largest
 * qualifying categories, ranked over all parts' captions together (a phrase must name its category in
 * the union, not only in its own part), so every dataset is measured.
 */
export function chooseCategoriesPerPart(parts: readonly (readonly DatasetItem[])[], n = 10): ContentCategory[] {
  const all = parts.flat();
  const ranked = rankCategories(all).filter((c) => c.qualifies);
  const chosen: ContentCategory[] = [];
  for (const [part, items] of parts.entries()) {
    const keys = new Set(items.map((it) => categoryKey(it.category)));
    chosen.push(
      ...ranked
        .filter((c) => keys.has(c.key) && !chosen.some((d) => d.key === c.key))
        .slice(0, n)
        .map(({ qualifies: _, ...c }) => ({ ...c, part })),
    );
  }
  if (chosen.length < 2)
    throw new InputError(
      `the datasets have ${chosen.length} content categories whose folder names their captions use; the classification score needs at least 2`,
    );
  return chosen;
}
