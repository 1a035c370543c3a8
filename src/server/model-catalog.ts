/**
 * Every installed model, whatever it does: text-to-image (model_index.json), GAN (gan.json), AdaIN style
 * (config.json + decoder.safetensors) and fast style networks (style.onnx), with what their folders say
 * about them — the model card (README.md), measured metrics (eval.json), training facts and the
 * pictures the card shows. The Models page and the Explore / Style pages read this.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.ts';
import { NotFoundError } from '../studio/library.ts';

export type ModelKind = 'diffusion' | 'gan' | 'style-adain' | 'style-fast';

export interface CatalogEntry {
  id: string;
  kind: ModelKind;
  /** Absolute folder (server-side only; never sent to clients). */
  dir: string;
}

export interface ModelCard {
  id: string;
  kind: ModelKind;
  /** README.md of the folder (markdown), or null. */
  card: string | null;
  /** eval.json, or null. */
  metrics: JsonValue;
  /** Training facts: training.json, or gan.json's / config.json's `training`. */
  training: JsonValue;
  /** Licences of the training data, where the folder records them. */
  licences: JsonValue;
  /** PNG files in the folder that the card can show (served by GET /api/models/:id/files/:name). */
  pictures: string[];
  /** GAN genes (named directions), for the Explore page's sliders. */
  genes: string[];
  sizeBytes: number;
}

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const PICTURE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}\.png$/;
/** Cards and JSON files bigger than this are not read whole (gan.json holds the genes: ~150 KB). */
const MAX_TEXT_BYTES = 4 * 1024 * 1024;

/** What kind of model a folder holds, or null when it is not a model folder. */
export function modelKind(dir: string): ModelKind | null {
  if (existsSync(join(dir, 'model_index.json'))) return 'diffusion';
  if (existsSync(join(dir, 'gan.json'))) return 'gan';
  if (existsSync(join(dir, 'decoder.safetensors')) && existsSync(join(dir, 'config.json'))) return 'style-adain';
  if (existsSync(join(dir, 'style.onnx'))) return 'style-fast';
  return null;
}

/** Every model folder directly under `folders` (the first folder wins a name). */
export function listCatalog(folders: readonly string[]): CatalogEntry[] {
  const seen = new Map<string, CatalogEntry>();
  for (const folder of folders) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder).sort()) {
      const dir = resolve(folder, name);
      if (!MODEL_ID.test(name) || seen.has(name) || !statSync(dir).isDirectory()) continue;
      const kind = modelKind(dir);
      if (kind) seen.set(name, { id: name, kind, dir });
    }
  }
  return [...seen.values()];
}

/** The catalog entry of `id`, checked to be of one of `kinds`. */
export function findModel(folders: readonly string[], id: string, kinds?: readonly ModelKind[]): CatalogEntry {
  if (typeof id !== 'string' || !MODEL_ID.test(id))
    throw new InputError(`model ${JSON.stringify(id)}: expected a model id (a folder name: letters, digits, . _ -)`);
  const all = listCatalog(folders);
  const entry = all.find((m) => m.id === id);
  const fitting = all.filter((m) => !kinds || kinds.includes(m.kind)).map((m) => m.id);
  if (!entry) throw new NotFoundError(`model ${JSON.stringify(id)} not found; available: ${fitting.join(', ') || 'none'}`);
  if (kinds && !kinds.includes(entry.kind))
    throw new InputError(`model ${JSON.stringify(id)} is a ${entry.kind} model; expected ${kinds.join(' or ')} (${fitting.join(', ') || 'none installed'})`);
  return entry;
}

function readJson(path: string): JsonObject | null {
  if (!existsSync(path) || statSync(path).size > MAX_TEXT_BYTES) return null;
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as JsonValue;
    return isJsonObject(value) ? value : null;
  } catch {
    return null; // a broken file is shown as missing, not as an error of the whole catalog
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const s = statSync(path);
    total += s.isDirectory() ? folderBytes(path) : s.size;
  }
  return total;
}

/** The card of one catalog entry. */
export function modelCard(entry: CatalogEntry): ModelCard {
  const readme = join(entry.dir, 'README.md');
  const card = existsSync(readme) && statSync(readme).size <= MAX_TEXT_BYTES ? readFileSync(readme, 'utf8') : null;
  const own = entry.kind === 'gan' ? readJson(join(entry.dir, 'gan.json')) : entry.kind === 'style-adain' ? readJson(join(entry.dir, 'config.json')) : null;
  const training = readJson(join(entry.dir, 'training.json')) ?? (own && isJsonObject(own.training) ? own.training : null);
  const licences = training && isJsonObject(training) && training.licences !== undefined ? training.licences : card ? licenceText(card) : null;
  const genes = own && Array.isArray(own.genes) ? own.genes.flatMap((g) => (isJsonObject(g) && typeof g.name === 'string' ? [g.name] : [])) : [];
  return {
    id: entry.id,
    kind: entry.kind,
    card,
    metrics: readJson(join(entry.dir, 'eval.json')),
    training,
    licences,
    pictures: readdirSync(entry.dir)
      .filter((n) => PICTURE.test(n))
      .sort(),
    genes,
    sizeBytes: folderBytes(entry.dir),
  };
}

const LICENCE = /\b(CC0|CC-BY[-A-Z0-9.]*|GPL-?[0-9]|public[ -]domain|MIT licen[cs]e|Apache)/i;

/** The first paragraph or list item of a card that names a licence (markdown marks removed), or null. */
export function licenceText(card: string): string | null {
  const lines = card.replace(/\r/g, '').split('\n');
  // A "Data" / "Licence" section first, then anywhere.
  const section = Math.max(
    0,
    lines.findIndex((l) => /^#+ .*(data|licen)/i.test(l)),
  );
  const names = (l: string): boolean => LICENCE.test(l) && !/^\s*(#|\|)/.test(l);
  const found = lines.findIndex((l, i) => i >= section && names(l));
  const start = found >= 0 ? found : lines.findIndex(names);
  if (start < 0) return null;
  // Back to the start of its paragraph or list item, then on to its end.
  let from = start;
  while (from > 0 && (lines[from - 1] as string).trim() !== '' && !/^\s*[-*] /.test(lines[from] as string)) from--;
  let to = start + 1;
  while (to < lines.length && (lines[to] as string).trim() !== '' && !/^\s*([-*] |#)/.test(lines[to] as string)) to++;
  const text = lines
    .slice(from, to)
    .map((l) => l.trim().replace(/^[-*] /, ''))
    .join(' ')
    .replace(/\*\*|`/g, '');
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

/** The bytes of a PNG a card shows: only a name listed in the folder, never a joined path. */
export function modelPicture(entry: CatalogEntry, name: string): Uint8Array {
  if (!PICTURE.test(name) || !readdirSync(entry.dir).includes(name)) throw new NotFoundError(`model ${entry.id} has no picture ${JSON.stringify(name)}`);
  return new Uint8Array(readFileSync(join(entry.dir, name)));
}
