import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FILE_LIMITS, readTextFile } from '../core/safe-read.ts';
import { InputError } from '../core/errors.ts';
import { type EmojiName, hexKey, slug } from './emoji-names.ts';
import type { NpmPackageSpec } from './npm-package.ts';
import { writeFileAtomic } from '../weights/file-io.ts';

/**
 * The emoji sets `gesso data emoji` knows: which npm package ships each one's SVGs, the licence *of
 * its graphics* (not always the package's own: @twemoji/svg's package.json says MIT for the packaging,
 * Twemoji's graphics are CC-BY 4.0), the attribution the licence asks for, and how to find an emoji's
 * file in the unpacked package.
 */

export type EmojiSetId = 'twemoji' | 'fluent' | 'noto' | 'openmoji';

export interface EmojiSet {
  id: EmojiSetId;
  /** The style word in captions: "red apple, twemoji style". */
  style: string;
  package: NpmPackageSpec;
  /** SPDX id of the graphics' licence, recorded per file in the manifest. */
  licence: string;
  /** ShareAlike: a model trained on it may have to be shared under the same licence. */
  shareAlike: boolean;
  /** The attribution line for the model card. */
  attribution: string;
  /** A finder of each emoji's SVG in the unpacked package (undefined: the set does not draw it). */
  finder(packageDir: string): (name: EmojiName) => string | undefined;
}

/** The package of emoji names and groups (CLDR annotations; MIT). */
export const EMOJI_NAMES_PACKAGE: NpmPackageSpec = {
  name: 'emojibase-data',
  version: '17.0.0',
  integrity: 'sha512-Yvgb5AWoHViHV/gq1qr5ZAarcBip+B27/ZLRsUJkbgAEaLlZ/fof9g882LTpmEpyhBNEC0m2SEmItljHsTygjA==',
};

export const EMOJI_SETS: Record<EmojiSetId, EmojiSet> = {
  twemoji: {
    id: 'twemoji',
    style: 'twemoji',
    package: {
      name: '@twemoji/svg',
      version: '15.0.0',
      integrity: 'sha512-ZSPef2B6nBaYnfgdTbAy4jgW95o7pi2xPGwGCU+WMTxo7J6B1lMPTWwSq/wTuiMq+N0khQ90CcvYp1wFoQpo/w==',
    },
    licence: 'CC-BY-4.0',
    shareAlike: false,
    attribution:
      'Twemoji graphics © Twitter, Inc. and other contributors (https://github.com/jdecked/twemoji), licensed under CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/); npm package @twemoji/svg 15.0.0. Rendered at low resolution and used as training data.',
    finder: (dir) => byHexFile(dir, (stem) => stem),
  },
  fluent: {
    id: 'fluent',
    style: 'fluent',
    package: {
      name: 'fluentui-emoji',
      version: '1.3.0',
      integrity: 'sha512-JTXXwqIie2rWTgOkIJDJxr0WtwTz2WU4kdOq8buLVThYwQ264aFR2jdTyuon2oEbLqqGMT64zI4btyn1saB2xw==',
    },
    licence: 'MIT',
    shareAlike: false,
    attribution:
      'Fluent Emoji (flat) © Microsoft Corporation (https://github.com/microsoft/fluentui-emoji), MIT License; npm package fluentui-emoji 1.3.0. Rendered at low resolution and used as training data.',
    finder: (dir) => {
      const flat = join(dir, 'icons', 'flat');
      const files = new Set(listSvgStems(flat));
      return (name) => {
        const s = slug(name.label);
        // Emoji with skin tones come as "<name>-default.svg" plus one file per tone.
        const stem = files.has(s) ? s : files.has(`${s}-default`) ? `${s}-default` : undefined;
        return stem === undefined ? undefined : join(flat, `${stem}.svg`);
      };
    },
  },
  noto: {
    id: 'noto',
    style: 'noto',
    package: {
      name: '@iconify-json/noto',
      version: '1.2.9',
      integrity: 'sha512-DQiuXENbun41ch+XPSV55H9FaWKpHTyz46YIKtSaKYD4fIDDzL1tR6H4np/T38jfrTAeI3rcKF0mqHYeZVAuaw==',
    },
    licence: 'Apache-2.0',
    shareAlike: false,
    attribution:
      'Noto Emoji © Google Inc. (https://github.com/googlefonts/noto-emoji), Apache License 2.0; SVGs from the npm package @iconify-json/noto 1.2.9. Rendered at low resolution and used as training data.',
    finder: iconifyFinder,
  },
  openmoji: {
    id: 'openmoji',
    style: 'openmoji',
    package: {
      name: 'openmoji',
      version: '17.0.0',
      integrity: 'sha512-EBnYrNGdcdw+OSXmENeNE1yBNRu6tOraTmoOyUbJkTmvT/+XETp8RZLSJFzD3lrPc5N9CzsyPnRTk0Vp4UaI9w==',
    },
    licence: 'CC-BY-SA-4.0',
    shareAlike: true,
    attribution:
      'OpenMoji – the open-source emoji and icon project (https://openmoji.org), licensed under CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/); npm package openmoji 17.0.0. Rendered at low resolution and used as training data.',
    finder: (dir) => byHexFile(join(dir, 'color', 'svg'), (stem) => stem),
  },
};

