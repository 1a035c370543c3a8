import { basename, join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { buildDataset, type BuildOptions, type BuildReport, type SourceImage } from './build-dataset.ts';
import { cleanWords } from './caption-words.ts';
import { readManifest } from './dataset.ts';
import { type EmojiName, readEmojiNames } from './emoji-names.ts';
import { DEFAULT_EMOJI_SETS, EMOJI_NAMES_PACKAGE, EMOJI_SETS, type EmojiSet, type EmojiSetId } from './emoji-sets.ts';
import { ensureNpmPackage } from './npm-package.ts';
import { writeFileAtomic } from '../weights/file-io.ts';

/**
 * `gesso data emoji`: emoji sets from npm packages (emoji-sets.ts) rendered like Open Clip Art's SVGs
 * (render-square.ts), captioned from their CLDR names and keywords (emoji-names.ts) plus the set's
 * name as a style word:
 *
 *   "red apple with green, food fruit, twemoji style"
 *   "yellow nerd face with black, brainy clever, face glasses, noto style"
 *
 * Category: Unicode's group/subgroup ("food-drink/food-fruit"). Each file's licence is its set's
 * graphics licence; ATTRIBUTION.md in the dataset folder lists what a model trained on it must credit.
 */

/** Keywords added to a caption at most (the CLDR lists run to ten; the first ones are the most general). */
const MAX_TAGS = 2;

/** The caption words of one emoji in one set, before colours are measured. */
export function emojiCaptionParts(name: EmojiName, style: string): { title: string; context: string[] } {
  const titleWords = cleanWords(name.label);
  const subgroupWords = cleanWords(name.subgroup);
  const seen = new Set([...titleWords, ...subgroupWords]);
  const tags: string[] = [];
  for (const tag of name.tags) {
    const words = cleanWords(tag);
    if (words.length !== 1 || seen.has(words[0] as string)) continue;
    seen.add(words[0] as string);
    tags.push(words[0] as string);
    if (tags.length === MAX_TAGS) break;
  }
  const context = [tags.join(' '), subgroupWords.join(' '), `${style} style`].filter((p) => p.length > 0);
  return { title: titleWords.join(' '), context };
}

/** The dataset sources of the given sets, and the emoji each set lacks. */
export function emojiSources(
  names: readonly EmojiName[],
  sets: readonly { set: EmojiSet; packageDir: string }[],
): { sources: SourceImage[]; missing: Record<string, number> } {
  const sources: SourceImage[] = [];
  const missing: Record<string, number> = {};
  for (const { set, packageDir } of sets) {
    const find = set.finder(packageDir);
    let lacking = 0;
    for (const name of names) {
      const path = find(name);
      if (path === undefined) {
        lacking++;
        continue;
      }
      const { title, context } = emojiCaptionParts(name, set.style);
      sources.push({
        path,
        source: `${set.package.name}@${set.package.version}:${basename(path)}`,
        category: `${name.group}/${name.subgroup}`,
        licence: set.licence,
        isSvg: true,
        fit: 'pad',
        caption: { kind: 'compose', title, context },
      });
    }
    missing[set.id] = lacking;
  }
  return { sources, missing };
}

export interface EmojiBuildOptions {
  outDir: string;
  size: number;
  sets?: readonly EmojiSetId[];
  /** Where packages are downloaded to and unpacked (default .cache/npm). */
  packagesDir?: string;
  seed?: number;
  valFraction?: number;
  concurrency?: number;
  maxPerCategory?: number;
  onProgress?: BuildOptions['onProgress'];
  log?: (line: string) => void;
}

export async function buildEmojiDataset(o: EmojiBuildOptions): Promise<BuildReport> {
  const ids = o.sets ?? DEFAULT_EMOJI_SETS;
  if (ids.length === 0) throw new InputError('no emoji set chosen; expected at least one of ' + Object.keys(EMOJI_SETS).join(', '));
  const log = o.log ?? (() => {});
  const packagesDir = o.packagesDir ?? '.cache/npm';
  const names = readEmojiNames(ensureNpmPackage(EMOJI_NAMES_PACKAGE, packagesDir, log));
  const sets = ids.map((id) => {
    const set = EMOJI_SETS[id];
    return { set, packageDir: ensureNpmPackage(set.package, packagesDir, log) };
  });
  const { sources, missing } = emojiSources(names, sets);
  log(`emoji: ${names.length} named emoji x ${ids.length} sets (${ids.join(', ')}): ${sources.length} drawings; rendering at ${o.size}px into ${o.outDir}`);
  const seed = o.seed ?? 0;
  const report = await buildDataset(sources, {
    outDir: o.outDir,
    size: o.size,
    seed,
    valFraction: o.valFraction ?? 0.05,
    name: `emoji (${ids.join(', ')})`,
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.maxPerCategory !== undefined ? { maxPerCategory: o.maxPerCategory } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    extraReport: {
      names: `${EMOJI_NAMES_PACKAGE.name}@${EMOJI_NAMES_PACKAGE.version} (English CLDR annotations)`,
      sets: sets.map(({ set }) => ({ id: set.id, package: `${set.package.name}@${set.package.version}`, licence: set.licence, missing: missing[set.id] ?? 0 })),
    },
  });
  writeAttribution(o.outDir, ids);
  return report;
}

/**
 * ATTRIBUTION.md of a built dataset: per set, its licence, how many of its drawings the dataset holds
 * and the credit line; read by a model card of a model trained on it.
 */
export function writeAttribution(outDir: string, ids: readonly EmojiSetId[]): string {
  const lines = readManifest(outDir);
  const text = attributionText(
    ids.map((id) => {
      const set = EMOJI_SETS[id];
      const prefix = `${set.package.name}@${set.package.version}:`;
      return { set, count: lines.filter((l) => l.source.startsWith(prefix)).length };
    }),
  );
  const path = join(outDir, 'ATTRIBUTION.md');
  writeFileAtomic(path, text);
  return path;
}

export function attributionText(sets: readonly { set: EmojiSet; count: number }[]): string {
  const rows = sets.map(
    ({ set, count }) => `- **${set.style}** (${count} drawings, ${set.licence}${set.shareAlike ? ', ShareAlike' : ''}): ${set.attribution}`,
  );
  return [
    '# Attribution',
    '',
    'Emoji drawings in this dataset, by set. Captions come from the Unicode CLDR English annotations',
    `(names and keywords) as the npm package ${EMOJI_NAMES_PACKAGE.name} ${EMOJI_NAMES_PACKAGE.version} ships them (MIT; data © Unicode, Inc., Unicode License v3).`,
    '',
    ...rows,
    '',
  ].join('\n');
}
