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
import sharp from 'sharp';
import { loadImageDataset, readManifest, type DatasetItem, type ImageDataset } from '../../data/dataset.ts';
import { folderSources } from '../../data/folder-source.ts';

/** Fewer training images than this trains, with a warning: the generator will copy them. */
export const FEW_IMAGES = 100;
/** Decoded pixels above this many bytes are not held in memory: batches are decoded from disk instead. */
export const IN_MEMORY_BYTES = 512 * 1024 * 1024;

/** The training images as the trainer reads them: in memory for small sets, streamed from disk for large ones. */
export interface GanImages {
  count: number;
  size: number;
  /** 'memory' or 'disk' */
  storage: 'memory' | 'disk';
  /** (B, 3, S, S) in [-1, 1] */
  readBatch(indices: readonly number[]): Promise<Float32Array>;
}

function inMemory(d: ImageDataset): GanImages {
  return { count: d.items.length, size: d.size, storage: 'memory', readBatch: async (indices) => d.readBatch(indices) };
}

/** Decodes each batch's PNGs from disk (a 100k-image folder never sits in memory). */
function onDisk(dir: string, files: readonly string[], size: number): GanImages {
  const plane = size * size;
  return {
    count: files.length,
    size,
    storage: 'disk',
    async readBatch(indices) {
      const out = new Float32Array(indices.length * 3 * plane);
      await Promise.all(
        indices.map(async (index, b) => {
          const file = join(dir, files[index] as string);
          const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
          if (info.width !== size || info.height !== size)
            throw new InputError(`${file} is ${info.width}x${info.height}, expected ${size}x${size} like the others`);
          for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[b * 3 * plane + c * plane + p] = (data[3 * p + c] as number) / 127.5 - 1;
        }),
      );
      return out;
    },
  };
}

export interface GanData {
  /** The dataset folder (DIR itself, or the one built from it). */
  dir: string;
  train: GanImages;
  /** sha256 of manifest.jsonl and every image, in manifest order. */
  hash: string;
  /** Images per licence, over the whole dataset. */
  licences: Record<string, number>;
  /** What building skipped (only when DIR was a plain folder). */
  skipped: { broken: number; blank: number; duplicate: number };
  warnings: string[];
}

export async function prepareGanData(
  dataDir: string,
  runDir: string,
  size: number,
  log: (line: string) => void = () => {},
  inMemoryBytes = IN_MEMORY_BYTES,
): Promise<GanData> {
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
      const shown = report.broken
        .slice(0, 5)
        .map((b) => `${b.source} (${b.error})`)
        .join('; ');
      warnings.push(`skipped ${report.broken.length} unreadable file(s): ${shown}${report.broken.length > 5 ? '; ...' : ''}`);
    }
  }
  const items = readManifest(dir);
  const trainCount = items.filter((i) => i.split === 'train').length;
  if (trainCount === 0) throw new InputError(`${dir} has no training images left (${items.length} in all; every picture was broken, blank or a duplicate)`);
  if (trainCount < FEW_IMAGES) warnings.push(`only ${trainCount} training image(s): a GAN needs ~${FEW_IMAGES}+ to do more than copy them; training goes on`);
  const first = await sharp(join(dir, (items.find((i) => i.split === 'train') as DatasetItem).file)).metadata();
  if (first.width !== size)
    throw new InputError(`${dir} holds ${first.width} px images; --size ${size} needs a dataset built at ${size} px (gesso data ... --size ${size})`);
  const trainFiles = items.filter((i) => i.split === 'train').map((i) => i.file);
  const train = trainCount * 3 * size * size <= inMemoryBytes ? inMemory(await loadImageDataset(dir, { split: 'train' })) : onDisk(dir, trainFiles, size);
  if (train.storage === 'disk') log(`gan: ${trainCount} images are more than fit in ${Math.round(inMemoryBytes / 2 ** 20)} MiB; batches are decoded from disk`);
  const licences: Record<string, number> = {};
  for (const item of items) licences[item.licence] = (licences[item.licence] ?? 0) + 1;
  for (const w of warnings) log(`warning: ${w}`);
  return { dir, train, hash: datasetHash(dir), licences, skipped, warnings };
}

function datasetHash(dir: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(dir, 'manifest.jsonl')));
  for (const item of readManifest(dir)) h.update(readFileSync(join(dir, item.file))); // one file at a time
  return h.digest('hex');
}
