import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { FILE_LIMITS, readRegularFile } from '../core/safe-read.ts';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { writeFileAtomic } from '../weights/file-io.ts';
import type { ColorName } from './color-names.ts';
import { composeCaption } from './compose-caption.ts';
import { encodePng, renderSquare, type Fit } from './render-square.ts';

/**
 * Builds an image dataset folder from source pictures: each is rendered into a white square, checked
 * (broken, blank, duplicate), captioned, and given a train/val split. Writes
 *   OUT/images/<id>.png, OUT/manifest.jsonl (one ManifestLine per picture kept), OUT/report.json.
 * Resumable: every render is logged in OUT/.build/renders.jsonl as it finishes, and a second run
 * reuses what the log and images/ already hold for files that did not change.
 */

/** How a picture's caption is made: given verbatim (a caption file), or composed from words and colours. */
export type CaptionRecipe = { kind: 'given'; text: string } | { kind: 'compose'; title: string; context: readonly string[] };

/** One picture to put in the dataset. */
export interface SourceImage {
  /** Path of the file to read. */
  path: string;
  /** Stable name of the picture in the manifest and report, e.g. "openclipart-svg:food/fruit/apple.svg". */
  source: string;
  /** Its category path, e.g. "food/fruit". */
  category: string;
  licence: string;
  isSvg: boolean;
  fit: Fit;
  caption: CaptionRecipe;
}

/** One line of manifest.jsonl. */
export interface ManifestLine {
  file: string;
  caption: string;
  category: string;
  source: string;
  licence: string;
  split: 'train' | 'val';
  colors: ColorName[];
}

export interface BuildProgress {
  done: number;
  total: number;
  /** Pictures taken from an earlier run's log instead of rendered again. */
  resumed: number;
}

export interface BuildOptions {
  outDir: string;
  /** Name of the data set in the report, e.g. "openclipart-svg". */
  name: string;
  size: number;
  seed: number;
  valFraction: number;
  /** Renders in flight at once. Default 2 (the machine's cores; sharp has its own thread pool too). */
  concurrency?: number;
  /** Trusted input only: lifts librsvg's size guards (sharp's `unlimited`). */
  unlimited?: boolean;
  /** A render with less ink than this share of its pixels is blank. Default 0.002. */
  minInk?: number;
  /**
   * Keep at most this many pictures per category (a seeded choice), so one huge folder does not swamp
   * the rest: openclipart has 1,378 near-identical "gramastar" line stars. 0 or absent: no cap.
   */
  maxPerCategory?: number;
  onProgress?: (p: BuildProgress) => void;
  /** More facts for report.json (e.g. the learned author stop-list). */
  extraReport?: Record<string, unknown>;
}

export interface BuildReport {
  dataset: string;
  createdAt: string;
  size: number;
  seed: number;
  valFraction: number;
  counts: { found: number; kept: number; train: number; val: number; dropped: number };
  dropped: { broken: number; blank: number; duplicate: number; capped: number };
  broken: { source: string; error: string }[];
  blank: string[];
  duplicates: { source: string; duplicateOf: string }[];
  /** Pictures left out by --max-per-category, per category. */
  capped: Record<string, number>;
  /** Kept pictures per category path, largest first. */
  categories: Record<string, number>;
  /** Kept pictures per top-level category, largest first. */
  topCategories: Record<string, number>;
  /** Kept pictures per dominant (first) colour. */
  colors: Record<string, number>;
  time: { seconds: number; rendered: number; resumed: number; msPerRender: number };
  [extra: string]: unknown;
}

/** What the render log keeps about one source file. */
interface RenderRecord {
  source: string;
  /** Size, mtime and fit of the file when rendered: a changed file is rendered again. */
  stamp: string;
  id: string;
  status: 'ok' | 'broken' | 'blank';
  hash?: string;
  colors?: ColorName[];
  error?: string;
}

