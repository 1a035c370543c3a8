// `gesso train gan --data DIR` on a folder of 100,000 files: mostly files that are not pictures, a few
// hundred empty "pictures" and some real ones. The loader lists them without reading them, skips and
// counts the broken ones, builds the dataset one picture at a time, and streams the training batches
// from disk instead of holding the images in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { prepareGanData } from '../../src/train/gan/gan-data.ts';

const FILES = 100_000;
const FOLDERS = 100;
const EMPTY_PICTURES = 260;
const GOOD_PICTURES = 40;

test('a folder of 100k files: listed without reading, broken pictures counted, batches streamed from disk', async () => {
  const root = mkdtempSync(join(tmpdir(), 'gesso-gan-100k-'));
  const data = join(root, 'data');
  try {
    const empty = Buffer.alloc(0);
    const notPicture = Buffer.from('{"not":"a picture"}');
    let written = 0;
    for (let f = 0; f < FOLDERS; f++) mkdirSync(join(data, `batch-${f}`), { recursive: true });
    const folder = (i: number): string => join(data, `batch-${i % FOLDERS}`);
    for (let i = 0; i < GOOD_PICTURES; i++, written++) {
      // distinct colours, so none is dropped as a duplicate; a dark square on white, so none is blank
      const px = Buffer.alloc(16 * 16 * 3, 255);
      for (let p = 4 * 16; p < 12 * 16; p++) px.set([(i * 6) % 256, (i * 37) % 256, 60], p * 3);
      await sharp(px, { raw: { width: 16, height: 16, channels: 3 } })
        .png()
        .toFile(join(folder(i), `good-${i}.png`));
    }
    for (let i = 0; i < EMPTY_PICTURES; i++, written++) writeFileSync(join(folder(i), `empty-${i}.png`), empty);
    for (let i = 0; written < FILES; i++, written++) writeFileSync(join(folder(i), `note-${i}.${i % 2 ? 'json' : 'dat'}`), i % 3 ? notPicture : empty);
    writeFileSync(join(data, 'LICENSE'), 'SPDX-License-Identifier: CC0-1.0\n');

    const lines: string[] = [];
    const rssBefore = process.memoryUsage().rss;
    // An in-memory budget of 0 bytes: whatever the dataset's size, batches must come from disk.
    const result = await prepareGanData(data, join(root, 'run'), 64, (l) => lines.push(l), 0);
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    assert.ok(
      lines.some((l) => l.includes(`${GOOD_PICTURES + EMPTY_PICTURES} pictures in ${data}`)),
      lines.join('\n'),
    );
    assert.equal(result.skipped.broken, EMPTY_PICTURES, 'every empty picture skipped and counted');
    assert.ok(
      result.warnings.some((w) => w.startsWith(`skipped ${EMPTY_PICTURES} unreadable file(s)`)),
      result.warnings.join('\n'),
    );
    assert.equal(result.licences['CC0-1.0'], GOOD_PICTURES, 'every good picture kept, with its folder licence');
    assert.equal(result.train.storage, 'disk');
    assert.ok(lines.some((l) => l.includes('batches are decoded from disk')));
    const batch = await result.train.readBatch([0, result.train.count - 1]); // (2, 3, 64, 64)
    assert.equal(batch.length, 2 * 3 * 64 * 64);
    assert.ok(
      batch.every((v) => v >= -1 && v <= 1),
      'pixels in [-1, 1]',
    );
    assert.ok(
      batch.some((v) => v < 0.5),
      'the dark square is there',
    );
    // 100k directory entries and 300 renders need a few MB, not one buffer per file.
    assert.ok(rssGrowth < 256 * 2 ** 20, `memory grew by ${Math.round(rssGrowth / 2 ** 20)} MiB`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
