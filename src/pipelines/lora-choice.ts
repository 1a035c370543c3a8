/**
 * Which LoRAs a generation uses: `--lora FILE[:WEIGHT]` arguments and the prompt's `<lora:name:w>` tags,
 * whose names are files `<name>.safetensors` in a LoRA folder (default ./loras, as A1111's models/Lora).
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { extractLoraTags } from '../text/lora-tags.ts';
import type { LoraChoice } from './model-folder.ts';

export const DEFAULT_LORA_DIR = 'loras';

/** "style.safetensors:0.8" -> { path, weight 0.8 }; no ":number" suffix means weight 1. */
export function parseLoraArgument(arg: string): LoraChoice {
  const colon = arg.lastIndexOf(':');
  const tail = colon > 0 ? arg.slice(colon + 1) : '';
  const weighted = colon > 0 && tail.trim() !== '' && Number.isFinite(Number(tail));
  if (colon > 0 && !weighted && !existsSync(arg)) {
    throw new InputError(`--lora ${arg}: weight "${tail}" is not a number (expected FILE or FILE:WEIGHT, e.g. style.safetensors:0.8)`);
  }
  const path = weighted ? arg.slice(0, colon) : arg;
  if (!existsSync(path)) throw new InputError(`--lora ${arg}: no file ${path}`);
  return { path, weight: weighted ? Number(tail) : 1 };
}

/** LoRAs from arguments and prompt tags; one name may not be asked for at two weights. */
export function chooseLoras(prompt: string, args: readonly string[], loraDir = DEFAULT_LORA_DIR): LoraChoice[] {
  const chosen = args.map(parseLoraArgument);
  for (const tag of extractLoraTags(prompt).tags) {
    const path = join(loraDir, `${tag.name}.safetensors`);
    if (!existsSync(path)) throw new InputError(`prompt tag <lora:${tag.name}:${tag.weight}>: no file ${path} (put the LoRA there or pass --lora-dir DIR)`);
    chosen.push({ path, weight: tag.weight });
  }
  const byName = new Map<string, LoraChoice>();
  for (const c of chosen) {
    const name = basename(c.path).replace(/\.safetensors$/i, '');
    const before = byName.get(name);
    if (before && before.weight !== c.weight) throw new InputError(`LoRA "${name}" is asked for at weights ${before.weight} and ${c.weight}; give it once`);
    byName.set(name, c);
  }
  return [...byName.values()];
}
