/**
 * A ustar archive in memory (POSIX.1-1988): one 512-byte header per file, the data padded to 512 bytes,
 * two zero blocks at the end. Enough for exporting a collection as PNGs plus metadata.json; every tool
 * that reads tar reads it.
 */
import { InputError } from '../core/errors.ts';

export interface TarEntry {
  /** A plain file name (no folders, no ".."). */
  name: string;
  bytes: Uint8Array;
  mtimeMs?: number;
}

export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(e.name) || e.name.startsWith('.'))
      throw new InputError(`tar entry name ${JSON.stringify(e.name)}: expected a plain file name`);
    const header = Buffer.alloc(512);
    header.write(e.name, 0, 'ascii');
    header.write(octal(0o644, 8), 100, 'ascii');
    header.write(octal(0, 8), 108, 'ascii');
    header.write(octal(0, 8), 116, 'ascii');
    header.write(octal(e.bytes.length, 12), 124, 'ascii');
    header.write(octal(Math.floor((e.mtimeMs ?? Date.now()) / 1000), 12), 136, 'ascii');
    header.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
    header.write('0', 156, 'ascii');
    header.write('ustar\u000000', 257, 'ascii');
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
    parts.push(header, Buffer.from(e.bytes), Buffer.alloc((512 - (e.bytes.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\u0000`;
}
