import { join } from 'node:path';
import { FILE_LIMITS, readTextFile } from '../core/safe-read.ts';
import { InputError } from '../core/errors.ts';

/**
 * Names of emoji: the English CLDR annotations (short name and keywords) and Unicode's group/subgroup
 * of each emoji, as the npm package `emojibase-data` ships them (en/data.json, meta/groups.json; MIT,
 * data from Unicode CLDR). One name list serves every emoji set: sets that name files by code point
 * (Twemoji, Noto, OpenMoji) are matched by `hexKey`, sets that name them by short name (Fluent) by `slug`.
 */

export interface EmojiName {
  /** CLDR short name, e.g. "red apple". */
  label: string;
  /** Code points, upper-case hex joined by "-", e.g. "1F34E". */
  hexcode: string;
  /** CLDR keywords, e.g. ["apple", "fruit", "red"]. */
  tags: string[];
  /** Unicode group and subgroup, e.g. "food-drink", "food-fruit". */
  group: string;
  subgroup: string;
}

/** Groups and subgroups left out: skin-tone/hair swatches, regional-indicator letters and national flags. */
const SKIPPED_GROUPS = new Set(['component']);
const SKIPPED_SUBGROUPS = new Set(['country-flag', 'subdivision-flag']);

/** A code-point sequence as a match key: lower case, variation selector FE0F dropped (sets differ on it). */
export function hexKey(hexcode: string): string {
  return hexcode
    .toLowerCase()
    .split(/[-_]/)
    .filter((p) => p !== 'fe0f' && p.length > 0)
    .join('-');
}

/** A short name as a file-name slug: "A button (blood type)" -> "a-button-blood-type". */
export function slug(label: string): string {
  return label
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * The emoji worth drawing from an `emojibase-data` package folder, in Unicode order: base emoji only
 * (skin-tone variants are nested in the data, so they are not listed), without the skipped groups.
 */
export function readEmojiNames(packageDir: string): EmojiName[] {
  const dataPath = join(packageDir, 'en', 'data.json');
  const groupsPath = join(packageDir, 'meta', 'groups.json');
  const data = parseJson(readTextFile(dataPath, 'emoji name list', FILE_LIMITS.log), dataPath);
  const groups = parseJson(readTextFile(groupsPath, 'emoji group list'), groupsPath);
  if (!Array.isArray(data)) throw new InputError(`${dataPath} is not a JSON list of emoji`);
  const groupNames = nameTable(groups, 'groups', groupsPath);
  const subgroupNames = nameTable(groups, 'subgroups', groupsPath);
  const out: EmojiName[] = [];
  data.forEach((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) throw new InputError(`${dataPath} item ${i} is not an object`);
    const e = entry as Record<string, unknown>;
    if (typeof e['label'] !== 'string' || typeof e['hexcode'] !== 'string') {
      throw new InputError(`${dataPath} item ${i} has no string "label" and "hexcode"`);
    }
    if (typeof e['group'] !== 'number' || typeof e['subgroup'] !== 'number') return; // regional indicators: no group
    const group = groupNames.get(e['group']);
    const subgroup = subgroupNames.get(e['subgroup']);
    if (group === undefined || subgroup === undefined) {
      throw new InputError(`${dataPath} item ${i} (${e['label']}): group ${e['group']} / subgroup ${e['subgroup']} are not in ${groupsPath}`);
    }
    if (SKIPPED_GROUPS.has(group) || SKIPPED_SUBGROUPS.has(subgroup)) return;
    const tags = Array.isArray(e['tags']) ? e['tags'].filter((t): t is string => typeof t === 'string') : [];
    out.push({ label: e['label'], hexcode: e['hexcode'], tags, group, subgroup });
  });
  if (out.length === 0) throw new InputError(`${dataPath} lists no emoji outside the skipped groups`);
  return out;
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(`${path} is not valid JSON`);
  }
}

function nameTable(groups: unknown, key: 'groups' | 'subgroups', path: string): Map<number, string> {
  const table = typeof groups === 'object' && groups !== null ? (groups as Record<string, unknown>)[key] : undefined;
  if (typeof table !== 'object' || table === null) throw new InputError(`${path} has no "${key}" table`);
  const out = new Map<number, string>();
  for (const [k, v] of Object.entries(table)) if (typeof v === 'string') out.set(Number(k), v);
  return out;
}
