/**
 * Models the server can use, chosen by id (the folder name) from configured folders: a client never
 * sends a filesystem path. Loaded models are kept (a few seconds to load; the default model ~30 MB);
 * a model with LoRAs merged in is a copy of its weights, so only a few of those are kept.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../core/errors.ts';
import { DEFAULT_MODEL_NAME } from '../core/paths.ts';
import { GanModel } from '../pipelines/gan-model.ts';
import { DiffusionModel } from '../pipelines/model-folder.ts';
import { NotFoundError } from '../studio/library.ts';
import { LoraFolders, type LoraWeight } from './loras.ts';
import { findModel, listCatalog, type CatalogEntry, type ModelKind } from './model-catalog.ts';

/** The repository's models/ folder, which holds gesso's shipped default model. */
export const SHIPPED_MODELS_FOLDER = fileURLToPath(new URL('../../models/', import.meta.url));
export const DEFAULT_MODEL_ID = DEFAULT_MODEL_NAME;
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface ModelEntry {
  id: string;
  /** Absolute folder (server-side only; never sent to clients). */
  dir: string;
}

/** Models with LoRAs merged in that are kept loaded (least recently used ones not in use are released). */
export const KEPT_LORA_VARIANTS = 2;

export class ModelRegistry {
  private readonly loaded = new Map<string, Promise<DiffusionModel>>();
  private readonly gans = new Map<string, Promise<GanModel>>();
  /** Models with LoRAs, by model id and LoRAs; Map order is least recently used first. */
  private readonly variants = new Map<string, { model: Promise<DiffusionModel>; users: number }>();
  readonly loras: LoraFolders;

  constructor(
    readonly folders: readonly string[] = [SHIPPED_MODELS_FOLDER],
    loraFolders: readonly string[] = [],
  ) {
    this.loras = new LoraFolders(loraFolders);
  }

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

  /**
   * Runs `use` with the model `id` and the LoRAs merged in at their weights (none: the shared loaded
   * model). A model with LoRAs is kept for the next generation that asks for the same ones.
   */
  async withLoras<T>(id: string, loras: readonly LoraWeight[], use: (model: DiffusionModel) => Promise<T>): Promise<T> {
    if (loras.length === 0) return use(await this.load(id));
    const entry = this.resolve(id);
    const chosen = [...loras].sort((a, b) => a.name.localeCompare(b.name));
    const key = `${entry.id}|${chosen.map((l) => `${l.name}:${l.weight}`).join('|')}`;
    let variant = this.variants.get(key);
    if (!variant) {
      const model = DiffusionModel.load(entry.dir, { loras: chosen.map((l) => ({ path: this.loras.resolve(l.name).path, weight: l.weight })) });
      variant = { model, users: 0 };
      model.catch(() => this.variants.delete(key));
    }
    this.variants.delete(key);
    this.variants.set(key, variant); // most recently used last
    variant.users++;
    try {
      return await use(await variant.model);
    } finally {
      variant.users--;
      await this.releaseIdleVariants();
    }
  }

  private async releaseIdleVariants(): Promise<void> {
    const idle = [...this.variants].filter(([, v]) => v.users === 0);
    const excess = this.variants.size - KEPT_LORA_VARIANTS;
    for (const [key, v] of idle.slice(0, Math.max(0, excess))) {
      this.variants.delete(key);
      await v.model.then(
        (m) => m.release(),
        () => undefined,
      );
    }
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
    const all: Promise<{ release(): Promise<void> }>[] = [...this.loaded.values(), ...this.gans.values(), ...[...this.variants.values()].map((v) => v.model)];
    this.loaded.clear();
    this.gans.clear();
    this.variants.clear();
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
