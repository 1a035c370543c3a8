/**
 * Content-addressed image files: each PNG lives at images/<aa>/<bb>/<sha256>.png under the data folder,
 * written once, atomically (temp file + rename), so a crash never leaves a half-written image and the
 * same bytes are stored once however many library entries point at them.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { writeNewFile } from '../core/output-file.ts';

const SHA256 = /^[0-9a-f]{64}$/;

export class ImageStore {
  constructor(readonly root: string) {}

  pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new InputError(`image hash ${JSON.stringify(sha256)}: expected 64 lowercase hex digits`);
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), `${sha256}.png`);
  }

  /** Stores `png` (if not there already) and returns its sha256. */
  async put(png: Uint8Array): Promise<string> {
    const sha256 = createHash('sha256').update(png).digest('hex');
    const path = this.pathOf(sha256);
    if (!existsSync(path)) {
      await mkdir(join(this.root, sha256.slice(0, 2), sha256.slice(2, 4)), { recursive: true });
      await writeNewFile(path, png, { overwrite: true, what: 'image' }); // same bytes, same name: a race writes identical content
    }
    return sha256;
  }

  async get(sha256: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.pathOf(sha256)));
  }

  has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256));
  }
}
