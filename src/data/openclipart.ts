import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { FILE_LIMITS, readTextFile } from '../core/safe-read.ts';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { learnAuthorWords, stripAuthor } from './author-words.ts';
import { buildDataset, type BuildOptions, type BuildReport, type SourceImage } from './build-dataset.ts';
import { cleanWords, fileStem } from './caption-words.ts';
import { COLOR_NAMES } from './color-names.ts';
import { folderPhrases } from './compose-caption.ts';
import { readSvgMetadata } from './svg-metadata.ts';

/**
 * The Open Clip Art Library as Debian ships it (package openclipart-svg, CC0): ~8,100 SVGs under
 * svg/<category>/<subcategory>/<name>.svg. Captions come from the file name and the folder path; the
 * author names in file names are removed with a stop-list learned from the SVGs' own metadata
 * (author-words.ts).
 */

export const OPENCLIPART_PACKAGE = 'openclipart-svg';
export const OPENCLIPART_DEFAULT_ROOT = '/usr/share/openclipart/svg';
export const OPENCLIPART_LICENCE = 'CC0-1.0';

/**
 * The folder holding the library's SVGs: `explicit` if given, else where the Debian package put them
 * (`defaultRoot`, or the svg/ folder `dpkg -L` lists). `defaultRoot` and `pkg` are for tests.
 */
export function findOpenclipartRoot(explicit?: string, defaultRoot = OPENCLIPART_DEFAULT_ROOT, pkg = OPENCLIPART_PACKAGE): string {
  if (explicit !== undefined) {
    if (!isDirectory(explicit)) throw new InputError(`--root ${explicit} is not a folder of Open Clip Art SVGs`);
    return explicit;
  }
  if (isDirectory(defaultRoot)) return defaultRoot;
  const listed = dpkgSvgRoot(pkg);
  if (listed !== undefined) return listed;
  throw new InputError(
    `the Open Clip Art Library is not installed: expected its SVGs (Debian package ${pkg}) ` +
      `under ${defaultRoot}. Install it with \`apt-get install ${pkg}\` (as root), or pass --root DIR`,
  );
}

/** The package's svg/ folder as `dpkg -L` lists it, if the package is installed somewhere else. */
function dpkgSvgRoot(pkg: string): string | undefined {
  try {
    const listing = execFileSync('dpkg', ['-L', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return listing.split('\n').find((line) => line.endsWith('/svg') && isDirectory(line));
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Every .svg under root, as sorted '/'-separated relative paths. */
export function listSvgFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(join(dir, entry.name), childRel);
      else if (entry.name.toLowerCase().endsWith('.svg') && (entry.isFile() || isLinkToFile(join(dir, entry.name)))) {
        // Links file one drawing under a second category: kept, and later dropped as exact duplicates.
        out.push(childRel);
      }
    }
  };
  walk(root, '');
  return out.sort();
}

function isLinkToFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false; // a dangling link
  }
}

/** What one file's name and metadata say, ready for captioning. */
export interface OpenclipartEntry {
  relPath: string;
  /** Folder path, e.g. "food/fruit". */
  category: string;
  /** Cleaned words of the file name (authors still in). */
  fileWords: string[];
  /** Cleaned words of its dc:title and dc:creator. */
  titleWords: string[];
  creatorWords: string[];
  /** Whether the name looks cut at 24 characters (see `looksTruncated`). */
  truncated: boolean;
}

