/** Sample grids: a batch of NCHW images in [-1, 1] laid out as one RGB picture (for docs and training samples). */
import { InputError } from '../core/errors.ts';

export interface GridImage {
  /** HWC, RGB, 0-255. */
  pixels: Uint8Array;
  width: number;
  height: number;
}

export interface GridOptions {
  /** Images per row; default all in one row. */
  cols?: number;
  /** Gap between cells in pixels (grey); default 2. */
  gap?: number;
  /** Nearest-neighbour magnification of every cell; default 1. */
  scale?: number;
}

/** Lays out `n` images of (C, H, W) (C = 1 or 3, values in [-1, 1]) from a flat NCHW batch. */
export function batchToGrid(batch: Float32Array, dims: readonly [number, number, number, number], options: GridOptions = {}): GridImage {
  const [n, c, h, w] = dims;
  if (batch.length !== n * c * h * w) throw new InputError(`batchToGrid: ${batch.length} values for (${dims.join(', ')})`);
  if (c !== 1 && c !== 3) throw new InputError(`batchToGrid: ${c} channels; expected 1 or 3`);
  const cols = Math.max(1, Math.min(options.cols ?? n, n));
  const rows = Math.ceil(n / cols);
  const gap = options.gap ?? 2;
  const s = options.scale ?? 1;
  const cellW = w * s;
  const cellH = h * s;
  const width = cols * cellW + (cols + 1) * gap;
  const height = rows * cellH + (rows + 1) * gap;
  const pixels = new Uint8Array(width * height * 3).fill(128);
  for (let i = 0; i < n; i++) {
    const x0 = gap + (i % cols) * (cellW + gap);
    const y0 = gap + Math.floor(i / cols) * (cellH + gap);
    for (let y = 0; y < cellH; y++) {
      for (let x = 0; x < cellW; x++) {
        const src = Math.floor(y / s) * w + Math.floor(x / s);
        const dst = ((y0 + y) * width + x0 + x) * 3;
        for (let k = 0; k < 3; k++) {
          const v = batch[i * c * h * w + (c === 1 ? 0 : k) * h * w + src];
          pixels[dst + k] = Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
        }
      }
    }
  }
  return { pixels, width, height };
}

/** Stacks grids of equal width top to bottom. */
export function stackGrids(grids: readonly GridImage[]): GridImage {
  const width = grids[0]?.width ?? 0;
  if (grids.some((g) => g.width !== width)) throw new InputError('stackGrids: grids differ in width');
  const height = grids.reduce((s, g) => s + g.height, 0);
  const pixels = new Uint8Array(width * height * 3);
  let offset = 0;
  for (const g of grids) {
    pixels.set(g.pixels, offset);
    offset += g.pixels.length;
  }
  return { pixels, width, height };
}
