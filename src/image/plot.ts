/**
 * Line charts as PNG (loss curves, metrics over training): the chart is written as an SVG string and
 * rendered by sharp (librsvg), so no plotting library is needed. Text uses the system's sans-serif font.
 */
import sharp from 'sharp';
import { InputError } from '../core/errors.ts';

export interface PlotSeries {
  name: string;
  points: readonly (readonly [number, number])[];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Logarithmic y axis; points with y <= 0 are left out. */
  logY?: boolean;
  /** Picture size in pixels; default 800 × 450. */
  width?: number;
  height?: number;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const MARGIN = { left: 72, right: 16, top: 36, bottom: 48 };

/** Renders the series as one line chart; non-finite points are left out. Returns PNG bytes. */
export async function plotLines(series: readonly PlotSeries[], options: PlotOptions): Promise<Uint8Array> {
  const svg = plotSvg(series, options);
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** The chart as an SVG document (what plotLines renders). */
export function plotSvg(series: readonly PlotSeries[], options: PlotOptions): string {
  const width = options.width ?? 800;
  const height = options.height ?? 450;
  if (!(width >= 200 && height >= 150)) throw new InputError(`plot size ${width}x${height} is too small; expected at least 200x150`);
  const logY = options.logY ?? false;
  const clean = series.map((s) => ({
    name: s.name,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0)).map(([x, y]) => [x, logY ? Math.log10(y) : y] as const),
  }));
  const all = clean.flatMap((s) => s.points);
  if (all.length === 0) throw new InputError(`plot "${options.title}": no finite points to draw${logY ? ' (a log axis needs y > 0)' : ''}`);
  const [x0, x1] = padRange(Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0])), false);
  const [y0, y1] = padRange(Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1])), true);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const px = (x: number): number => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number): number => MARGIN.top + (1 - (y - y0) / (y1 - y0)) * plotH;

  const parts: string[] = [];
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  for (const t of linearTicks(x0, x1)) {
    parts.push(`<line x1="${f(px(t))}" y1="${MARGIN.top}" x2="${f(px(t))}" y2="${MARGIN.top + plotH}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${f(px(t))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${esc(formatTick(t))}</text>`);
  }
  for (const t of logY ? logTicks(y0, y1) : linearTicks(y0, y1)) {
    parts.push(`<line x1="${MARGIN.left}" y1="${f(py(t))}" x2="${MARGIN.left + plotW}" y2="${f(py(t))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${f(py(t) + 4)}" text-anchor="end">${esc(formatTick(logY ? 10 ** t : t))}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  clean.forEach((s, i) => {
    if (s.points.length === 0) return;
    const colour = COLOURS[i % COLOURS.length] as string;
    const pts = s.points.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(' ');
    parts.push(
      s.points.length === 1
        ? `<circle cx="${f(px(s.points[0]![0]))}" cy="${f(py(s.points[0]![1]))}" r="3" fill="${colour}"/>`
        : `<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="1.5"/>`,
    );
    const ly = MARGIN.top + 14 + i * 16;
    parts.push(`<line x1="${MARGIN.left + plotW - 150}" y1="${ly - 4}" x2="${MARGIN.left + plotW - 130}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${MARGIN.left + plotW - 124}" y="${ly}">${esc(s.name)}</text>`);
  });
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(options.title)}</text>`);
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel + (logY ? ' (log)' : ''))}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#222">${parts.join('')}</svg>`;
}

/** A range with a little room around the data (and a non-zero width when every value is the same). */
function padRange(lo: number, hi: number, pad: boolean): [number, number] {
  if (hi === lo) return [lo - 1, hi + 1];
  const room = pad ? (hi - lo) * 0.05 : 0;
  return [lo - room, hi + room];
}

/** About five round tick values (1, 2 or 5 × 10^k apart) inside [lo, hi]. */
export function linearTicks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  // Multiples of the step, rounded so 3 × 0.2 is 0.6 and not 0.6000000000000001.
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Ticks of a log10 axis given in log10 units: whole decades, or 1-2-5 steps when less than two decades show. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const mantissas = hi - lo < 2 ? [1, 2, 5] : [1];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (const m of mantissas) {
      const t = k + Math.log10(m);
      if (t >= lo && t <= hi) ticks.push(t);
    }
  }
  return ticks.length >= 2 ? ticks : linearTicks(lo, hi);
}

function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

const f = (v: number): string => v.toFixed(1);

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
