import { existsSync, readdirSync, statSync } from 'node:fs';
import { readTextFile } from '../core/safe-read.ts';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../core/errors.ts';
import type { SourceImage } from './build-dataset.ts';
import { cleanWords, fileStem } from './caption-words.ts';
import { folderPhrases } from './compose-caption.ts';
import type { Fit } from './render-square.ts';

/**
 * Any folder of pictures as dataset sources: .png .jpg .jpeg .webp .svg, found recursively (hidden
 * files and folders skipped). A picture's caption is the text of a .txt file beside it with the same
 * base name ("cat.jpg" + "cat.txt"), used verbatim; without one it is composed from the file and folder
 * names like openclipart's (no author stop-list: a folder has no metadata to learn one from). The
 * licence is "unknown" unless a licence file (LICENSE, LICENCE, licence.txt, COPYING …) sits in the
 * picture's folder or a folder above it, up to the root: the nearest one wins.
 */

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.svg'];
const LICENCE_FILE = /^(licen[cs]e|copying)(\.(txt|md))?$/i;

/**
 * How pictures become square. `auto` (the default): drawings — SVGs and images with an alpha channel —
 * are padded onto white so nothing of them is lost; photos (no alpha) are centre-cropped, since white
 * bars would teach a model to draw white bars.
 */
export type FitChoice = 'auto' | Fit;

export async function folderSources(root: string, options: { fit?: FitChoice } = {}): Promise<SourceImage[]> {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new InputError(`${root} is not a folder`);
  const fit = options.fit ?? 'auto';
  const files = listImages(root);
  const licences = new Map<string, string>();
  const out: SourceImage[] = [];
  for (const relPath of files) {
    const path = join(root, relPath);
    const slash = relPath.lastIndexOf('/');
    const relDir = slash < 0 ? '' : relPath.slice(0, slash);
    const isSvg = relPath.toLowerCase().endsWith('.svg');
    const given = readCaptionFile(path);
    out.push({
      path,
      source: relPath,
      category: relDir,
      licence: licenceFor(root, relDir, licences),
      isSvg,
      fit: fit !== 'auto' ? fit : isSvg || (await hasAlpha(path)) ? 'pad' : 'crop',
      caption:
        given !== undefined
          ? { kind: 'given', text: given }
          : { kind: 'compose', title: cleanWords(fileStem(relPath)).join(' '), context: folderPhrases(relDir) },
    });
  }
  return out;
}

/** Image files under root, as sorted '/'-separated relative paths. */
export function listImages(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(join(dir, entry.name), childRel);
      else if (entry.isFile() && IMAGE_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) out.push(childRel);
    }
  };
  walk(root, '');
  return out.sort();
}

/** The text of "<name>.txt" beside an image, whitespace collapsed; undefined if there is none or it is empty. */
function readCaptionFile(imagePath: string): string | undefined {
  const txt = join(dirname(imagePath), `${fileStem(imagePath)}.txt`);
  if (!existsSync(txt)) return undefined;
  const text = readTextFile(txt, 'caption file').replace(/\s+/g, ' ').trim();
  return text.length > 0 ? text : undefined;
}

async function hasAlpha(path: string): Promise<boolean> {
  try {
    return (await sharp(path).metadata()).hasAlpha === true;
  } catch {
    return false; // undecodable: the render step reports it as broken
  }
}

/** The licence of pictures in relDir: from the nearest licence file at or above it, else "unknown". */
function licenceFor(root: string, relDir: string, cache: Map<string, string>): string {
  const cached = cache.get(relDir);
  if (cached !== undefined) return cached;
  const file = readdirSync(join(root, relDir)).find((name) => LICENCE_FILE.test(name));
  let licence: string;
  if (file !== undefined) {
    const relFile = relDir ? `${relDir}/${file}` : file;
    licence = detectLicence(readTextFile(join(root, relFile), 'licence file')) ?? `see ${relFile}`;
  } else if (relDir === '') {
    licence = 'unknown';
  } else {
    const slash = relDir.lastIndexOf('/');
    licence = licenceFor(root, slash < 0 ? '' : relDir.slice(0, slash), cache);
  }
  cache.set(relDir, licence);
  return licence;
}

/** An SPDX id for a licence text: its SPDX-License-Identifier line, or a well-known licence's wording. */
export function detectLicence(text: string): string | undefined {
  const spdx = /SPDX-License-Identifier:\s*(\S+)/i.exec(text);
  if (spdx) return spdx[1];
  const trimmed = text.trim();
  if (/^[A-Za-z0-9.+-]+$/.test(trimmed) && trimmed.length <= 40) return trimmed; // the file is just an id
  if (/\bCC0\b|CC0 1\.0|Creative Commons Zero/i.test(text)) return 'CC0-1.0';
  if (/Attribution-ShareAlike 4\.0/i.test(text)) return 'CC-BY-SA-4.0';
  if (/Attribution 4\.0/i.test(text)) return 'CC-BY-4.0';
  if (/Permission is hereby granted, free of charge/i.test(text)) return 'MIT';
  if (/Apache License,?\s+Version 2\.0/i.test(text)) return 'Apache-2.0';
  if (/public domain/i.test(text)) return 'public domain';
  return undefined;
}
