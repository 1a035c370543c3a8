/**
 * GIMP pattern files (.pat, as in Debian's gimp-data): a big-endian header (header size, version 1,
 * width, height, bytes per pixel 1-4, magic "GPAT", NUL-terminated name) followed by the raw pixels
 * (grey, grey+alpha, RGB or RGBA). Format: GIMP's devel-docs/pat.txt. Alpha is composited on white.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import type { RgbPlanes } from './planes.ts';

export function readGimpPattern(path: string): RgbPlanes & { name: string } {
  const b = readFileSync(path);
  if (b.length < 24 || b.toString('latin1', 20, 24) !== 'GPAT') throw new InputError(`${path}: not a GIMP pattern (no "GPAT" magic at byte 20)`);
  const headerSize = b.readUInt32BE(0);
  const [width, height, bpp] = [b.readUInt32BE(8), b.readUInt32BE(12), b.readUInt32BE(16)];
  if (bpp < 1 || bpp > 4 || width < 1 || height < 1 || width * height > 16_000_000)
    throw new InputError(`${path}: pattern header says ${width}x${height} at ${bpp} bytes per pixel`);
  if (headerSize < 24 || b.length < headerSize + width * height * bpp) throw new InputError(`${path}: pattern is truncated`);
  const name = b.toString('utf8', 24, headerSize).replace(/\0.*$/s, '');
  const n = width * height;
  const data = new Float32Array(3 * n); // (3, H, W)
  for (let i = 0; i < n; i++) {
    const p = headerSize + i * bpp;
    const grey = bpp <= 2;
    const alpha = bpp === 2 || bpp === 4 ? (b[p + bpp - 1] as number) / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const v = (b[p + (grey ? 0 : c)] as number) / 255;
      data[c * n + i] = v * alpha + (1 - alpha);
    }
  }
  return { data, width, height, name };
}
