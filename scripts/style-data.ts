/**
 * Builds the style-transfer training folders from Debian packages (install: apt-get install
 * gnome-backgrounds gimp-data openclipart-svg desktop-base plasma-workspace-wallpapers):
 *   <out>/content: GNOME wallpapers (debian/copyright: adwaita* CC-BY-SA-3.0 by Jakub Steiner, the rest
 *                  GPL-2+) and every 40th Open Clip Art drawing (CC0), rendered at 256 px;
 *   <out>/styles:  GIMP's patterns (gimp-data; debian/copyright lists GPL-3+, CC-BY-SA-3.0/4.0 and CC0
 *                  for the data without itemising files), tiled to 256 px;
 *                  40 Open Clip Art drawings of another subset (CC0), the most colourful, textured and
 *                  fullest (score below);
 *                  wallpapers: Debian's desktop-base themes (GPL-2 / GPL-2+ per theme, debian/copyright)
 *                  and KDE's plasma-workspace-wallpapers (LGPL-3 or CC-BY-SA-4.0, each wallpaper's
 *                  metadata), the centre half of each cut square, at 256 px.
 * Writes <out>/sources.json with each file's origin and licence.
 * Usage: node --import tsx scripts/style-data.ts [OUT] [PART ...], PART one of content, patterns,
 * clipart-styles, wallpaper-styles (default all; naming parts rebuilds only those, keeping the rest).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decodeImage } from '../src/image/read-info.ts';
import { writeImageFile } from '../src/image/write-image.ts';
import { squareCrop } from '../src/style/content-set.ts';
import { readGimpPattern } from '../src/style/gimp-pattern.ts';
import { loadImage } from '../src/style/load-image.ts';
import { resizePlanes, toPixels, toPlanes, type RgbPlanes } from '../src/style/planes.ts';

const [out = '.cache/style-data', ...named] = process.argv.slice(2);
const SIZE = 256;
const CLIPART_STYLES = 40;
const PATTERN_FOLDERS = ['Animal', 'Fabric', 'Food', 'Paper', 'Plant', 'Sky', 'Stone', 'Water', 'Wood'];
type Source = { file: string; from: string; licence: string };
const PARTS: Record<string, { prefixes: string[]; build: () => Promise<void> }> = {
  content: { prefixes: ['content/'], build: buildContent },
  patterns: { prefixes: PATTERN_FOLDERS.map((f) => `styles/${f}-`), build: buildPatterns },
  'clipart-styles': { prefixes: ['styles/clipart-'], build: buildClipartStyles },
  'wallpaper-styles': { prefixes: ['styles/debian-', 'styles/kde-'], build: buildWallpaperStyles },
};
const parts = named.length ? named : Object.keys(PARTS);
for (const p of parts) if (!(p in PARTS)) throw new Error(`part ${JSON.stringify(p)}: expected one of ${Object.keys(PARTS).join(', ')}`);
mkdirSync(join(out, 'content'), { recursive: true });
mkdirSync(join(out, 'styles'), { recursive: true });
// Rebuilding some parts keeps the other parts' files and their sources.json entries.
const rebuilt = (file: string): boolean => parts.some((p) => PARTS[p]!.prefixes.some((x) => file.startsWith(x)));
const sourcesPath = join(out, 'sources.json');
const kept = (existsSync(sourcesPath) ? (JSON.parse(readFileSync(sourcesPath, 'utf8')) as Source[]) : []).filter((s) => !rebuilt(s.file));
for (const dir of ['content', 'styles']) for (const f of readdirSync(join(out, dir))) if (rebuilt(`${dir}/${f}`)) rmSync(join(out, dir, f));
const sources: Source[] = [];

function tile(p: RgbPlanes, size: number): RgbPlanes {
  const data = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) data[(c * size + y) * size + x] = p.data[c * p.width * p.height + (y % p.height) * p.width + (x % p.width)] as number;
  return { data, width: size, height: size };
}

async function save(p: RgbPlanes, file: string, from: string, licence: string): Promise<void> {
  await writeImageFile(join(out, file), toPixels(p), p.width, p.height, 3);
  sources.push({ file, from, licence });
}

const packageFiles = (pkg: string): string[] => execFileSync('dpkg', ['-L', pkg], { encoding: 'utf8' }).split('\n');
const clipart = packageFiles('openclipart-svg').filter((p) => p.endsWith('.svg'));

async function buildContent(): Promise<void> {
  const gnome = '/usr/share/backgrounds/gnome';
  for (const f of readdirSync(gnome).sort()) {
    try {
      const img = await squareCrop(await loadImage(join(gnome, f), 'wallpaper'), SIZE);
      await save(img, `content/gnome-${basename(f).replace(/\.\w+$/, '')}.png`, join(gnome, f), f.startsWith('adwaita') ? 'CC-BY-SA-3.0' : 'GPL-2+');
    } catch (e) {
      console.error(`skipped ${f}: ${(e as Error).message}`);
    }
  }
  for (const [i, f] of clipart.entries()) {
    if (i % 40 !== 0) continue;
    try {
      const img = await squareCrop(await loadImage(f, 'drawing'), SIZE);
      await save(img, `content/clipart-${i}.png`, f, 'CC0-1.0');
    } catch {
      // drawings with external references or broken SVG are skipped
    }
  }
}

async function buildPatterns(): Promise<void> {
  const patterns = '/usr/share/gimp/2.0/patterns';
  for (const folder of PATTERN_FOLDERS) {
    for (const f of readdirSync(join(patterns, folder)).sort()) {
      const p = readGimpPattern(join(patterns, folder, f));
      await save(
        tile(p, SIZE),
        `styles/${folder}-${f.replace('.pat', '')}.png`,
        join(patterns, folder, f),
        'gimp-data (GPL-3+ / CC-BY-SA-3.0 / CC-BY-SA-4.0 / CC0-1.0, not itemised)',
      );
    }
  }
}

/**
 * Clip art as styles: drawings of another subset (the files 20 past every 40th; content uses every 40th),
 * ranked by colourfulness (Hasler & Süsstrunk 2003) × edge density × the share of the square they cover,
 * so the style set gains saturated colours with strokes and detail (not flat flags, not white paper).
 */
