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

export type EmojiSetId = 'twemoji' | 'fluent' | 'noto' | 'openmoji' | 'noto-v1' | 'emojione' | 'fluent-3d' | 'fxemoji' | 'streamline' | 'emojione-v1';

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
  // Sets that Iconify repackages without a code-point map: their icons are named by the CLDR short name.
  'noto-v1': iconifyByName({
    id: 'noto-v1',
    version: '1.2.5',
    integrity: 'sha512-/DsVMius69Q0fRS53z7QK1TROSuar606jiIx+laXtdsYGMXpf6LtHBx6CGfoo3UHHb/XpBsw+1L1x3eyPqMuVA==',
    licence: 'Apache-2.0',
    owner: 'Noto Emoji, first edition © Google Inc. (https://github.com/googlefonts/noto-emoji), Apache License 2.0',
  }),
  emojione: iconifyByName({
    id: 'emojione',
    version: '1.2.3',
    integrity: 'sha512-T9+T3HIbJNLKKsmxYKlaYhvnHYkz/HNYTV7SHCXVZPfeUi4FqskY70YeN8yYAZT8cCv7w5vJxS4Q1m8zb9CMMg==',
    licence: 'CC-BY-4.0',
    owner:
      'Emoji One (version 2) graphics © Emoji One (https://github.com/joypixels/emojione-legacy), licensed under CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/)',
  }),
  'fluent-3d': iconifyByName({
    id: 'fluent-emoji',
    setId: 'fluent-3d',
    style: 'fluent3d',
    version: '1.2.7',
    integrity: 'sha512-D8G6bKAyIsyxP1rzZtIWr/gg/fO4Rg1+DyCWlfqKK4h8W+4Em/Y0P6QYgJUQTlUcagzJvSyg+9OBv4hz4Hc/QA==',
    licence: 'MIT',
    owner: 'Fluent Emoji (colour) © Microsoft Corporation (https://github.com/microsoft/fluentui-emoji), MIT License',
  }),
  fxemoji: iconifyByName({
    id: 'fxemoji',
    version: '1.2.2',
    integrity: 'sha512-UAasRaxzFUKfIGSmLwnoarsssA4LX0VLLuEmplIqM6ZNQqIQRtav8tZ4H1neTlBreXuMQyAifr5jP4kn78DpiQ==',
    licence: 'Apache-2.0',
    owner: 'FxEmojis © Mozilla (https://github.com/mozilla/fxemoji), Apache License 2.0',
    // Its icons are named by the Unicode name without separators ("redapple").
    key: (label) => slug(label).replace(/-/g, ''),
  }),
  streamline: iconifyByName({
    id: 'streamline-emojis',
    setId: 'streamline',
    style: 'streamline',
    version: '1.2.4',
    integrity: 'sha512-iNr9T9XuZVTyQPJO8ZlLxBzPkpi7qMl+z1l0C31vpEMqhPMelth3n7CeWQYtixdetDPdI81yeG4ROqjWpYJE6A==',
    licence: 'CC-BY-4.0',
    owner: 'Streamline Emojis © Streamline (https://github.com/webalys/streamlinehq), licensed under CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/)',
  }),
  'emojione-v1': iconifyByName({
    id: 'emojione-v1',
    version: '1.2.3',
    integrity: 'sha512-UjI2VQEXVtGlPBvQuxEizro7QCgBcJDOYwKUupquvvZ8UV4xOlvm45IU82JYWegiAWLerY79gFLMZ26U6Ms+ww==',
    licence: 'CC-BY-SA-4.0',
    owner: 'Emoji One (version 1) graphics © Emoji One, licensed under CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/)',
  }),
};

/** The sets the default model's second refine run adds (none ShareAlike): more drawings of each named subject. */
export const MORE_EMOJI_SETS: EmojiSetId[] = ['noto-v1', 'emojione', 'fluent-3d', 'fxemoji', 'streamline'];

/**
 * An `@iconify-json/<id>` set whose icons are named by the emoji's CLDR short name ("red-apple"; `key`
 * maps a short name to an icon name). Sets with numbered variants ("sunflower-1") use the first.
 */
function iconifyByName(o: {
  id: string;
  setId?: EmojiSetId;
  style?: string;
  version: string;
  integrity: string;
  licence: string;
  owner: string;
  key?: (label: string) => string;
}): EmojiSet {
  const name = `@iconify-json/${o.id}`;
  const key = o.key ?? slug;
  return {
    id: o.setId ?? (o.id as EmojiSetId),
    style: o.style ?? o.id.replace(/-/g, ''),
    package: { name, version: o.version, integrity: o.integrity },
    licence: o.licence,
    shareAlike: o.licence.includes('-SA-'),
    attribution: `${o.owner}; SVGs from the npm package ${name} ${o.version}. Rendered at low resolution and used as training data.`,
    finder: (dir) => {
      const icons = readIconify(dir);
      // Aliases can send two names to one drawing ("cricket" -> "cricket-game"): the first name keeps it.
      const used = new Set<string>();
      return (emoji) => {
        const k = key(emoji.label);
        const path = icons.write(k in icons.set.icons || k in (icons.set.aliases ?? {}) ? k : `${k}-1`);
        if (path === undefined || used.has(path)) return undefined;
        used.add(path);
        return path;
      };
    },
  };
}

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
  const charsPath = join(dir, 'chars.json');
  const icons = readIconify(dir);
  let chars: Record<string, string>;
  try {
    chars = JSON.parse(readTextFile(charsPath, 'Iconify character map', FILE_LIMITS.log)) as Record<string, string>;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${charsPath} is not valid JSON`);
  }
  const byHex = new Map<string, string>();
  for (const [hex, icon] of Object.entries(chars)) byHex.set(hexKey(hex), icon);
  return (name) => icons.write(byHex.get(hexKey(name.hexcode)));
}

/**
 * An Iconify icon set's icons.json, and a writer of one icon (followed through its aliases) as a
 * standalone SVG file beside the package; undefined when the set has no such icon.
 */
function readIconify(dir: string): { set: IconifySet; write(iconName: string | undefined): string | undefined } {
  const iconsPath = join(dir, 'icons.json');
  let set: IconifySet;
  try {
    set = JSON.parse(readTextFile(iconsPath, 'Iconify icon set', FILE_LIMITS.log)) as IconifySet;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${iconsPath} is not valid JSON`);
  }
  if (typeof set.icons !== 'object' || set.icons === null) throw new InputError(`${iconsPath} has no "icons" table`);
  const outDir = join(dirname(dir), 'svg');
  mkdirSync(outDir, { recursive: true });
  const write = (start: string | undefined): string | undefined => {
    let iconName = start;
    for (let hops = 0; iconName !== undefined && !(iconName in set.icons) && hops < 4; hops++) iconName = set.aliases?.[iconName]?.parent;
    const icon = iconName === undefined ? undefined : set.icons[iconName];
    if (iconName === undefined || icon === undefined || typeof icon.body !== 'string') return undefined;
    const path = join(outDir, `${iconName}.svg`);
    if (!existsSync(path)) {
      const w = icon.width ?? set.width ?? 16;
      const h = icon.height ?? set.height ?? 16;
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${w}" height="${h}" viewBox="${icon.left ?? 0} ${icon.top ?? 0} ${w} ${h}">${icon.body}</svg>\n`;
      writeFileAtomic(path, svg);
    }
    return path;
  };
  return { set, write };
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
