/**
 * Folders of the installed gesso package, found from this file's own location, so they are the same
 * whether gesso runs from its sources (src/core/paths.ts) or compiled (dist/core/paths.js).
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the folder that holds package.json, models/ and assets/. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The shipped default text-to-image model's name: its folder under models/ and its id in the studio. */
export const DEFAULT_MODEL_NAME = 'gesso-default-v2';
/** The shipped default text-to-image model's folder. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL(`../../models/${DEFAULT_MODEL_NAME}/`, import.meta.url));

/** OpenAI CLIP's BPE vocabulary (MIT), vendored in assets/clip-bpe (see its README and LICENSE). */
export const DEFAULT_CLIP_BPE_DIR = fileURLToPath(new URL('../../assets/clip-bpe/', import.meta.url));

/**
 * `path` relative to the package root when it lies inside it (e.g. `.cache/eval/classifier-….safetensors`),
 * else unchanged: what reports committed with a model record, so they name no one's checkout folder.
 */
export function packageRelative(path: string): string {
  const inside = relative(PACKAGE_ROOT, resolve(path));
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}
