/**
 * Framing an SVG on its drawing rather than its page. Old clip art often draws outside its page (files
 * made at Inkscape's 90 dpi, read at another) or puts a small drawing on an A4 page, so rendering the
 * page alone cuts drawings or leaves them tiny. These helpers rewrite only the root `<svg>` tag's
 * width, height and viewBox to show a chosen region of user space; the rest of the file is untouched.
 * The text is handled as latin1, which maps bytes 1:1, so files in any encoding survive the rewrite.
 */

/** A rectangle in the SVG's user units. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** CSS pixels per unit, as SVG defines lengths on the root element without a viewBox. */
const UNIT_PX: Record<string, number> = { '': 1, px: 1, pt: 96 / 72, pc: 16, in: 96, cm: 96 / 2.54, mm: 96 / 25.4, em: 16, ex: 8 };

const ROOT_TAG = /<svg\b[^>]*>/;

/**
 * The page in user units: the root's viewBox, or (0, 0, width, height) from its lengths; `fallback`
 * (e.g. the size librsvg reports) when it has neither usable viewBox nor absolute lengths.
 */
export function svgPageBox(svgLatin1: string, fallback: { width: number; height: number }): Box {
  const tag = ROOT_TAG.exec(svgLatin1)?.[0] ?? '';
  const viewBox = attribute(tag, 'viewBox')
    ?.trim()
    .split(/[\s,]+/)
    .map(Number);
  if (viewBox && viewBox.length === 4 && viewBox.every(Number.isFinite) && viewBox[2] > 0 && viewBox[3] > 0) {
    return { x: viewBox[0], y: viewBox[1], width: viewBox[2], height: viewBox[3] };
  }
  const width = lengthPx(attribute(tag, 'width'));
  const height = lengthPx(attribute(tag, 'height'));
  return { x: 0, y: 0, width: width ?? fallback.width, height: height ?? fallback.height };
}

/** The SVG with its root tag set to show `region` of user space in a widthPx × heightPx viewport. */
export function reframeSvg(svgLatin1: string, region: Box, widthPx: number, heightPx: number): string {
  const match = ROOT_TAG.exec(svgLatin1);
  if (!match) throw new Error('no <svg> root element');
  const tag = match[0]
    .replace(/\s(width|height|viewBox|preserveAspectRatio)\s*=\s*("[^"]*"|'[^']*')/g, '')
    .replace(
      /^<svg\b/,
      `<svg width="${widthPx}" height="${heightPx}" viewBox="${region.x} ${region.y} ${region.width} ${region.height}" preserveAspectRatio="none"`,
    );
  return svgLatin1.slice(0, match.index) + tag + svgLatin1.slice(match.index + match[0].length);
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  return m ? (m[1] ?? m[2]) : undefined;
}

function lengthPx(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[-+]?\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!m) return undefined; // "100%" or garbage: the page size is unknown
  const scale = UNIT_PX[(m[2] as string).toLowerCase()];
  const n = Number(m[1]) * (scale ?? NaN);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
