/** Datasets the server may register, by id (folder name) under configured folders: clients never send a path. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { NotFoundError } from '../studio/library.ts';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class DatasetFolders {
  constructor(readonly folders: readonly string[]) {}

  /** Every folder holding a manifest.jsonl (built by `gesso data`) directly under the configured folders. */
  list(): { id: string; dir: string }[] {
    const out = new Map<string, string>();
    for (const folder of this.folders) {
      if (!existsSync(folder)) continue;
      for (const name of readdirSync(folder).sort()) {
        const dir = resolve(folder, name);
        if (ID.test(name) && !out.has(name) && statSync(dir).isDirectory() && existsSync(join(dir, 'manifest.jsonl'))) out.set(name, dir);
      }
    }
    return [...out].map(([id, dir]) => ({ id, dir }));
  }

  resolve(id: string): string {
    if (typeof id !== 'string' || !ID.test(id))
      throw new InputError(`dataset ${JSON.stringify(id)}: expected a dataset id (a folder name: letters, digits, . _ -)`);
    const found = this.list().find((d) => d.id === id);
    if (!found)
      throw new NotFoundError(
        `dataset ${JSON.stringify(id)} not found in the server's dataset folders; available: ${
          this.list()
            .map((d) => d.id)
            .join(', ') || 'none'
        }`,
      );
    return found.dir;
  }
}
