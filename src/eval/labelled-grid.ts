/**
 * A grid of generated images with a label per row (the prompt) and per column (the seed), drawn by
 * sharp: the cells composited onto a white canvas, the text as an SVG overlay (librsvg, the system's
 * sans-serif font). Written atomically as PNG.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import { InputError } from '../core/errors.ts';
import { writeFileAtomic } from '../weights/file-io.ts';

export interface GridCell {
  /** (H, W, 3) in [0, 1] */
  pixels: Float32Array;
  width: number;
  height: number;
}

export interface GridRow {
  label: string;
  cells: GridCell[];
}

export interface LabelledGridOptions {
  /** Side of each cell in pixels; images of another size are resized (nearest neighbour, to show real pixels). */
  cell: number;
  columnLabels: string[];
  /** Width of the label column; default 220. */
  labelWidth?: number;
  gap?: number;
}

const HEADER = 28;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The grid as PNG bytes. */
export async function labelledGridPng(rows: readonly GridRow[], o: LabelledGridOptions): Promise<Buffer> {
  const cols = o.columnLabels.length;
  if (rows.length === 0 || cols === 0) throw new InputError('a grid needs at least one row and one column');
  for (const row of rows) if (row.cells.length !== cols) throw new InputError(`grid row "${row.label}" has ${row.cells.length} images; expected ${cols}`);
  const gap = o.gap ?? 6;
  const labelWidth = o.labelWidth ?? 220;
  const width = labelWidth + cols * (o.cell + gap) + gap;
  const height = HEADER + rows.length * (o.cell + gap) + gap;
  const fontSize = Math.max(12, Math.min(20, Math.round(o.cell / 10)));

  const composites: OverlayOptions[] = [];
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < cols; c++) {
      const cell = (rows[r] as GridRow).cells[c] as GridCell;
      const bytes = Buffer.alloc(cell.pixels.length);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, cell.pixels[i])) * 255);
      let img = sharp(bytes, { raw: { width: cell.width, height: cell.height, channels: 3 } });
      if (cell.width !== o.cell || cell.height !== o.cell) img = img.resize(o.cell, o.cell, { fit: 'fill', kernel: 'nearest' });
      composites.push({ input: await img.png().toBuffer(), left: labelWidth + gap + c * (o.cell + gap), top: HEADER + gap + r * (o.cell + gap) });
    }
  }
  const texts: string[] = [];
  o.columnLabels.forEach((label, c) => {
    const x = labelWidth + gap + c * (o.cell + gap) + o.cell / 2;
    texts.push(`<text x="${x}" y="${HEADER - 8}" text-anchor="middle" font-size="${Math.min(fontSize, 16)}">${escapeXml(label)}</text>`);
  });
  rows.forEach((row, r) => {
    const y = HEADER + gap + r * (o.cell + gap) + o.cell / 2 + fontSize / 3;
    texts.push(`<text x="${labelWidth - 10}" y="${y}" text-anchor="end" font-size="${fontSize}">${escapeXml(row.label)}</text>`);
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="DejaVu Sans, sans-serif" fill="#222">${texts.join('')}</g></svg>`;
  composites.push({ input: Buffer.from(svg), left: 0, top: 0 });
  return (
    sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
      .composite(composites)
      // A 256-colour palette: drawings lose nothing visible, and the file is about 1/6 the size (docs/ stays small).
      .png({ palette: true, compressionLevel: 9 })
      .toBuffer()
  );
}

/** Writes the grid to `path` (temp file + rename: no half-written PNG). */
export async function writeLabelledGrid(path: string, rows: readonly GridRow[], o: LabelledGridOptions): Promise<void> {
  const png = await labelledGridPng(rows, o);
  await mkdir(dirname(path), { recursive: true });
  writeFileAtomic(path, png);
}
