/**
 * Two AdaIN decoders on style images that neither decoder's style set holds: Open Clip Art drawings of a
 * third subset (files 10 past every 40th; scripts/style-data.ts uses 0 and 20 past) and two GNOME
 * wallpapers (training content, never styles). Same scores as npm run eval:style (src/eval/style-eval.ts).
 * Usage: node --import tsx scripts/eval-adain-heldout.ts NEW_DIR OLD_DIR [OUT.png]
 * (grid: the old decoder's rows, then the new one's). Last line: one JSON object.
 */
import { basename } from 'node:path';
import { writeLabelledGrid, type GridCell, type GridRow } from '../src/eval/labelled-grid.ts';
import { EVAL_CONTENT, runGrid, scoreGrid } from '../src/eval/style-eval.ts';
import { squareCrop } from '../src/style/content-set.ts';
import { loadImage } from '../src/style/load-image.ts';
import { toPixels, type RgbPlanes } from '../src/style/planes.ts';

const [adainNew, adainOld, out = '.cache/style-adain-heldout.png'] = process.argv.slice(2);
if (!adainNew || !adainOld) throw new Error('usage: eval-adain-heldout.ts NEW_DIR OLD_DIR [OUT.png]');
const size = 160;
const STYLES = [
  ['bird (clip art)', '/usr/share/openclipart/svg/animals/birds/simbolo_egizio_architett_01.svg'],
  ['lantern (clip art)', '/usr/share/openclipart/svg/recreation/holiday/midautumn1_01.svg'],
  ['triangles (clip art)', '/usr/share/openclipart/svg/special/patterns/pattern-triangles-2.svg'],
  ['truchet (GNOME)', '/usr/share/backgrounds/gnome/truchet-l.webp'],
  ['blobs (GNOME)', '/usr/share/backgrounds/gnome/blobs-l.svg'],
] as const;
const CONTENT_LABELS = ['adwaita', 'wood', 'penguin'];

const contents = await Promise.all(EVAL_CONTENT.map(async (f) => squareCrop(await loadImage(f, 'content image'), size)));
const styles = await Promise.all(STYLES.map(async ([, f]) => squareCrop(await loadImage(f, 'style image'), 2 * size)));
const results = await runGrid(
  { size, iterations: 0, cacheDir: '.cache/eval-adain-heldout', adainModel: adainNew, compareAdainModel: adainOld, methods: ['adain', 'adain_compare'] },
  contents,
  styles,
  (s) => console.error(s),
);
const scores = await scoreGrid(results, contents, styles);
const json: Record<string, number> = {};
for (const [key, dir] of [
  ['adain', adainNew],
  ['adain_compare', adainOld],
] as const) {
  const v = scores[key]!;
  console.log(`${dir}: style distance ${v.styleDistance.toFixed(3)}  SSIM ${v.ssim.toFixed(3)}`);
  console.log(
    `  per style (distance / SSIM): ${v.perStyle.map((p, i) => `${STYLES[i]![0]} ${p!.styleDistance.toFixed(3)} / ${p!.ssim.toFixed(3)}`).join(', ')}`,
  );
  json[`${key === 'adain' ? 'new' : 'old'}_style_distance`] = Number(v.styleDistance.toFixed(4));
  json[`${key === 'adain' ? 'new' : 'old'}_ssim`] = Number(v.ssim.toFixed(4));
}
const cell = (p: RgbPlanes | null): GridCell =>
  p ? { pixels: toPixels(p), width: p.width, height: p.height } : { pixels: new Float32Array(size * size * 3).fill(0.85), width: size, height: size };
const rows: GridRow[] = [{ label: 'style images', cells: [cell(null), ...styles.map(cell)] }];
for (const [key, dir] of [
  ['adain_compare', adainOld],
  ['adain', adainNew],
] as const)
  contents.forEach((c, ci) => rows.push({ label: `AdaIN (${basename(dir)}): ${CONTENT_LABELS[ci]}`, cells: [cell(c), ...results[key]![ci]!.map(cell)] }));
await writeLabelledGrid(out, rows, { cell: size, columnLabels: ['content', ...STYLES.map(([l]) => l)], labelWidth: 300 });
console.log(JSON.stringify(json));
