/**
 * The pictures a fine-tune learns from: a `gesso data` folder (manifest.jsonl), or a plain folder of
 * pictures with a caption `.txt` beside each one (as kohya/A1111 datasets are), rendered at the
 * model's size into the run folder first. Every picture is used (no validation split held back).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { buildDataset } from '../../data/build-dataset.ts';
import { type ImageDataset, loadImageDataset } from '../../data/dataset.ts';
import { folderSources } from '../../data/folder-source.ts';
import { createHash } from 'node:crypto';

/** A short tag of the fallback caption, so a run folder keeps one rendering per caption choice. */
function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * `uncaptioned`: the caption of pictures without a caption file (textual inversion: the new word; full
 * fine-tune: the folder's name), with a warning; without it such pictures are refused (LoRA).
 */
export async function loadFinetuneData(
  dataDir: string,
  size: number,
  runDir: string,
  log: (line: string) => void = () => {},
  uncaptioned?: string,
): Promise<ImageDataset> {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) throw new InputError(`--data ${dataDir}: not a folder`);
  let dir = dataDir;
  if (!existsSync(join(dataDir, 'manifest.jsonl'))) {
    const sources = await folderSources(dataDir);
    if (sources.length === 0) throw new InputError(`--data ${dataDir}: the folder holds no .png .jpg .jpeg .webp or .svg pictures`);
    const bare = sources.filter((s) => s.caption.kind !== 'given');
    if (bare.length > 0 && uncaptioned !== undefined) {
      log(
        `warning: ${bare.length} of ${sources.length} pictures have no caption file (e.g. ${bare[0]?.source}); they are captioned "${uncaptioned}" (write a .txt beside a picture to caption it)`,
      );
      for (const s of bare) s.caption = { kind: 'given', text: uncaptioned };
    } else if (bare.length > 0) {
      throw new InputError(
        `--data ${dataDir}: ${bare.length} of ${sources.length} pictures have no caption file, e.g. ${bare[0]?.source} needs ${bare[0]?.source.replace(/\.[^.]+$/, '')}.txt ` +
          `(write one per picture, or let \`gesso data folder ${dataDir}\` compose captions from the file names and train on its output)`,
      );
    }
    dir = join(runDir, `data-${size}${uncaptioned === undefined ? '' : `-${hashOf(uncaptioned)}`}`);
    log(`data: rendering ${sources.length} captioned pictures of ${dataDir} at ${size} px into ${dir}`);
    await buildDataset(sources, { outDir: dir, name: basename(resolve(dataDir)), size, seed: 0, valFraction: 0 });
  }
  const data = await loadImageDataset(dir, { split: 'all' });
  if (data.size !== size) {
    throw new InputError(
      `--data ${dataDir}: pictures are ${data.size} px; this model makes ${size} px pictures (rebuild with \`gesso data folder --size ${size}\`)`,
    );
  }
  return data;
}