export async function buildDataset(sources: readonly SourceImage[], options: BuildOptions): Promise<BuildReport> {
  const started = Date.now();
  const { outDir, size } = options;
  checkOptions(options);
  const sorted = [...sources].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  const seen = new Set<string>();
  for (const s of sorted) {
    if (seen.has(s.source)) throw new InputError(`two pictures share the source name "${s.source}"`);
    seen.add(s.source);
  }

  const imagesDir = join(outDir, 'images');
  const workDir = join(outDir, '.build');
  mkdirSync(imagesDir, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  const logPath = join(workDir, 'renders.jsonl');
  const previous = readRenderLog(workDir, size, options.minInk ?? DEFAULT_MIN_INK);

  // Duplicates' images are deleted, so a logged render is still good if any picture with its pixels
  // kept its image.
  const hashesOnDisk = new Set<string>();
  for (const r of previous.values()) {
    if (r.status === 'ok' && existsSync(join(imagesDir, `${r.id}.png`))) hashesOnDisk.add(r.hash as string);
  }
  const records = new Map<string, RenderRecord>();
  let done = 0;
  let resumed = 0;
  let rendered = 0;
  const render = async (src: SourceImage, stamp: string): Promise<RenderRecord> => {
    const record = await renderOne(src, idOf(src.source), stamp, imagesDir, options);
    appendFileSync(logPath, JSON.stringify(record) + '\n');
    rendered++;
    return record;
  };
  await forEachLimit(sorted, options.concurrency ?? 2, async (src) => {
    const stamp = fileStamp(src);
    const old = previous.get(src.source);
    let record: RenderRecord;
    if (old && old.stamp === stamp && (old.status !== 'ok' || hashesOnDisk.has(old.hash as string))) {
      record = old;
      resumed++;
    } else {
      record = await render(src, stamp);
    }
    records.set(src.source, record);
    done++;
    options.onProgress?.({ done, total: sorted.length, resumed });
  });

  // Dedupe in source order: the first picture with given pixels is kept.
  const byHash = new Map<string, string>();
  const kept: { src: SourceImage; record: RenderRecord }[] = [];
  const report = emptyReport(options, sorted.length);
  for (const src of sorted) {
    const record = records.get(src.source) as RenderRecord;
    if (record.status === 'broken') report.broken.push({ source: src.source, error: record.error ?? 'unknown error' });
    else if (record.status === 'blank') report.blank.push(src.source);
    else {
      const first = byHash.get(record.hash as string);
      if (first !== undefined) report.duplicates.push({ source: src.source, duplicateOf: first });
      else {
        byHash.set(record.hash as string, src.source);
        kept.push({ src, record });
      }
    }
  }
  // A kept picture whose image went with an earlier run's duplicate (its first copy left the input).
  for (const k of kept) {
    if (!existsSync(join(imagesDir, `${k.record.id}.png`))) {
      k.record = await render(k.src, k.record.stamp);
      if (k.record.status !== 'ok') throw new Error(`${k.src.source} rendered differently on a second try`);
    }
  }

  const chosen = capPerCategory(kept, options, report);

  const lines: ManifestLine[] = chosen.map(({ src, record }) => {
    const colors = record.colors ?? [];
    const caption = src.caption.kind === 'given' ? src.caption.text : composeCaption(src.caption.title, src.caption.context, colors);
    const split = splitUnit(options.seed, record.id) < options.valFraction ? 'val' : 'train';
    return { file: `images/${record.id}.png`, caption, category: src.category, source: src.source, licence: src.licence, split, colors };
  });
  pruneImages(imagesDir, new Set(lines.map((l) => l.file.slice('images/'.length))));
  writeFileAtomic(join(outDir, 'manifest.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : ''));

  fillCounts(report, lines);
  const seconds = (Date.now() - started) / 1000;
  report.time = { seconds, rendered, resumed, msPerRender: rendered > 0 ? Math.round(((seconds * 1000) / rendered) * 10) / 10 : 0 };
  Object.assign(report, options.extraReport ?? {});
  writeFileAtomic(join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}

const DEFAULT_MIN_INK = 0.002;
/** Bump when rendering or colour naming changes: logged renders of another version are redone. */
const RENDER_VERSION = 2;

function checkOptions(o: BuildOptions): void {
  if (!Number.isInteger(o.size) || o.size < 8 || o.size > 4096) {
    throw new InputError(`--size ${o.size} is not an integer from 8 to 4096`);
  }
  if (!(o.valFraction >= 0 && o.valFraction < 1)) {
    throw new InputError(`--val-fraction ${o.valFraction} is not a number in [0, 1)`);
  }
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) {
    throw new InputError(`--seed ${o.seed} is not an integer in 0..4294967295`);
  }
}

async function renderOne(src: SourceImage, id: string, stamp: string, imagesDir: string, o: BuildOptions): Promise<RenderRecord> {
  const base = { source: src.source, stamp, id };
  let result;
  try {
    const input = readRegularFile(src.path, { what: 'source image', maxBytes: FILE_LIMITS.image });
    result = await renderSquare(input, src.isSvg, { size: o.size, fit: src.fit, unlimited: o.unlimited ?? false });
  } catch (err) {
    return { ...base, status: 'broken', error: err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err) };
  }
  if (result.inkFraction < (o.minInk ?? DEFAULT_MIN_INK)) return { ...base, status: 'blank' };
  const png = await encodePng(result.rgb, o.size);
  writeFileAtomic(join(imagesDir, `${id}.png`), png);
  const hash = createHash('sha1').update(result.rgb).digest('hex');
  return { ...base, status: 'ok', hash, colors: result.colors };
}

/** The earlier run's records, or none when it used other settings (then everything is rendered again). */
function readRenderLog(workDir: string, size: number, minInk: number): Map<string, RenderRecord> {
  const settingsPath = join(workDir, 'settings.json');
  const logPath = join(workDir, 'renders.jsonl');
  const settings = JSON.stringify({ version: RENDER_VERSION, size, minInk });
  const out = new Map<string, RenderRecord>();
  if (existsSync(settingsPath) && readFileSync(settingsPath, 'utf8') === settings && existsSync(logPath)) {
    for (const line of readFileSync(logPath, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const r = JSON.parse(line) as RenderRecord;
        out.set(r.source, r);
      } catch {
        // A line cut short by an interrupted run: that file is rendered again.
      }
    }
    return out;
  }
  rmSync(logPath, { force: true });
  writeFileAtomic(settingsPath, settings);
  return out;
}

function fileStamp(src: SourceImage): string {
  try {
    const st = statSync(src.path);
    return `${st.size}:${Math.round(st.mtimeMs)}:${src.fit}`;
  } catch {
    return `missing:${src.fit}`;
  }
}

/** A picture's id: the start of the SHA-1 of its source name, so ids are stable across runs and subsets. */
export function idOf(source: string): string {
  return createHash('sha1').update(source).digest('hex').slice(0, 12);
}

/**
 * A number in [0, 1) fixed by seed and id (FNV-1a, 32 bit): an item is in val when it is below the val
 * fraction. The split of one picture does not depend on which other pictures are in the build.
 */
export function splitUnit(seed: number, id: string): number {
  let h = 0x811c9dc5;
  const text = `${seed}:${id}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // One extra avalanche round (murmur3 fmix32): FNV alone is weak in its low bits for short strings.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** The kept pictures less those over --max-per-category: each category keeps its lowest seeded draws. */
function capPerCategory<T extends { src: SourceImage; record: RenderRecord }>(kept: T[], o: BuildOptions, report: BuildReport): T[] {
  const max = o.maxPerCategory ?? 0;
  if (max <= 0) return kept;
  const byCategory = new Map<string, T[]>();
  for (const k of kept) {
    const list = byCategory.get(k.src.category) ?? [];
    list.push(k);
    byCategory.set(k.src.category, list);
  }
  const keep = new Set<T>();
  for (const [category, list] of byCategory) {
    // A draw independent of the train/val one (another seed stream), so the split stays balanced.
    const ranked = list.map((k) => ({ k, u: splitUnit((o.seed ^ 0x5bd1e995) >>> 0, k.record.id) })).sort((a, b) => a.u - b.u);
    ranked.slice(0, max).forEach(({ k }) => keep.add(k));
    if (list.length > max) report.capped[category || '(root)'] = list.length - max;
  }
  return kept.filter((k) => keep.has(k));
}

/** Deletes images/ PNGs that are not in the manifest (duplicates, and leftovers of earlier builds). */
function pruneImages(imagesDir: string, keep: Set<string>): void {
  for (const name of readdirSync(imagesDir)) {
    if ((name.endsWith('.png') && !keep.has(name)) || name.endsWith('.tmp')) rmSync(join(imagesDir, name), { force: true });
  }
}

function emptyReport(o: BuildOptions, found: number): BuildReport {
  return {
    dataset: o.name,
    createdAt: new Date().toISOString(),
    size: o.size,
    seed: o.seed,
    valFraction: o.valFraction,
    counts: { found, kept: 0, train: 0, val: 0, dropped: 0 },
    dropped: { broken: 0, blank: 0, duplicate: 0, capped: 0 },
    broken: [],
    blank: [],
    duplicates: [],
    capped: {},
    categories: {},
    topCategories: {},
    colors: {},
    time: { seconds: 0, rendered: 0, resumed: 0, msPerRender: 0 },
  };
}

function fillCounts(report: BuildReport, lines: readonly ManifestLine[]): void {
  const capped = Object.values(report.capped).reduce((a, b) => a + b, 0);
  report.dropped = { broken: report.broken.length, blank: report.blank.length, duplicate: report.duplicates.length, capped };
  const dropped = report.dropped.broken + report.dropped.blank + report.dropped.duplicate + capped;
  const val = lines.filter((l) => l.split === 'val').length;
  report.counts = { found: report.counts.found, kept: lines.length, train: lines.length - val, val, dropped };
  report.categories = countBy(lines, (l) => l.category || '(root)');
  report.topCategories = countBy(lines, (l) => l.category.split('/')[0] || '(root)');
  report.colors = countBy(lines, (l) => l.colors[0] ?? 'none');
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return Object.fromEntries(sorted);
}

/** Runs `fn` over items with at most `limit` calls in flight. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
