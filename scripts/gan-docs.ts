/**
 * The GAN pictures in docs/: `node --import tsx scripts/gan-docs.ts [--run DIR] [--model DIR] [--data DIR]`
 *   docs/gan-samples.png        the fixed-latent sample grids of a training run at several steps (one row
 *                               of 12 samples per step, same latents in every row), and real training drawings;
 *   docs/gan-interpolation.webp a looping slerp walk through 4 seeds with the trained model (2× magnified).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadImageDataset } from '../src/data/dataset.ts';
import { writeLabelledGrid, type GridCell, type GridRow } from '../src/eval/labelled-grid.ts';
import { seedSpec, walkSpecs } from '../src/pipelines/explore-specs.ts';
import { writeAnimation } from '../src/pipelines/explore-output.ts';
import { LatentResolver, renderSpecs } from '../src/pipelines/gan-explore.ts';
import { GanModel } from '../src/pipelines/gan-model.ts';

const COLS = 12;
const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { run: { type: 'string' }, model: { type: 'string' }, data: { type: 'string' }, steps: { type: 'string' } },
});
const runDir = values.run ?? '.cache/train-gan-64';
const modelDir = values.model ?? 'models/gesso-gan-stars-fruit-64';
const dataDir = values.data ?? '.cache/gan-stars-fruit-64';

/** Cell (row, col) of a training sample grid (8 per row, 64 px, 2 px gaps; see batchToGrid). */
async function cellOf(path: string, index: number, size: number): Promise<GridCell> {
  const left = 2 + (index % 8) * (size + 2);
  const top = 2 + Math.floor(index / 8) * (size + 2);
  const raw = await sharp(path).extract({ left, top, width: size, height: size }).removeAlpha().raw().toBuffer();
  return { pixels: Float32Array.from(raw, (v) => v / 255), width: size, height: size };
}

const files = readdirSync(join(runDir, 'samples'))
  .filter((f) => /^step-\d+\.png$/.test(f))
  .sort();
const wanted = values.steps?.split(',').map(Number);
const chosen = files.filter((f) => wanted === undefined || wanted.includes(Number(f.slice(5, 11))));
const rows: GridRow[] = [];
for (const f of chosen) {
  const cells = await Promise.all(Array.from({ length: COLS }, (_, i) => cellOf(join(runDir, 'samples', f), i, 64)));
  rows.push({ label: `step ${Number(f.slice(5, 11))}`, cells });
}
const data = await loadImageDataset(dataDir, { split: 'train' });
const real = data.readBatch(Array.from({ length: COLS }, (_, i) => Math.floor((i * data.items.length) / COLS)));
const plane = 64 * 64;
rows.push({
  label: 'training drawings',
  cells: Array.from({ length: COLS }, (_, i) => {
    const pixels = new Float32Array(plane * 3);
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) pixels[3 * p + c] = ((real[i * 3 * plane + c * plane + p] as number) + 1) / 2;
    return { pixels, width: 64, height: 64 };
  }),
});
await writeLabelledGrid('docs/gan-samples.png', rows, { cell: 64, columnLabels: Array.from({ length: COLS }, (_, i) => `z${i}`), labelWidth: 150, gap: 4 });
console.log(`wrote docs/gan-samples.png (${chosen.length} training steps)`);

const model = await GanModel.load(modelDir);
const specs = walkSpecs([3, 11, 5, 20].map(seedSpec), { frames: 17 });
const images = await renderSpecs(new LatentResolver(model), specs);
await writeAnimation('docs/gan-interpolation.webp', images, specs.length, 64, { fps: 12, scale: 2 });
await model.release();
console.log(`wrote docs/gan-interpolation.webp (${specs.length} frames, looping)`);
