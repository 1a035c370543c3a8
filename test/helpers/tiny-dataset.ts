/**
 * A small dataset folder as `gesso data` writes it (manifest.jsonl + 64 px PNGs, CC0), for tests that
 * train from the studio: coloured rectangles on white, seeded (CC0 unless another licence is given).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.ts';
import { encodePng } from '../../src/image/write-image.ts';

export async function writeTinyDataset(dir: string, count = 16, size = 64, licence = 'CC0-1.0'): Promise<string> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  const rng = new Rng(3);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const px = new Uint8Array(size * size * 3).fill(255);
    const colour = [rng.int(256), rng.int(256), rng.int(256)];
    const [x0, y0] = [rng.int(size / 2), rng.int(size / 2)];
    const [w, h] = [8 + rng.int(size / 2 - 8), 8 + rng.int(size / 2 - 8)];
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) for (let c = 0; c < 3; c++) px[(y * size + x) * 3 + c] = colour[c] as number;
    const file = `images/shape-${i}.png`;
    writeFileSync(join(dir, file), await encodePng(px, size, size, 3));
    lines.push(
      JSON.stringify({
        file,
        caption: 'a coloured rectangle',
        category: 'shapes',
        source: 'test: drawn by gesso',
        licence,
        split: 'train',
        colors: [],
      }),
    );
  }
  writeFileSync(join(dir, 'manifest.jsonl'), `${lines.join('\n')}\n`);
  return dir;
}
