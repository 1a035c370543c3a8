/** Writes an exported model to disk: `model.onnx`, plus its external-data file when it has one. */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExportedModel } from './export.ts';

/** Writes each file to a temp name and renames it, so a failure never leaves a half-written model. */
export function saveOnnx(path: string, model: ExportedModel): void {
  const dir = dirname(path);
  const written: string[] = [];
  try {
    if (model.external) {
      const dataPath = join(dir, model.external.location);
      writeChunks(`${dataPath}.tmp`, model.external.chunks);
      written.push(`${dataPath}.tmp`);
    }
    writeChunks(`${path}.tmp`, [model.bytes]);
    written.push(`${path}.tmp`);
    for (const tmp of written) renameSync(tmp, tmp.slice(0, -4));
  } catch (e) {
    for (const tmp of written) rmSync(tmp, { force: true });
    throw e;
  }
}

function writeChunks(path: string, chunks: readonly Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += writeSync(fd, c, off, c.length - off);
    }
  } finally {
    closeSync(fd);
  }
}