/** The sets built when --sets is not given: the ones whose licences do not pass on to a trained model (no ShareAlike). */
export const DEFAULT_EMOJI_SETS: EmojiSetId[] = ['twemoji', 'fluent', 'noto'];

export function parseEmojiSets(text: string): EmojiSetId[] {
  const ids = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (ids.length === 0) throw new InputError(`--sets "${text}" names no emoji set; expected a comma-separated list of ${Object.keys(EMOJI_SETS).join(', ')}`);
  for (const id of ids) {
    if (!(id in EMOJI_SETS)) throw new InputError(`--sets: unknown emoji set "${id}"; expected ${Object.keys(EMOJI_SETS).join(', ')}`);
  }
  return [...new Set(ids)] as EmojiSetId[];
}

/** SVG file names in a folder without ".svg"; a clear error when the folder is missing. */
function listSvgStems(dir: string): string[] {
  if (!existsSync(dir)) throw new InputError(`${dir} is missing: the emoji package does not have the expected layout`);
  return readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.svg'))
    .map((f) => f.slice(0, -4));
}

/** Sets whose files are named by code points ("1f34e.svg", "1F34E.svg"). */
function byHexFile(dir: string, key: (stem: string) => string): (name: EmojiName) => string | undefined {
  const files = new Map<string, string>();
  for (const stem of listSvgStems(dir)) files.set(hexKey(key(stem)), join(dir, `${stem}.svg`));
  return (name) => files.get(hexKey(name.hexcode));
}

/**
 * An Iconify JSON icon set (icons.json: shared width/height and each icon's SVG body; chars.json: code
 * points -> icon name). Each icon is written once as a standalone SVG file beside the package, so the
 * dataset builder renders it like any other file.
 */
function iconifyFinder(dir: string): (name: EmojiName) => string | undefined {
  const iconsPath = join(dir, 'icons.json');
  const charsPath = join(dir, 'chars.json');
  let icons: IconifySet;
  let chars: Record<string, string>;
  try {
    icons = JSON.parse(readTextFile(iconsPath, 'Iconify icon set', FILE_LIMITS.log)) as IconifySet;
    chars = JSON.parse(readTextFile(charsPath, 'Iconify character map', FILE_LIMITS.log)) as Record<string, string>;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${dir}: icons.json or chars.json is not valid JSON`);
  }
  if (typeof icons.icons !== 'object' || icons.icons === null) throw new InputError(`${iconsPath} has no "icons" table`);
  const byHex = new Map<string, string>();
  for (const [hex, icon] of Object.entries(chars)) byHex.set(hexKey(hex), icon);
  const outDir = join(dirname(dir), 'svg');
  mkdirSync(outDir, { recursive: true });
  return (name) => {
    let iconName = byHex.get(hexKey(name.hexcode));
    for (let hops = 0; iconName !== undefined && !(iconName in icons.icons) && hops < 4; hops++) iconName = icons.aliases?.[iconName]?.parent;
    const icon = iconName === undefined ? undefined : icons.icons[iconName];
    if (iconName === undefined || icon === undefined || typeof icon.body !== 'string') return undefined;
    const path = join(outDir, `${iconName}.svg`);
    if (!existsSync(path)) {
      const w = icon.width ?? icons.width ?? 16;
      const h = icon.height ?? icons.height ?? 16;
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${w}" height="${h}" viewBox="${icon.left ?? 0} ${icon.top ?? 0} ${w} ${h}">${icon.body}</svg>\n`;
      writeFileAtomic(path, svg);
    }
    return path;
  };
}

interface IconifyIcon {
  body: string;
  width?: number;
  height?: number;
  left?: number;
  top?: number;
}

interface IconifySet {
  icons: Record<string, IconifyIcon>;
  aliases?: Record<string, { parent: string }>;
  width?: number;
  height?: number;
}