async function buildClipartStyles(): Promise<void> {
  const ranked: { f: string; i: number; img: RgbPlanes; score: number }[] = [];
  for (const [i, f] of clipart.entries()) {
    if (i % 40 !== 20) continue;
    try {
      const img = await squareCrop(await loadImage(f, 'drawing'), SIZE);
      ranked.push({ f, i, img, score: colourfulness(img) * edgeDensity(img) * coverage(img) });
    } catch {
      // as in content
    }
  }
  ranked.sort((a, b) => b.score - a.score);
  for (const { f, i, img } of ranked.slice(0, CLIPART_STYLES)) await save(img, `styles/clipart-${i}.png`, f, 'CC0-1.0');
}

/** Wallpapers as styles: one image per Debian theme and per KDE wallpaper, the centre half of the square (a whole 1920-5120 px wallpaper at 256 px keeps only its gradients). */
async function buildWallpaperStyles(): Promise<void> {
  const debianThemes = packageFiles('desktop-base').filter((p) => /-theme\/wallpaper\/contents\/images\/1920x1080\.svg$/.test(p));
  for (const f of debianThemes) {
    const theme = f.split('/')[4] as string;
    await save(await centreHalf(f), `styles/debian-${theme}.png`, f, theme === 'spacefun-theme' ? 'GPL-2' : 'GPL-2+');
  }
  const kde = '/usr/share/wallpapers';
  const kdeNames = [...new Set(packageFiles('plasma-workspace-wallpapers').map((p) => p.split('/')[4] ?? ''))]
    .filter((n) => n && existsSync(join(kde, n, 'contents', 'images')))
    .sort();
  for (const name of kdeNames) {
    const dir = join(kde, name, 'contents', 'images');
    // One picture at several sizes, named WxH: the smallest whose shorter side is at least 1000 px.
    const side = (f: string): number =>
      Math.min(
        ...f
          .replace(/\.\w+$/, '')
          .split('x')
          .map(Number),
      );
    const bySize = readdirSync(dir).sort((a, b) => side(a) - side(b));
    const pick = bySize.find((f) => side(f) >= 1000) ?? bySize.at(-1);
    if (!pick) continue;
    await save(await centreHalf(join(dir, pick)), `styles/kde-${name}.png`, join(dir, pick), kdeLicence(join(kde, name)));
  }
}

