/**
 * Evaluation of style transfer (`npm run eval:style`): 3 content × 4 style images from Debian packages,
 * each method's result scored by
 * - style distance: Gram-matrix distance to the style image, relative to the content image's own
 *   (1 = no closer than the content, 0 = the style's statistics exactly; lower is better), measured with
 *   nsfwjs's InceptionV3 — a different network from the MobileNetV2 every method optimises against, so a
 *   method cannot score well by fitting the measuring network;
 * - structure: SSIM of luminance against the content (higher keeps more of the content's layout).
 * Gatys runs with the chosen encoder and with the random-weight baseline encoder of the same shape.
 * Results are cached per (method, content, style) so a re-run only computes what is new.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { writeImageFile } from '../image/write-image.ts';
import { writeLabelledGrid, type GridCell, type GridRow } from './labelled-grid.ts';
import { luminanceSsim } from '../style/color.ts';
import { squareCrop } from '../style/content-set.ts';
import { randomWeightEncoder, tfjsEncoder, nsfwjsModel, type FeatureEncoder } from '../style/encoder.ts';
import { extractFeatures } from '../style/features.ts';
import { readGimpPattern } from '../style/gimp-pattern.ts';
import { loadImage } from '../style/load-image.ts';
import { toPixels, type RgbPlanes } from '../style/planes.ts';
import { stylize, type StyleMethod } from '../style/stylize.ts';

export const EVAL_CONTENT = [
  '/usr/share/backgrounds/gnome/adwaita-l.webp',
  '/usr/share/backgrounds/gnome/wood-l.webp',
  '/usr/share/openclipart/svg/animals/emperor_penguin_ralf_ste_01.svg',
];
export const EVAL_STYLES = ['Animal/leopard.pat', 'Stone/pink_marble.pat', 'Sky/lightning.pat', 'Wood/bark.pat'].map(
  (p) => `/usr/share/gimp/2.0/patterns/${p}`,
);
const MEASURE_LAYERS = ['activation_3', 'activation_5', 'mixed0'];

export interface StyleEvalOptions {
  size: number;
  iterations: number;
  cacheDir: string;
  /** Fast network (trained for the first style) and AdaIN model folder; methods without one are skipped. */
  fastModel?: string;
  adainModel?: string;
  /** A second AdaIN model folder scored in the same run as `adain_compare` (e.g. the decoder a retrained one would replace). */
  compareAdainModel?: string;
  /** Only these method keys (gatys, gatys_random_encoder, adain, adain_compare, fast); default all. */
  methods?: readonly string[];
}

export interface MethodScore {
  styleDistance: number;
  ssim: number;
  pairs: number;
  /** The same two scores per style image (over the contents), in EVAL_STYLES order; null where the method has no result. */
  perStyle: ({ styleDistance: number; ssim: number } | null)[];
}

function tile(p: RgbPlanes, size: number): RgbPlanes {
  const data = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) data[(c * size + y) * size + x] = p.data[c * p.width * p.height + (y % p.height) * p.width + (x % p.width)] as number;
  return { data, width: size, height: size };
}

export async function evalImages(size: number): Promise<{ contents: RgbPlanes[]; styles: RgbPlanes[] }> {
  for (const f of [...EVAL_CONTENT, ...EVAL_STYLES])
    if (!existsSync(f)) throw new InputError(`${f} is missing: apt-get install gnome-backgrounds gimp-data openclipart-svg`);
  const contents = await Promise.all(EVAL_CONTENT.map(async (f) => squareCrop(await loadImage(f, 'content image'), size)));
  const styles = EVAL_STYLES.map((f) => tile(readGimpPattern(f), 2 * size));
  return { contents, styles };
}

/** A short hash of a model file or folder's weights, so cached results never outlive the model that made them. */
/** Cache tag of a model file, or of a model folder's config.json + decoder.safetensors (the config changes what it does). */
function modelTag(model: string): string {
  const files = statSync(model).isDirectory() ? [join(model, 'config.json'), join(model, 'decoder.safetensors')] : [model];
  const hash = createHash('sha256');
  for (const f of files) hash.update(readFileSync(f));
  return hash.digest('hex').slice(0, 10);
}

async function readCached(path: string): Promise<RgbPlanes | null> {
  if (!existsSync(path)) return null;
  const img = await loadImage(path, 'cached result');
  return img;
}

