// Tiny `gesso data` folders for the default-model tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/core/rng.ts';

/** Discs of one colour with one caption, 4 train + 1 val. */
export async function writeDataset(dir: string, caption: string, category: string, rgb: [number, number, number]): Promise<void> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  const rng = new Rng(caption.length);
  const lines: string[] = [];
  for (let i = 0; i < 5; i++) {
    const px = Buffer.alloc(64 * 64 * 3, 255);
    const cx = 24 + rng.int(16);
    const r = 10 + rng.int(10);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) if ((x - cx) ** 2 + (y - 32) ** 2 < r * r) px.set(rgb, (y * 64 + x) * 3);
    const file = `images/${i}.png`;
    await sharp(px, { raw: { width: 64, height: 64, channels: 3 } })
      .png()
      .toFile(join(dir, file));
    lines.push(JSON.stringify({ file, caption, category, source: `test:${caption}:${i}`, licence: 'CC0-1.0', split: i === 0 ? 'val' : 'train', colors: [] }));
  }
  writeFileSync(join(dir, 'manifest.jsonl'), `${lines.join('\n')}\n`);
}