/** Hasler & Süsstrunk's colourfulness (0 grey, ~100+ very colourful) on 0-255 values. */
function colourfulness(p: RgbPlanes): number {
  const n = p.width * p.height;
  let [srg, syb, qrg, qyb] = [0, 0, 0, 0];
  for (let k = 0; k < n; k++) {
    const [r, g, b] = [0, 1, 2].map((c) => 255 * (p.data[c * n + k] as number)) as [number, number, number];
    const rg = r - g;
    const yb = 0.5 * (r + g) - b;
    srg += rg;
    syb += yb;
    qrg += rg * rg;
    qyb += yb * yb;
  }
  const [mrg, myb] = [srg / n, syb / n];
  return Math.sqrt(qrg / n - mrg * mrg + (qyb / n - myb * myb)) + 0.3 * Math.sqrt(mrg * mrg + myb * myb);
}

/** Mean absolute luminance step between neighbouring pixels (strokes and texture; 0 for a flat image). */
function edgeDensity(p: RgbPlanes): number {
  const [w, h, n] = [p.width, p.height, p.width * p.height];
  const lum = (k: number): number => 0.299 * (p.data[k] as number) + 0.587 * (p.data[n + k] as number) + 0.114 * (p.data[2 * n + k] as number);
  let sum = 0;
  for (let y = 0; y < h - 1; y++)
    for (let x = 0; x < w - 1; x++) {
      const k = y * w + x;
      sum += Math.abs(lum(k) - lum(k + 1)) + Math.abs(lum(k) - lum(k + w));
    }
  return sum / ((w - 1) * (h - 1));
}

/** Share of pixels that are not near-white paper. */
function coverage(p: RgbPlanes): number {
  const n = p.width * p.height;
  let inked = 0;
  for (let k = 0; k < n; k++) if (Math.min(p.data[k] as number, p.data[n + k] as number, p.data[2 * n + k] as number) < 0.94) inked++;
  return inked / n;
}

/** The centre square of half the image's shorter side, at SIZE. */
async function centreHalf(file: string): Promise<RgbPlanes> {
  // KDE's largest wallpapers are 5120 px wide, over decodeImage's default 4096-px side.
  const decoded = await decodeImage(file, { what: 'wallpaper', maxSide: 5120 });
  const img = toPlanes(decoded.data, decoded.width, decoded.height);
  const side = Math.floor(Math.min(img.width, img.height) / 2);
  const [x0, y0] = [Math.floor((img.width - side) / 2), Math.floor((img.height - side) / 2)];
  const data = new Float32Array(3 * side * side);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < side; y++) {
      const from = c * img.width * img.height + (y + y0) * img.width + x0;
      data.set(img.data.subarray(from, from + side), (c * side + y) * side);
    }
  return resizePlanes({ data, width: side, height: side }, SIZE, SIZE);
}

/** A KDE wallpaper's licence from its metadata (metadata.json "License" or metadata.desktop X-KDE-PluginInfo-License). */
function kdeLicence(dir: string): string {
  for (const f of ['metadata.json', 'metadata.desktop']) {
    if (!existsSync(join(dir, f))) continue;
    const m = /"License"\s*:\s*"([^"]+)"|X-KDE-PluginInfo-License=(.+)/.exec(readFileSync(join(dir, f), 'utf8'));
    if (m) return (m[1] ?? m[2] ?? '').trim().replace(/^LGPLv3$/, 'LGPL-3.0');
  }
  throw new Error(`${dir}: no licence in its metadata`);
}

for (const p of parts) await PARTS[p]!.build();
writeFileSync(
  sourcesPath,
  `${JSON.stringify(
    [...kept, ...sources].sort((a, b) => a.file.localeCompare(b.file)),
    null,
    1,
  )}\n`,
);
console.log(`wrote ${sources.length} images to ${out} (${parts.join(', ')}); sources.json lists ${kept.length + sources.length}`);