/** Runs (or reuses) every method on every pair; returns results[method][content][style] (null where a method cannot run). */
export async function runGrid(
  o: StyleEvalOptions,
  contents: RgbPlanes[],
  styles: RgbPlanes[],
  log: (s: string) => void,
): Promise<Record<string, (RgbPlanes | null)[][]>> {
  mkdirSync(o.cacheDir, { recursive: true });
  const baseline = randomWeightEncoder(1);
  const methods: { key: string; method: StyleMethod; encoder?: FeatureEncoder; model?: string; onlyStyle?: number }[] = [
    { key: 'gatys', method: 'gatys' },
    { key: 'gatys_random_encoder', method: 'gatys', encoder: baseline },
  ];
  if (o.adainModel && existsSync(o.adainModel)) methods.push({ key: 'adain', method: 'adain', model: o.adainModel });
  if (o.compareAdainModel) {
    if (!existsSync(o.compareAdainModel)) throw new InputError(`AdaIN model to compare ${JSON.stringify(o.compareAdainModel)} does not exist`);
    methods.push({ key: 'adain_compare', method: 'adain', model: o.compareAdainModel });
  }
  if (o.fastModel && existsSync(o.fastModel)) methods.push({ key: 'fast', method: 'fast', model: o.fastModel, onlyStyle: 0 });
  const out: Record<string, (RgbPlanes | null)[][]> = {};
  for (const m of methods.filter((x) => !o.methods || o.methods.includes(x.key))) {
    out[m.key] = [];
    for (const [ci, content] of contents.entries()) {
      const row: (RgbPlanes | null)[] = [];
      for (const [si, style] of styles.entries()) {
        if (m.onlyStyle !== undefined && m.onlyStyle !== si) {
          row.push(null);
          continue;
        }
        const path = join(o.cacheDir, `${m.key}${m.model ? `-${modelTag(m.model)}` : ''}-${o.size}-${o.iterations}-c${ci}-s${si}.png`);
        let img = await readCached(path);
        if (!img) {
          const t = performance.now();
          const r = await stylize({
            content: { planes: content, name: `content${ci}` },
            styles: [{ image: { planes: style, name: `style${si}` } }],
            method: m.method,
            size: o.size,
            iterations: o.iterations,
            ...(m.encoder ? { encoder: m.encoder } : {}),
            ...(m.model ? { model: m.model } : {}),
          });
          img = r.image;
          await writeImageFile(path, toPixels(img), img.width, img.height, 3, { source: 'edited', recipe: r.recipe });
          log(`${m.key} content ${ci} style ${si}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
        }
        row.push(img);
      }
      out[m.key]!.push(row);
    }
  }
  return out;
}

/** InceptionV3 Gram matrices of an image at the measuring layers. */
async function measureGrams(enc: FeatureEncoder, img: RgbPlanes): Promise<Float32Array[]> {
  const grams = (await extractFeatures(enc, img, { grams: MEASURE_LAYERS })).grams;
  return MEASURE_LAYERS.map((l) => grams.get(l)!.data);
}

function gramDistance(a: Float32Array[], b: Float32Array[]): number {
  let total = 0;
  a.forEach((ga, l) => {
    const gb = b[l] as Float32Array;
    let d = 0;
    let n = 0;
    for (let i = 0; i < ga.length; i++) {
      d += ((ga[i] as number) - (gb[i] as number)) ** 2;
      n += (gb[i] as number) ** 2;
    }
    total += d / Math.max(n, 1e-12);
  });
  return total / a.length;
}

export async function scoreGrid(
  results: Record<string, (RgbPlanes | null)[][]>,
  contents: RgbPlanes[],
  styles: RgbPlanes[],
): Promise<Record<string, MethodScore>> {
  const m = nsfwjsModel('inception_v3');
  const measure = tfjsEncoder(m, 'nsfwjs:inception_v3', { content: [], style: MEASURE_LAYERS });
  const styleGrams = await Promise.all(styles.map((s) => measureGrams(measure, s)));
  const contentGrams = await Promise.all(contents.map((c) => measureGrams(measure, c)));
  const scores: Record<string, MethodScore> = {};
  for (const [key, grid] of Object.entries(results)) {
    const dist = styles.map(() => [] as number[]);
    const sim = styles.map(() => [] as number[]);
    for (const [ci, row] of grid.entries()) {
      for (const [si, img] of row.entries()) {
        if (!img) continue;
        const own = gramDistance(contentGrams[ci]!, styleGrams[si]!);
        dist[si]!.push(gramDistance(await measureGrams(measure, img), styleGrams[si]!) / own);
        sim[si]!.push(luminanceSsim(img, contents[ci]!));
      }
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const all = { dist: dist.flat(), sim: sim.flat() };
    scores[key] = {
      styleDistance: mean(all.dist),
      ssim: mean(all.sim),
      pairs: all.dist.length,
      perStyle: dist.map((d, si) => (d.length ? { styleDistance: mean(d), ssim: mean(sim[si]!) } : null)),
    };
  }
  return scores;
}

const METHOD_LABELS: Record<string, string> = { gatys: 'Gatys (MobileNetV2)', adain: 'AdaIN', adain_compare: 'AdaIN (compared)', fast: 'fast (leopard net)' };
const CONTENT_LABELS = ['adwaita', 'wood', 'penguin'];
export const STYLE_LABELS = ['leopard', 'pink marble', 'lightning', 'tree bark'];

/**
 * The grid picture, labelled: a first row with the style images, then per method one row per content
 * image (the content first, then its result with each style); grey where a method has no result.
 * `labels` names the methods (default: METHOD_LABELS); the random-encoder baseline is never drawn.
 */
export async function writeGridPng(
  path: string,
  results: Record<string, (RgbPlanes | null)[][]>,
  contents: RgbPlanes[],
  styles: RgbPlanes[],
  size: number,
  labels: Record<string, string> = METHOD_LABELS,
): Promise<void> {
  const cell = (p: RgbPlanes | null): GridCell =>
    p ? { pixels: toPixels(p), width: p.width, height: p.height } : { pixels: new Float32Array(size * size * 3).fill(0.85), width: size, height: size };
  const rows: GridRow[] = [{ label: 'style images', cells: [cell(null), ...styles.map(cell)] }];
  for (const key of Object.keys(results).filter((k) => k !== 'gatys_random_encoder')) {
    contents.forEach((c, ci) => {
      rows.push({ label: `${labels[key] ?? key}: ${CONTENT_LABELS[ci] ?? `content ${ci}`}`, cells: [cell(c), ...results[key]![ci]!.map(cell)] });
    });
  }
  await writeLabelledGrid(path, rows, { cell: size, columnLabels: ['content', ...STYLE_LABELS.slice(0, styles.length)], labelWidth: 300 });
}
