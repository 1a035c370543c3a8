/**
 * Author names in file names. Open Clip Art Library 0.18 named each file `<title>_<author>`, cut to 24
 * characters, plus an index: "apple_bitten_dan_gerhard_01.svg", "fitness_architetto_franc_01.svg". The
 * author is not a caption word, so it is removed with a stop-list learned from the data itself:
 *
 * A word is an author word when the corpus shows it as one — it is part of a drawing's `dc:creator` name,
 * or it follows the drawing's own `dc:title` words in its file name ("burrito_ganson" titled "Burrito") —
 * in at least 2 different top-level categories, and it is at least twice as often such evidence as it is
 * a content word: a word of a drawing's title, or the first word of a file name (so "france", "the",
 * "brown" stay content words).
 *
 * Author words are then removed only from the end of a name, never its first word; a drawing's own
 * creator name is also removed wherever it appears whole ("clipart_by_nicu_buculei_-_baloon"); and when
 * the name was cut at 24 characters, its last word goes if it is the start of an author word
 * ("dan_gerhar", "benji_pa").
 */

/** What one drawing says about its author: its file-name words, its title and creator words, its group. */
export interface AuthorEvidence {
  /** Words of the file name, cleaned (caption-words.ts `cleanWords`). */
  fileWords: readonly string[];
  /** Words of the drawing's own title (`dc:title`), cleaned; empty when it has none. */
  titleWords: readonly string[];
  /** Words of the drawing's creator name (`dc:creator`), cleaned; empty when it has none. */
  creatorWords: readonly string[];
  /** The top-level category, so that a word recurring across unrelated groups can be told apart. */
  group: string;
}

/** Min number of top-level categories in which a word must show up as an author. */
const MIN_GROUPS = 2;
/** How many times more often a word must be author evidence than a content word. */
const MIN_AUTHOR_TO_CONTENT_RATIO = 2;

/** Learns the author stop-list from a corpus (see the file comment for the rule). */
export function learnAuthorWords(entries: readonly AuthorEvidence[]): Set<string> {
  const contentCount = new Map<string, number>();
  const evidenceCount = new Map<string, number>();
  const evidenceGroups = new Map<string, Set<string>>();
  const addEvidence = (word: string, group: string): void => {
    evidenceCount.set(word, (evidenceCount.get(word) ?? 0) + 1);
    let groups = evidenceGroups.get(word);
    if (!groups) {
      groups = new Set();
      evidenceGroups.set(word, groups);
    }
    groups.add(group);
  };

  for (const e of entries) {
    const creator = new Set(e.creatorWords);
    // Content words: the title's (titles like "Clipart by Nicu Buculei - jigsaw" hold the author's name,
    // which is not one) and the file name's first word (names start with the title, never the author).
    const content = new Set(e.titleWords.filter((w) => !creator.has(w)));
    if (e.fileWords[0] !== undefined) content.add(e.fileWords[0]);
    for (const w of content) contentCount.set(w, (contentCount.get(w) ?? 0) + 1);
    const evidence = new Set(e.creatorWords);
    if (e.titleWords.length > 0 && startsWith(e.fileWords, e.titleWords)) {
      for (const w of e.fileWords.slice(e.titleWords.length)) evidence.add(w);
    }
    for (const w of evidence) addEvidence(w, e.group);
  }

  const authors = new Set<string>();
  for (const [word, groups] of evidenceGroups) {
    const count = evidenceCount.get(word) ?? 0;
    if (groups.size >= MIN_GROUPS && count >= MIN_AUTHOR_TO_CONTENT_RATIO * (contentCount.get(word) ?? 0)) {
      authors.add(word);
    }
  }
  return authors;
}

/** What is known about one name's author. */
export interface AuthorContext {
  /** The corpus stop-list from `learnAuthorWords`. */
  authorWords: ReadonlySet<string>;
  /** This drawing's own creator name, cleaned; empty when unknown. */
  creatorWords?: readonly string[];
  /** Whether the name was cut short, so that its last word may be the start of an author word. */
  truncated?: boolean;
}

/**
 * Removes author names from cleaned file-name words (see the file comment). Never removes the first word,
 * unless it is this drawing's own creator name.
 */
export function stripAuthor(words: readonly string[], ctx: AuthorContext): string[] {
  const creatorWords = ctx.creatorWords ?? [];
  let out = removeCreatorSequence([...words], creatorWords);
  const creator = new Set(creatorWords);
  const isAuthor = (w: string): boolean => ctx.authorWords.has(w) || creator.has(w);

  if (ctx.truncated && out.length > 1) {
    // The last word of a cut name is a cut word: drop it when it starts an author's name.
    const last = out[out.length - 1] as string;
    const cut = creatorWords.some((a) => a.startsWith(last)) || [...ctx.authorWords].some((a) => a.startsWith(last));
    if (!isAuthor(last) && cut) out = out.slice(0, -1);
  }
  while (out.length > 1 && isAuthor(out[out.length - 1] as string)) out = out.slice(0, -1);
  // A name that is nothing but this drawing's own creator ("architetto_francesco_ro_01") has no title.
  if (out.length === 1 && creator.has(out[0] as string)) return [];
  return out;
}

/** Removes every whole occurrence of a creator name of 2+ words, with a "by" just before it. */
function removeCreatorSequence(words: string[], creatorWords: readonly string[]): string[] {
  if (creatorWords.length < 2) return words;
  const out: string[] = [];
  for (let i = 0; i < words.length; ) {
    if (startsWith(words.slice(i), creatorWords) && out.length + (words.length - i - creatorWords.length) > 0) {
      if (out[out.length - 1] === 'by') out.pop();
      i += creatorWords.length;
    } else {
      out.push(words[i] as string);
      i++;
    }
  }
  return out;
}

function startsWith(words: readonly string[], prefix: readonly string[]): boolean {
  if (prefix.length > words.length) return false;
  return prefix.every((w, i) => words[i] === w);
}
