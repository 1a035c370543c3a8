import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImageDataset } from '../../src/data/dataset.ts';
import { autoencoderCheck } from '../../src/train/autoencoder-check.ts';

const hasClipart = spawnSync('dpkg', ['-s', 'openclipart-svg']).status === 0;

test('a conv autoencoder trained on real drawings reconstructs held-out ones better', {
  skip: hasClipart ? false : 'openclipart-svg is not installed (apt-get install openclipart-svg)',
}, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'gesso-ae-')), 'data');
  execFileSync(process.execPath, ['bin/gesso.js', 'data', 'openclipart', '--size', '32', '--limit', '300', '--out', dir, '--val-fraction', '0.1'], {
    stdio: 'ignore',
  });
  const train = await loadImageDataset(dir, { split: 'train' });
  const val = await loadImageDataset(dir, { split: 'val' });
  assert.ok(train.items.length > 200 && val.items.length >= 10, `${train.items.length} train, ${val.items.length} val`);
  const r = await autoencoderCheck({ train, val, steps: 60, evalEvery: 60, batchSize: 16 });
  const [before, after] = [r.evals[0]!, r.evals[r.evals.length - 1]!];
  assert.ok(after.mse < before.mse / 5, `validation MSE ${before.mse} -> ${after.mse}`);
  assert.ok(after.psnr > before.psnr + 7, `PSNR ${before.psnr.toFixed(1)} -> ${after.psnr.toFixed(1)} dB`);
});
