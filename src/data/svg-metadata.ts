/** The title and creator an SVG states in its RDF metadata (`<cc:Work>` with `dc:title` and `dc:creator`). */
export interface SvgMetadata {
  title: string;
  creator: string;
}

/**
 * Reads `dc:title` and `dc:creator`'s agent title from an SVG's `<cc:Work>`; empty strings when absent.
 * The work's own `dc:title` is the first one before `dc:creator` (the creator's name is a `dc:title` too).
 */
export function readSvgMetadata(svg: string): SvgMetadata {
  const start = svg.indexOf('<cc:Work');
  if (start < 0) return { title: '', creator: '' };
  const end = svg.indexOf('</cc:Work>', start);
  const work = svg.slice(start, end < 0 ? undefined : end);
  const creatorAt = work.indexOf('<dc:creator');
  const beforeCreator = creatorAt < 0 ? work : work.slice(0, creatorAt);
  // dc:subject, dc:publisher etc. hold titles too; the work's title comes first among its direct children.
  const subjectAt = beforeCreator.search(/<dc:(subject|publisher|rights)/);
  const own = subjectAt < 0 ? beforeCreator : beforeCreator.slice(0, subjectAt);
  const title = firstTitle(own);
  const creator = creatorAt < 0 ? '' : firstTitle(work.slice(creatorAt, work.indexOf('</dc:creator>', creatorAt)));
  return { title, creator };
}

function firstTitle(xml: string): string {
  const m = /<dc:title>([^<]*)<\/dc:title>/.exec(xml);
  return m ? decodeEntities((m[1] as string).trim()) : '';
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, d: string) => codePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => codePoint(parseInt(h, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function codePoint(n: number): string {
  return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '';
}
