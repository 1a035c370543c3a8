/**
 * `gesso data shapes`: simple geometric shapes (star, heart, circle, square, triangle, diamond, moon)
 * in the palette's named colours, drawn by gesso itself (CC0), captioned "red star, shapes".
 *
 * Why: the drawings with names teach a model subjects, but rarely a subject in every colour. Open Clip
 * Art's "shapes/stars" folder is 1,378 black string-art rings, and the emoji star is always yellow, so
 * nothing in them says what "a red star" or "a blue heart" looks like. A few thousand flat shapes in
 * eleven colours teach the model to bind a colour word to a shape word. Each shape comes in fill,
 * fill with a darker outline and outline-only variants, rotated and stretched a little.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../core/rng.ts';
import { InputError } from '../core/errors.ts';
import { buildDataset, type BuildOptions, type BuildReport, type SourceImage } from './build-dataset.ts';
import type { ColorName } from './color-names.ts';

export const SHAPE_NAMES = ['star', 'heart', 'circle', 'square', 'triangle', 'diamond', 'moon'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

/** Base colour of each caption colour word; every drawing varies it a little. */
const PALETTE: Record<Exclude<ColorName, 'white'>, readonly [number, number, number]> = {
  red: [220, 30, 35],
  orange: [245, 130, 20],
  yellow: [250, 215, 25],
  green: [40, 160, 60],
  blue: [30, 80, 215],
  purple: [125, 45, 190],
  pink: [245, 105, 175],
  brown: [130, 80, 35],
  black: [25, 25, 25],
  gray: [140, 140, 140],
};
export const SHAPE_COLORS = Object.keys(PALETTE) as Exclude<ColorName, 'white'>[];

type Style = 'fill' | 'outlined' | 'outline';
const STYLES: readonly Style[] = ['fill', 'outlined', 'outline'];

/** An SVG path of the shape in a 100×100 box centred on (50, 50). */
function shapePath(shape: ShapeName, rng: Rng): string {
  const poly = (points: [number, number][]): string => `M${points.map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`).join('L')}Z`;
  switch (shape) {
    case 'star': {
      const tips = rng.uniform() < 0.8 ? 5 : 6;
      const inner = 0.38 + 0.08 * rng.uniform();
      const pts: [number, number][] = [];
      for (let i = 0; i < 2 * tips; i++) {
        const r = i % 2 === 0 ? 45 : 45 * inner;
        const a = -Math.PI / 2 + (i * Math.PI) / tips;
        pts.push([50 + r * Math.cos(a), 50 + r * Math.sin(a)]);
      }
      return poly(pts);
    }
    case 'heart':
      return 'M50,88 C20,65 5,45 12,28 C18,12 40,10 50,28 C60,10 82,12 88,28 C95,45 80,65 50,88Z';
    case 'circle':
      return 'M50,5 A45,45 0 1,1 49.99,5Z';
    case 'square':
      return poly([
        [10, 10],
        [90, 10],
        [90, 90],
        [10, 90],
      ]);
    case 'triangle':
      return poly([
        [50, 8],
        [93, 86],
        [7, 86],
      ]);
    case 'diamond':
      return poly([
        [50, 4],
        [82, 50],
        [50, 96],
        [18, 50],
      ]);
    case 'moon':
      return 'M62,8 A44,44 0 1,0 62,92 A36,36 0 1,1 62,8Z';
  }
}

const hex = (c: readonly number[]): string =>
  `#${c
    .map((v) =>
      Math.round(Math.min(255, Math.max(0, v)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;

/** One shape drawing as SVG text, with its caption. */
export function shapeSvg(shape: ShapeName, color: Exclude<ColorName, 'white'>, style: Style, rng: Rng): string {
  const base = PALETTE[color];
  const shade = 0.88 + 0.24 * rng.uniform(); // brightness jitter that keeps the colour's name
  const fill = hex(base.map((v) => v * shade));
  const dark = hex(base.map((v) => v * 0.55));
  const rotation = shape === 'circle' ? 0 : (rng.uniform() - 0.5) * (shape === 'star' ? 72 : 30);
  const stretch = 0.85 + 0.3 * rng.uniform();
  const path = shapePath(shape, rng);
  const paint =
    style === 'fill'
      ? `fill="${fill}"`
      : style === 'outlined'
        ? `fill="${fill}" stroke="${color === 'black' ? '#555555' : dark}" stroke-width="5" stroke-linejoin="round"`
        : `fill="white" stroke="${fill}" stroke-width="10" stroke-linejoin="round"`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="-10 -10 120 120" width="120" height="120"><g transform="rotate(${rotation.toFixed(1)} 50 50) translate(50 50) scale(${stretch.toFixed(3)} 1) translate(-50 -50)"><path d="${path}" ${paint}/></g></svg>`;
}

export interface ShapesBuildOptions {
  outDir: string;
  size: number;
  /** Drawings of each shape in each colour (default 20). */
  perColor?: number;
  seed?: number;
  valFraction?: number;
  concurrency?: number;
  onProgress?: BuildOptions['onProgress'];
  log?: (line: string) => void;
}

export async function buildShapesDataset(o: ShapesBuildOptions): Promise<BuildReport> {
  const perColor = o.perColor ?? 20;
  if (!Number.isInteger(perColor) || perColor < 1 || perColor > 1000) {
    throw new InputError(`--per-color: ${perColor} is not a whole number from 1 to 1000`);
  }
  const seed = o.seed ?? 0;
  const rng = new Rng(seed + 7);
  const srcDir = join(o.outDir, '.build', 'svg');
  mkdirSync(srcDir, { recursive: true });
  const sources: SourceImage[] = [];
  for (const shape of SHAPE_NAMES) {
    for (const color of SHAPE_COLORS) {
      for (let k = 0; k < perColor; k++) {
        const style = STYLES[k % STYLES.length] as Style;
        const name = `${shape}-${color}-${String(k).padStart(3, '0')}.svg`;
        const path = join(srcDir, name);
        writeFileSync(path, shapeSvg(shape, color, style, rng));
        // Half the captions read like a prompt ("a red star"), half like the other sets' ("red star, shapes").
        const text = k % 2 === 0 ? `${color} ${shape}, shapes` : `a ${color} ${shape}`;
        sources.push({
          path,
          source: `gesso-shapes:${name}`,
          category: `shapes/${shape}`,
          licence: 'CC0-1.0',
          isSvg: true,
          fit: 'pad',
          caption: { kind: 'given', text },
        });
      }
    }
  }
  o.log?.(
    `shapes: ${SHAPE_NAMES.length} shapes x ${SHAPE_COLORS.length} colours x ${perColor}: ${sources.length} drawings; rendering at ${o.size}px into ${o.outDir}`,
  );
  return buildDataset(sources, {
    outDir: o.outDir,
    name: 'gesso shapes',
    size: o.size,
    seed,
    valFraction: o.valFraction ?? 0.05,
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
}
