/**
 * The GAN's training images from `--data DIR`: a dataset built by `gesso data` (has manifest.jsonl) is
 * used as it is; any other folder of pictures is first built into one inside the run folder
 * (src/data: rendered onto squares, broken files skipped and counted, duplicates dropped, val split held
 * out for evaluation). The data hash covers the manifest and every image's bytes, for the model card.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { buildDataset, type BuildReport } from '../../data/build-dataset.ts';
import { loadImageDataset, readManifest, type ImageDataset } from '../../data/dataset.ts';
import { folderSources } from '../../data/folder-source.ts';

/** Fewer training images than this trains, with a warning: the generator will copy them. */
export const FEW_IMAGES = 100;

export interface GanData {
  /** The dataset folder (DIR itself, or the one built from it). */
  dir: string;
  train: ImageDataset;
  /** sha256 of manifest.jsonl and every image, in manifest order. */
  hash: string;
  /** Images per licence, over the whole dataset. */
  licences: Record<string, number>;
  /** What building skipped (only when DIR was a plain folder). */
  skipped: { broken: number; blank: number; duplicate: number };
  warnings: string[];
}

export async function prepareGanData(dataDir: string, runDir: string, size: number, log: (line: string) => void = () => {}): Promise<GanData> {
  if (!existsSync(dataDir)) throw new InputError(`--data ${dataDir} does not exist; expected a folder of pictures or a \`gesso data\` dataset`);
  const warnings: string[] = [];
  let dir = dataDir;
  let skipped = { broken: 0, blank: 0, duplicate: 0 };
  if (!existsSync(join(dataDir, 'manifest.jsonl'))) {
    const sources = await folderSources(dataDir);
    if (sources.length === 0) throw new InputError(`--data ${dataDir} holds no .png .jpg .jpeg .webp or .svg pictures`);
    dir = join(runDir, `data-${size}`);
    log(`gan: ${sources.length} pictures in ${dataDir}; building a ${size} px dataset in ${dir}`);
    const report: BuildReport = await buildDataset(sources, { outDir: dir, name: basename(resolve(dataDir)), size, seed: 0, valFraction: 0.05 });
    skipped = { broken: report.dropped.broken, blank: report.dropped.blank, duplicate: report.dropped.duplicate };
    if (report.broken.length > 0) {
      const shown = report.broken.slice(0, 5).map((b) => `${b.source} (${b.error})`).join('; ');
      warnings.push(`skipped ${report.broken.length} unreadable file(s): ${shown}${report.broken.length > 5 ? '; ...' : ''}`);
    }
  }
  const items = readManifest(dir);
  const trainCount = items.filter((i) => i.split === 'train').length;
  if (trainCount === 0) throw new InputError(`${dir} has no training images left (${items.length} in all; every picture was broken, blank or a duplicate)`);
  if (trainCount < FEW_IMAGES) warnings.push(`only ${trainCount} training image(s): a GAN needs ~${FEW_IMAGES}+ to do more than copy them; training goes on`);
  const train = await loadImageDataset(dir, { split: 'train' });
  if (train.size !== size) throw new InputError(`${dir} holds ${train.size} px images; --size ${size} needs a dataset built at ${size} px (gesso data ... --size ${size})`);
  const licences: Record<string, number> = {};
  for (const item of items) licences[item.licence] = (licences[item.licence] ?? 0) + 1;
  for (const w of warnings) log(`warning: ${w}`);
  return { dir, train, hash: datasetHash(dir), licences, skipped, warnings };
}

function datasetHash(dir: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(dir, 'manifest.jsonl')));
  for (const item of readManifest(dir)) h.update(readFileSync(join(dir, item.file)));
  return h.digest('hex');
}
