/**
 * `npm run example:autoencoder`: the engine's learning check on real images at a size worth looking at.
 * Trains the small conv autoencoder (src/models/conv-autoencoder.ts) on Open Clip Art drawings rendered at
 * 32 px and writes docs/engine-autoencoder.png: validation originals on top, then reconstructions after
 * each evaluation (step 0 first). Prints validation MSE and PSNR per evaluation.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadImageDataset } from '../src/data/dataset.ts';
import { autoencoderCheck } from '../src/train/autoencoder-check.ts';
import { writeImageFile } from '../src/image/write-image.ts';

const dataDir = '.cache/openclipart-32';
if (!existsSync(`${dataDir}/manifest.jsonl`)) {
  execFileSync(process.execPath, ['bin/gesso.js', 'data', 'openclipart', '--size', '32', '--out', dataDir], { stdio: 'inherit' });
}
const steps = Number(process.argv[2] ?? 600);
const train = await loadImageDataset(dataDir, { split: 'train' });
const val = await loadImageDataset(dataDir, { split: 'val' });
const t0 = Date.now();
const r = await autoencoderCheck({ train, val, steps, evalEvery: steps / 3, quiet: false, batchSize: 32, show: 12 });
for (const e of r.evals) console.log(`step ${String(e.step).padStart(5)}  validation MSE ${e.mse.toFixed(4)}  PSNR ${e.psnr.toFixed(2)} dB`);
console.log(`${r.params} parameters, ${train.items.length} training drawings, ${val.items.length} validation, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
await writeImageFile('docs/engine-autoencoder.png', r.grid.pixels, r.grid.width, r.grid.height, 3);
console.log('wrote docs/engine-autoencoder.png');
