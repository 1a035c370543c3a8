import sharp from 'sharp';
import { join } from 'node:path';
import { Rng } from '../core/rng.ts';
import { readManifest } from './dataset.ts';

/**
 * A contact sheet: a grid of random dataset pictures with their captions printed under them, to check
 * by eye that renders are centred on white and captions fit the pictures.
 */

export interface ContactSheetOptions {
  count?: number;
  seed?: number;
  columns?: number;
  /** Side of each picture on the sheet, in pixels. Default 128. */
  cell?: number;
}

const FONT_SIZE = 11;
const LINE_HEIGHT = 13;
const CAPTION_LINES = 4;
const PAD = 8;

/** Renders the sheet as PNG bytes. */
export async function contactSheet(dir: string, options: ContactSheetOptions = {}): Promise<Buffer> {
  const items = readManifest(dir);
  const count = Math.min(options.count ?? 64, items.length);
  const chosen = new Rng(options.seed ?? 0).shuffle([...items]).slice(0, count);
  const columns = options.columns ?? 8;
  const cell = options.cell ?? 128;
  const cellW = cell + 2 * PAD;
  const cellH = cell + PAD + CAPTION_LINES * LINE_HEIGHT + PAD;
  const rows = Math.ceil(count / columns);
  const width = columns * cellW;
  const height = rows * cellH;

  const tiles = await Promise.all(
    chosen.map(async (item, i) => ({
      input: await sharp(join(dir, item.file)).resize(cell, cell, { kernel: 'nearest' }).png().toBuffer(),
      left: (i % columns) * cellW + PAD,
      top: Math.floor(i / columns) * cellH + PAD,
    })),
  );
  const charsPerLine = Math.floor(cellW / (FONT_SIZE * 0.55));
  const texts = chosen.flatMap((item, i) => {
    const x = (i % columns) * cellW + PAD;
    const y = Math.floor(i / columns) * cellH + PAD + cell + LINE_HEIGHT;
    return wrap(item.caption, charsPerLine, CAPTION_LINES).map((line, k) => `<text x="${x}" y="${y + k * LINE_HEIGHT}">${escapeXml(line)}</text>`);
  });
  // Grey frames show where each square ends, so off-centre renders stand out.
  const frames = chosen.map(
    (_, i) =>
      `<rect x="${(i % columns) * cellW + PAD - 0.5}" y="${Math.floor(i / columns) * cellH + PAD - 0.5}" width="${cell + 1}" height="${cell + 1}" fill="none" stroke="#bbb"/>`,
  );
  const overlay = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<g font-family="DejaVu Sans, sans-serif" font-size="${FONT_SIZE}" fill="#222">${texts.join('')}</g>${frames.join('')}</svg>`,
  );
  return sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([...tiles, { input: overlay, left: 0, top: 0 }])
    .png()
    .toBuffer();
}

/** Greedy word wrap into at most `maxLines` lines, the last cut with "…" if the text is longer. */
function wrap(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (next.length <= width || !line) line = next;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = `${(kept[maxLines - 1] as string).slice(0, width - 1)}…`;
    return kept;
  }
  return lines.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
