// A tiny image dataset (manifest.jsonl + images/) of three easily told-apart kinds of drawing in three
// categories: black squares (shapes/stars), red discs (food/fruit), blue bars (animals/mammals); 14 of
// each, 3 of them in the val split. For evaluation tests that need a classifier to learn something.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/core/rng.ts';

const SIZE = 64;

/** Category, caption, and how its drawings look: black squares, red discs, blue bars. */
export const KINDS = [
  { category: 'shapes/stars', caption: 'black star, stars, shapes', rgb: [0, 0, 0], shape: 'square' },
  { category: 'food/fruit', caption: 'red apple, fruit, food', rgb: [220, 30, 30], shape: 'disc' },
  { category: 'animals/mammals', caption: 'blue whale, mammals, animals', rgb: [30, 60, 220], shape: 'bar' },
] as const;

export async function writeShapeDataset(dir: string): Promise<void> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  const rng = new Rng(11);
  const lines: string[] = [];
  for (const [k, kind] of KINDS.entries()) {
    for (let i = 0; i < 14; i++) {
      const px = Buffer.alloc(SIZE * SIZE * 3, 255);
      const cx = 20 + rng.int(24);
      const cy = 20 + rng.int(24);
      const r = 8 + rng.int(8);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const dx = x - cx;
          const dy = y - cy;
          const inside =
            kind.shape === 'square'
              ? Math.abs(dx) < r && Math.abs(dy) < r
              : kind.shape === 'disc'
                ? dx * dx + dy * dy < r * r
                : Math.abs(dx) < r + 6 && Math.abs(dy) < 3;
          if (inside) px.set(kind.rgb, (y * SIZE + x) * 3);
        }
      }
      const file = `images/${k}-${i}.png`;
      await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } })
        .png()
        .toFile(join(dir, file));
      const split = i < 3 ? 'val' : 'train';
      lines.push(JSON.stringify({ file, caption: kind.caption, category: kind.category, source: `test:${file}`, licence: 'CC0-1.0', split, colors: [] }));
    }
  }
  writeFileSync(join(dir, 'manifest.jsonl'), `${lines.join('\n')}\n`);
}
