/**
 * Models the server can use, chosen by id (the folder name) from configured folders: a client never
 * sends a filesystem path. Loaded models are kept (a few seconds to load; the default model ~30 MB).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../core/errors.ts';
import { GanModel } from '../pipelines/gan-model.ts';
import { DiffusionModel } from '../pipelines/model-folder.ts';
import { NotFoundError } from '../studio/library.ts';
import { findModel, listCatalog, type CatalogEntry, type ModelKind } from './model-catalog.ts';

/** The repository's models/ folder, which holds gesso's shipped default model. */
export const SHIPPED_MODELS_FOLDER = fileURLToPath(new URL('../../models/', import.meta.url));
export const DEFAULT_MODEL_ID = 'gesso-clipart-v1';
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface ModelEntry {
  id: string;
  /** Absolute folder (server-side only; never sent to clients). */
  dir: string;
}

export class ModelRegistry {
  private readonly loaded = new Map<string, Promise<DiffusionModel>>();
  private readonly gans = new Map<string, Promise<GanModel>>();

  constructor(readonly folders: readonly string[] = [SHIPPED_MODELS_FOLDER]) {}

  /** Every model folder (one holding model_index.json) directly under the configured folders. */
  list(): ModelEntry[] {
    const seen = new Map<string, ModelEntry>();
    for (const folder of this.folders) {
      if (!existsSync(folder)) continue;
      for (const name of readdirSync(folder).sort()) {
        const dir = resolve(folder, name);
        if (!MODEL_ID.test(name) || seen.has(name)) continue;
        if (statSync(dir).isDirectory() && existsSync(join(dir, 'model_index.json'))) seen.set(name, { id: name, dir });
      }
    }
    return [...seen.values()];
  }

  get defaultId(): string {
    const all = this.list();
    if (all.some((m) => m.id === DEFAULT_MODEL_ID)) return DEFAULT_MODEL_ID;
    const first = all[0];
    if (!first) throw new InputError(`no model folders in ${this.folders.join(', ')}`);
    return first.id;
  }

  resolve(id: string): ModelEntry {
    if (typeof id !== 'string' || !MODEL_ID.test(id))
      throw new InputError(`model ${JSON.stringify(id)}: expected a model id (a folder name: letters, digits, . _ -)`);
    const entry = this.list().find((m) => m.id === id);
    if (!entry)
      throw new NotFoundError(
        `model ${JSON.stringify(id)} not found; available: ${
          this.list()
            .map((m) => m.id)
            .join(', ') || 'none'
        }`,
      );
    return entry;
  }

  /** The loaded model (loaded on first use, kept). */
  load(id: string): Promise<DiffusionModel> {
    const entry = this.resolve(id);
    let model = this.loaded.get(entry.id);
    if (!model) {
      model = DiffusionModel.load(entry.dir);
      model.catch(() => this.loaded.delete(entry.id));
      this.loaded.set(entry.id, model);
    }
    return model;
  }

  /** Every installed model of any kind (text-to-image, GAN, style), for the Models page. */
  catalog(): CatalogEntry[] {
    return listCatalog(this.folders);
  }

  /** The catalog entry of `id`, checked to be of one of `kinds`. */
  find(id: string, kinds?: readonly ModelKind[]): CatalogEntry {
    return findModel(this.folders, id, kinds);
  }

  /** A loaded GAN (gesso train gan's folder), kept like the diffusion models. */
  gan(id: string): Promise<GanModel> {
    const entry = this.find(id, ['gan']);
    let model = this.gans.get(entry.id);
    if (!model) {
      model = GanModel.load(entry.dir);
      model.catch(() => this.gans.delete(entry.id));
      this.gans.set(entry.id, model);
    }
    return model;
  }

  async release(): Promise<void> {
    const all: Promise<{ release(): Promise<void> }>[] = [...this.loaded.values(), ...this.gans.values()];
    this.loaded.clear();
    this.gans.clear();
    await Promise.all(
      all.map((m) =>
        m.then(
          (x) => x.release(),
          () => undefined,
        ),
      ),
    );
  }
}
