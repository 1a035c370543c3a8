/**
 * Builds the style-transfer training folders from Debian packages (install: apt-get install
 * gnome-backgrounds gimp-data openclipart-svg):
 *   <out>/content: GNOME wallpapers (debian/copyright: adwaita* CC-BY-SA-3.0 by Jakub Steiner, the rest
 *                  GPL-2+) and every 40th Open Clip Art drawing (CC0), rendered at 256 px;
 *   <out>/styles:  GIMP's patterns (gimp-data; debian/copyright lists GPL-3+, CC-BY-SA-3.0/4.0 and CC0
 *                  for the data without itemising files), tiled to 256 px.
 * Writes <out>/sources.json with each file's origin and licence. Usage: node --import tsx scripts/style-data.ts [OUT]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeImageFile } from '../src/image/write-image.ts';
import { squareCrop } from '../src/style/content-set.ts';
import { readGimpPattern } from '../src/style/gimp-pattern.ts';
import { loadImage } from '../src/style/load-image.ts';
import { toPixels, type RgbPlanes } from '../src/style/planes.ts';

const out = process.argv[2] ?? '.cache/style-data';
const SIZE = 256;
mkdirSync(join(out, 'content'), { recursive: true });
mkdirSync(join(out, 'styles'), { recursive: true });
const sources: { file: string; from: string; licence: string }[] = [];

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

const gnome = '/usr/share/backgrounds/gnome';
for (const f of readdirSync(gnome).sort()) {
  try {
    const img = await squareCrop(await loadImage(join(gnome, f), 'wallpaper'), SIZE);
    await save(img, `content/gnome-${basename(f).replace(/\.\w+$/, '')}.png`, join(gnome, f), f.startsWith('adwaita') ? 'CC-BY-SA-3.0' : 'GPL-2+');
  } catch (e) {
    console.error(`skipped ${f}: ${(e as Error).message}`);
  }
}
const clipart = execFileSync('dpkg', ['-L', 'openclipart-svg'], { encoding: 'utf8' })
  .split('\n')
  .filter((p) => p.endsWith('.svg'));
for (const [i, f] of clipart.entries()) {
  if (i % 40 !== 0) continue;
  try {
    const img = await squareCrop(await loadImage(f, 'drawing'), SIZE);
    await save(img, `content/clipart-${i}.png`, f, 'CC0-1.0');
  } catch {
    // drawings with external references or broken SVG are skipped
  }
}
const patterns = '/usr/share/gimp/2.0/patterns';
for (const folder of ['Animal', 'Fabric', 'Food', 'Paper', 'Plant', 'Sky', 'Stone', 'Water', 'Wood']) {
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
writeFileSync(join(out, 'sources.json'), `${JSON.stringify(sources, null, 1)}\n`);
console.log(`wrote ${sources.length} images to ${out}`);