/** Reads the metadata of every file (concurrently, a few at a time). */
export async function scanOpenclipart(root: string, relPaths: readonly string[]): Promise<OpenclipartEntry[]> {
  const out: OpenclipartEntry[] = new Array(relPaths.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < relPaths.length) {
      const i = next++;
      const relPath = relPaths[i] as string;
      let text = '';
      try {
        text = readTextFile(join(root, relPath), 'SVG drawing', FILE_LIMITS.image);
      } catch {
        // Unreadable: no metadata; the render step reports the file as broken.
      }
      out[i] = describeEntry(relPath, text);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

/** The words of one file from its relative path and its SVG text. */
export function describeEntry(relPath: string, svgText: string): OpenclipartEntry {
  const meta = readSvgMetadata(svgText);
  const stem = fileStem(relPath);
  const slash = relPath.lastIndexOf('/');
  return {
    relPath,
    category: slash < 0 ? '' : relPath.slice(0, slash),
    fileWords: cleanWords(stem),
    titleWords: cleanWords(meta.title),
    creatorWords: cleanWords(meta.creator),
    truncated: looksTruncated(stem),
  };
}

/**
 * Open Clip Art 0.18 cut "<title>_<author>" to 24 characters before adding "_01": a name whose part
 * before the index is 22–25 characters long may end in a cut-off word.
 */
export function looksTruncated(stem: string): boolean {
  const base = stem.replace(/_\d+[a-z]?$/i, '').replace(/_+$/, '');
  return base.length >= 22 && base.length <= 25;
}

/**
 * The corpus author stop-list (author-words.ts) from scanned entries, less colour names: "Shandy Brown"
 * must not take "brown" out of captions (a drawing's own creator is still removed by its metadata).
 */
export function learnOpenclipartAuthors(entries: readonly OpenclipartEntry[]): Set<string> {
  const authors = learnAuthorWords(entries.map((e) => ({ ...e, group: e.category.split('/')[0] ?? '' })));
  for (const color of COLOR_NAMES) authors.delete(color);
  return authors;
}

/** The title words of a file's caption: its name's words without author names. */
export function openclipartTitle(entry: OpenclipartEntry, authorWords: ReadonlySet<string>): string {
  return stripAuthor(entry.fileWords, { authorWords, creatorWords: entry.creatorWords, truncated: entry.truncated }).join(' ');
}

/** Folders that say nothing about the picture: icon-theme names, "unsorted", "special". */
export function isUninformativeFolder(folder: string): boolean {
  return folder.endsWith('-theme') || folder === 'unsorted' || folder === 'special';
}

export interface OpenclipartSelection {
  sources: SourceImage[];
  /** Files in the library (before --limit). */
  found: number;
  authorWords: string[];
}

/**
 * The library's files as dataset sources. With `limit`, a seeded random sample of that many files (the
 * author stop-list is still learned from every file).
 */
export async function openclipartSources(root: string, options: { limit?: number; seed: number }): Promise<OpenclipartSelection> {
  const relPaths = listSvgFiles(root);
  if (relPaths.length === 0) throw new InputError(`no .svg files under ${root}`);
  const entries = await scanOpenclipart(root, relPaths);
  const authors = learnOpenclipartAuthors(entries);
  let chosen = entries;
  if (options.limit !== undefined && options.limit < entries.length) {
    chosen = new Rng(options.seed).shuffle([...entries]).slice(0, options.limit);
  }
  const sources = chosen.map(
    (e): SourceImage => ({
      path: join(root, e.relPath),
      source: `${OPENCLIPART_PACKAGE}:${e.relPath}`,
      category: e.category,
      licence: OPENCLIPART_LICENCE,
      isSvg: true,
      fit: 'pad',
      caption: { kind: 'compose', title: openclipartTitle(e, authors), context: folderPhrases(e.category, isUninformativeFolder) },
    }),
  );
  return { sources, found: relPaths.length, authorWords: [...authors].sort() };
}

/**
 * Renders (a seeded selection of) the Open Clip Art Library into a `gesso data` folder: what
 * `gesso data openclipart` runs, callable by training recipes that need the data at another size.
 */
export async function buildOpenclipartDataset(o: {
  outDir: string;
  size: number;
  seed?: number;
  valFraction?: number;
  limit?: number;
  root?: string;
  concurrency?: number;
  maxPerCategory?: number;
  onProgress?: BuildOptions['onProgress'];
  log?: (line: string) => void;
}): Promise<BuildReport> {
  const root = findOpenclipartRoot(o.root);
  const seed = o.seed ?? 0;
  const log = o.log ?? (() => {});
  log(`openclipart: reading ${root}`);
  const selection = await openclipartSources(root, { seed, ...(o.limit === undefined ? {} : { limit: o.limit }) });
  log(
    `openclipart: ${selection.found} SVGs, ${selection.authorWords.length} author words learned; rendering ${selection.sources.length} at ${o.size}px into ${o.outDir}`,
  );
  return buildDataset(selection.sources, {
    outDir: o.outDir,
    size: o.size,
    seed,
    valFraction: o.valFraction ?? 0.05,
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.maxPerCategory !== undefined ? { maxPerCategory: o.maxPerCategory } : {}),
    name: OPENCLIPART_PACKAGE,
    unlimited: true, // the package's own files, trusted: some are large
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    extraReport: { root, libraryFiles: selection.found, limit: o.limit ?? null, authorStopList: selection.authorWords },
  });
}
