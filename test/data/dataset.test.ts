import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildDataset } from '../../src/data/build-dataset.ts';
import { folderSources } from '../../src/data/folder-source.ts';
import { loadImageDataset } from '../../src/data/dataset.ts';
import { InputError } from '../../src/core/errors.ts';
import { Rng } from '../../src/core/rng.ts';

/** A 16-px dataset of solid colours: red, green, blue, black, plus a half-white one. */
async function makeDataset(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-dataset-'));
  mkdirSync(join(dir, 'in'));
  const colours: [string, string][] = [
    ['red', '#ff0000'],
    ['green', '#00ff00'],
    ['blue', '#0000ff'],
    ['black', '#000000'],
  ];
  for (const [name, hex] of colours) {
    await sharp({ create: { width: 16, height: 16, channels: 3, background: hex } })
      .png()
      .toFile(join(dir, 'in', `${name}.png`));
  }
  // Left half black, right half white: checks the pixel layout (x runs fastest within a row).
  await sharp({ create: { width: 16, height: 16, channels: 3, background: '#ffffff' } })
    .composite([{ input: { create: { width: 8, height: 16, channels: 3, background: '#000000' } }, left: 0, top: 0 }])
    .png()
    .toFile(join(dir, 'in', 'half.png'));
  await buildDataset(await folderSources(join(dir, 'in'), { fit: 'crop' }), { outDir: join(dir, 'out'), name: 't', size: 16, seed: 0, valFraction: 0.4 });
  return dir;
}

test('loadImageDataset reads every image once and gives (B, 3, H, W) batches in [-1, 1]', async () => {
  const dir = await makeDataset();
  try {
    const ds = await loadImageDataset(join(dir, 'out'));
    assert.equal(ds.items.length, 5);
    assert.equal(ds.size, 16);
    assert.equal(ds.pixels.length, 5 * 3 * 16 * 16);
    const index = (name: string): number => ds.items.findIndex((it) => it.source === `${name}.png`);
    const batch = ds.readBatch([index('red'), index('blue'), index('half')]);
    assert.equal(batch.length, 3 * 3 * 16 * 16); // (3, 3, 16, 16)
    assert.ok(batch.every((v) => v >= -1 && v <= 1));
    const plane = 16 * 16;
    const at = (b: number, c: number, y: number, x: number): number => batch[((b * 3 + c) * 16 + y) * 16 + x];
    assert.deepEqual([at(0, 0, 5, 5), at(0, 1, 5, 5), at(0, 2, 5, 5)], [1, -1, -1]); // red
    assert.deepEqual([at(1, 0, 0, 15), at(1, 1, 0, 15), at(1, 2, 0, 15)], [-1, -1, 1]); // blue
    assert.deepEqual([at(2, 0, 3, 2), at(2, 2, 3, 2), at(2, 1, 3, 12)], [-1, -1, 1]); // half: black left, white right
    assert.equal(batch.subarray(2 * 3 * plane).filter((v) => v === 1).length, (3 * plane) / 2);
    assert.deepEqual(ds.captions([index('red')]), [ds.items[index('red')]?.caption]);
    const sample = ds.sampleIndices(new Rng(1), 8);
    assert.equal(sample.length, 8);
    assert.ok(sample.every((i) => Number.isInteger(i) && i >= 0 && i < 5));
    assert.throws(() => ds.readBatch([5]), RangeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the split filter loads only that split', async () => {
  const dir = await makeDataset();
  try {
    const all = await loadImageDataset(join(dir, 'out'), { split: 'all' });
    const train = all.items.filter((it) => it.split === 'train').length;
    const val = all.items.length - train;
    if (train > 0) assert.ok((await loadImageDataset(join(dir, 'out'), { split: 'train' })).items.every((it) => it.split === 'train'));
    if (val > 0) assert.equal((await loadImageDataset(join(dir, 'out'), { split: 'val' })).items.length, val);
    else await assert.rejects(loadImageDataset(join(dir, 'out'), { split: 'val' }), /no images in split "val"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad manifest or a missing folder is an InputError naming it', async () => {
  const dir = await makeDataset();
  try {
    await assert.rejects(loadImageDataset(join(dir, 'nowhere')), (e: unknown) => e instanceof InputError && /manifest.jsonl is missing/.test(e.message));
    const manifest = join(dir, 'out', 'manifest.jsonl');
    const good = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, good + '{"file": "images/x.png"\n');
    await assert.rejects(loadImageDataset(join(dir, 'out')), /line 6 is not JSON/);
    const line = JSON.parse(good.split('\n')[0] as string) as Record<string, unknown>;
    writeFileSync(manifest, JSON.stringify({ ...line, file: '../../etc/passwd' }) + '\n');
    await assert.rejects(loadImageDataset(join(dir, 'out')), /not a path inside the dataset folder/);
    writeFileSync(manifest, JSON.stringify({ ...line, split: 'test' }) + '\n');
    await assert.rejects(loadImageDataset(join(dir, 'out')), /split "test" is not "train" or "val"/);
    writeFileSync(manifest, JSON.stringify({ ...line, file: 'images/gone.png' }) + '\n');
    await assert.rejects(loadImageDataset(join(dir, 'out')), (e: unknown) => e instanceof InputError && /cannot read/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
