// XMP packets (ISO 16684-1) for provenance: IPTC Extension `DigitalSourceType` says how an image was made.
// In PNG an XMP packet lives in an uncompressed iTXt chunk with keyword `XML:com.adobe.xmp` (XMP spec part 3).
// The reader is a light regex parse, not a full RDF parser: it handles the attribute form, the element form
// and the rdf:resource form of a property, under whatever prefix the packet binds to the namespace.

export const XMP_KEYWORD = 'XML:com.adobe.xmp';
export const DIGITAL_SOURCE_TYPE_BASE = 'http://cv.iptc.org/newscodes/digitalsourcetype/';
/** IPTC NewsCodes for AI media: made by a model from a prompt, or a user's image edited with one. */
export const TRAINED_ALGORITHMIC_MEDIA = `${DIGITAL_SOURCE_TYPE_BASE}trainedAlgorithmicMedia`;
export const COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA = `${DIGITAL_SOURCE_TYPE_BASE}compositeWithTrainedAlgorithmicMedia`;

const NS = {
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  dc: 'http://purl.org/dc/elements/1.1/',
  xmp: 'http://ns.adobe.com/xap/1.0/',
  Iptc4xmpExt: 'http://iptc.org/std/Iptc4xmpExt/2008-02-29/',
  gesso: 'urn:gesso:xmp:1.0/',
};

export interface XmpFields {
  /** A full NewsCodes URI, e.g. TRAINED_ALGORITHMIC_MEDIA. */
  digitalSourceType?: string;
  /** Goes in dc:description (for gesso: the prompt). */
  description?: string;
  /** xmp:CreatorTool, the software that made the image. */
  creatorTool?: string;
  /** xmp:CreateDate, ISO 8601. Left out by default so that the same recipe gives the same bytes. */
  createDate?: string;
  /**
   * gesso:recipe, gesso's JSON recipe as text: for formats with no place of their own for it (animated
   * WebP and GIF, whose only standard metadata slot is XMP). PNGs keep it in their `gesso` chunk instead.
   */
  recipe?: string;
}

function escapeXml(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/\r/g, '&#xD;')
      // Other C0 controls (and lone surrogates) cannot appear in XML 1.0 at all.
      .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
  );
}

/** A complete XMP packet (with xpacket wrapper) holding the given fields. */
export function buildXmpPacket(fields: XmpFields): string {
  const props: string[] = [];
  if (fields.creatorTool !== undefined) props.push(`   <xmp:CreatorTool>${escapeXml(fields.creatorTool)}</xmp:CreatorTool>`);
  if (fields.createDate !== undefined) props.push(`   <xmp:CreateDate>${escapeXml(fields.createDate)}</xmp:CreateDate>`);
  if (fields.digitalSourceType !== undefined) {
    props.push(`   <Iptc4xmpExt:DigitalSourceType>${escapeXml(fields.digitalSourceType)}</Iptc4xmpExt:DigitalSourceType>`);
  }
  if (fields.recipe !== undefined) props.push(`   <gesso:recipe>${escapeXml(fields.recipe)}</gesso:recipe>`);
  if (fields.description !== undefined) {
    props.push(
      '   <dc:description>',
      '    <rdf:Alt>',
      `     <rdf:li xml:lang="x-default">${escapeXml(fields.description)}</rdf:li>`,
      '    </rdf:Alt>',
      '   </dc:description>',
    );
  }
  return [
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    ` <rdf:RDF xmlns:rdf="${NS.rdf}">`,
    `  <rdf:Description rdf:about="" xmlns:dc="${NS.dc}" xmlns:xmp="${NS.xmp}" xmlns:Iptc4xmpExt="${NS.Iptc4xmpExt}"${fields.recipe !== undefined ? ` xmlns:gesso="${NS.gesso}"` : ''}>`,
    ...props,
    '  </rdf:Description>',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="w"?>',
  ].join('\n');
}

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (whole, ent: string) => {
    const lower = ent.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[lower] ?? whole;
  });
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The prefixes a packet binds to a namespace URI (usually one, but any name is legal). */
function prefixesFor(xmp: string, uri: string): string[] {
  const re = new RegExp(`xmlns:([\\w.-]+)\\s*=\\s*["']${escapeRegex(uri)}["']`, 'g');
  return [...new Set([...xmp.matchAll(re)].map((m) => m[1]!))];
}

/** One simple or language-alternative property, by namespace URI and local name; undefined if absent. */
export function readXmpProperty(xmp: string, namespaceUri: string, localName: string): string | undefined {
  for (const prefix of prefixesFor(xmp, namespaceUri)) {
    const name = escapeRegex(`${prefix}:${localName}`);
    // Attribute form: <rdf:Description p:Name="value" …>
    const attr = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(xmp);
    if (attr) return unescapeXml(attr[1] ?? attr[2] ?? '');
    // rdf:resource form: <p:Name rdf:resource="value"/>
    const resource = new RegExp(`<${name}\\s[^>]*rdf:resource\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(xmp);
    if (resource) return unescapeXml(resource[1] ?? resource[2] ?? '');
    // Element form: <p:Name>value</p:Name>, or a rdf:Alt/Seq/Bag of rdf:li (x-default first).
    const element = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xmp);
    if (element) {
      const inner = element[1]!;
      if (!inner.includes('<')) return unescapeXml(inner.trim());
      const items = [...inner.matchAll(/<rdf:li(\s[^>]*)?>([\s\S]*?)<\/rdf:li>/g)];
      const chosen = items.find((m) => /xml:lang\s*=\s*["']x-default["']/.test(m[1] ?? '')) ?? items[0];
      if (chosen) return unescapeXml(chosen[2]!);
    }
  }
  return undefined;
}

/** The IPTC DigitalSourceType URI of any XMP packet, or undefined if it has none. */
export function readDigitalSourceType(xmp: string): string | undefined {
  return readXmpProperty(xmp, NS.Iptc4xmpExt, 'DigitalSourceType');
}

/** The fields gesso writes, as found in any XMP packet. */
export function readXmpFields(xmp: string): XmpFields {
  const fields: XmpFields = {};
  const entries: [keyof XmpFields, string | undefined][] = [
    ['digitalSourceType', readDigitalSourceType(xmp)],
    ['description', readXmpProperty(xmp, NS.dc, 'description')],
    ['creatorTool', readXmpProperty(xmp, NS.xmp, 'CreatorTool')],
    ['createDate', readXmpProperty(xmp, NS.xmp, 'CreateDate')],
    ['recipe', readXmpProperty(xmp, NS.gesso, 'recipe')],
  ];
  for (const [key, value] of entries) if (value !== undefined) fields[key] = value;
  return fields;
}
