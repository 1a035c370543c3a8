/**
 * LoRA files the server can merge into a diffusion model at generation, chosen by name (the file name
 * without .safetensors, what a prompt's `<lora:name:w>` calls it) from configured folders: a client
 * never sends a path. LoRAs trained on the studio's Train page are installed in the data folder's loras/.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { NotFoundError } from '../studio/library.ts';
import { extractLoraTags } from '../text/lora-tags.ts';
import { readSafetensorsHeader } from '../weights/safetensors.ts';

const LORA_FILE = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})\.safetensors$/;
export const LORA_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Weights beyond this are almost always a typo (A1111 users work in about -2..2). */
export const MAX_LORA_WEIGHT = 4;
/** LoRAs merged into one generation at most. */
export const MAX_LORAS = 8;

export interface LoraEntry {
  name: string;
  /** Absolute file path (server-side only; never sent to clients). */
  path: string;
  bytes: number;
  /** The model folder's name it was trained on, when the file says (gesso and kohya write it). */
  baseModel: string | null;
  /** Training steps, when the file says. */
  steps: number | null;
}

/** A LoRA chosen for a generation by name, with the weight it is merged at. */
export interface LoraWeight {
  name: string;
  weight: number;
}

export class LoraFolders {
  constructor(readonly folders: readonly string[]) {}

  /** Every readable LoRA file directly in the folders (the first folder wins a name held twice). */
  list(): LoraEntry[] {
    const seen = new Map<string, LoraEntry>();
    for (const folder of this.folders) {
      if (!existsSync(folder)) continue;
      for (const file of readdirSync(folder).sort()) {
        const m = LORA_FILE.exec(file);
        const name = m?.[1];
        if (!name || seen.has(name)) continue;
        const path = resolve(folder, file);
        const entry = describe(name, path);
        if (entry) seen.set(name, entry);
      }
    }
    return [...seen.values()];
  }

  resolve(name: string): LoraEntry {
    if (typeof name !== 'string' || !LORA_NAME.test(name))
      throw new InputError(`LoRA ${JSON.stringify(name)}: expected a LoRA name (a file name without .safetensors: letters, digits, . _ -)`);
    const entry = this.list().find((l) => l.name === name);
    if (!entry) {
      const known = this.list()
        .map((l) => l.name)
        .join(', ');
      throw new NotFoundError(`LoRA ${JSON.stringify(name)} not found; available: ${known || 'none'}`);
    }
    return entry;
  }

  /**
   * The LoRAs of a generation: the chosen list plus the prompt's `<lora:name:w>` tags, each checked
   * (known name, finite weight in range) and given once; one name at two weights is an error.
   */
  choose(chosen: readonly LoraWeight[], prompt: string): LoraWeight[] {
    const all = [...chosen, ...extractLoraTags(prompt).tags.map((t) => ({ name: t.name, weight: t.weight }))];
    const byName = new Map<string, LoraWeight>();
    for (const [i, l] of all.entries()) {
      const where = i < chosen.length ? `loras[${i}]` : `prompt tag <lora:${l.name}:${l.weight}>`;
      if (!Number.isFinite(l.weight) || Math.abs(l.weight) > MAX_LORA_WEIGHT)
        throw new InputError(`${where}: weight ${l.weight} is out of range (expected a number from -${MAX_LORA_WEIGHT} to ${MAX_LORA_WEIGHT})`);
      this.resolve(l.name);
      const before = byName.get(l.name);
      if (before && before.weight !== l.weight) throw new InputError(`LoRA "${l.name}" is asked for at weights ${before.weight} and ${l.weight}; give it once`);
      byName.set(l.name, { name: l.name, weight: l.weight });
    }
    if (byName.size > MAX_LORAS) throw new InputError(`${byName.size} LoRAs: at most ${MAX_LORAS} can be merged into one generation`);
    return [...byName.values()];
  }
}

/** A listing entry from the file's header (not its tensors); null for a file that is not safetensors. */
function describe(name: string, path: string): LoraEntry | null {
  try {
    const meta = readSafetensorsHeader(path, path).metadata ?? {};
    const base = meta.gesso_base_model ?? meta.ss_sd_model_name;
    const steps = Number(meta.gesso_steps ?? meta.ss_steps);
    return {
      name,
      path,
      bytes: statSync(path).size,
      baseModel: base ? basename(base.replace(/[\\/]+$/, '')) : null,
      steps: Number.isFinite(steps) ? steps : null,
    };
  } catch {
    return null; // unreadable: not offered (resolve() then says it is not found)
  }
}

/** The LoRA folder inside a studio data folder (where Train page LoRAs are installed). */
export function studioLoraDir(dataDir: string): string {
  return join(dataDir, 'loras');
}
