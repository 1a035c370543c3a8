/**
 * Enough markdown for model cards, rendered as React elements (never as HTML, so a card cannot inject
 * markup): headings, paragraphs, lists, tables, code blocks, **bold**, `code` and links; images are
 * shown by the page from the card's picture list instead.
 */
import type { ReactNode } from 'react';

function inline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  const re = /(\*\*[^*]+\*\*|`[^`]+`|\[[^\]]+\]\([^)]+\))/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    const token = m[0];
    if ((m.index ?? 0) > last) out.push(text.slice(last, m.index));
    if (token.startsWith('**')) out.push(<strong key={out.length}>{token.slice(2, -2)}</strong>);
    else if (token.startsWith('`')) out.push(<code key={out.length}>{token.slice(1, -1)}</code>);
    else {
      const link = /^\[([^\]]+)\]\(([^)]+)\)$/.exec(token);
      const href = link?.[2] ?? '';
      out.push(
        /^https?:\/\//.test(href) ? (
          <a key={out.length} href={href} rel="noreferrer">
            {link?.[1]}
          </a>
        ) : (
          link?.[1]
        ),
      );
    }
    last = (m.index ?? 0) + token.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const cells = (row: string) =>
  row
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((c) => c.trim());

export function Markdown({ text, headingOffset = 2 }: { text: string; headingOffset?: number }) {
  const lines = text.replace(/\r/g, '').split('\n');
  const blocks: ReactNode[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    const key = blocks.length;
    if (/^\s*$/.test(line) || /^!\[/.test(line)) {
      i++;
    } else if (/^#{1,6} /.test(line)) {
      const level = Math.min(6, (line.match(/^#+/)?.[0].length ?? 1) + headingOffset - 1);
      const H = `h${level}` as 'h3';
      blocks.push(<H key={key}>{inline(line.replace(/^#+ /, ''))}</H>);
      i++;
    } else if (/^(```| {4})/.test(line)) {
      const fenced = line.startsWith('```');
      const body: string[] = [];
      i += fenced ? 1 : 0;
      while (i < lines.length && (fenced ? !(lines[i] as string).startsWith('```') : /^( {4}|\s*$)/.test(lines[i] as string)))
        body.push((lines[i++] as string).replace(/^ {4}/, ''));
      if (fenced) i++;
      blocks.push(<pre key={key}>{body.join('\n').trimEnd()}</pre>);
    } else if (line.startsWith('|')) {
      const rows: string[][] = [];
      while (i < lines.length && (lines[i] as string).startsWith('|')) {
        if (!/^\|[\s:|-]+\|$/.test((lines[i] as string).trim())) rows.push(cells(lines[i] as string));
        i++;
      }
      const [head, ...body] = rows;
      blocks.push(
        <div key={key} className="table-wrap">
          <table className="facts">
            <thead>
              <tr>
                {head?.map((c, k) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: static table
                  <th key={k} scope="col">
                    {inline(c)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {body.map((r, k) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: static table
                <tr key={k}>
                  {r.map((c, j) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: static table
                    <td key={j}>{inline(c)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>,
      );
    } else if (/^\s*([-*]|\d+\.) /.test(line)) {
      const items: string[] = [];
      while (i < lines.length && /^\s*([-*]|\d+\.) /.test(lines[i] as string)) {
        let item = (lines[i++] as string).replace(/^\s*([-*]|\d+\.) /, '');
        while (i < lines.length && /^\s{2,}\S/.test(lines[i] as string) && !/^\s*([-*]|\d+\.) /.test(lines[i] as string))
          item += ` ${(lines[i++] as string).trim()}`;
        items.push(item);
      }
      blocks.push(
        <ul key={key}>
          {items.map((t, k) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: static list
            <li key={k}>{inline(t)}</li>
          ))}
        </ul>,
      );
    } else {
      const para: string[] = [];
      while (i < lines.length && !/^\s*$/.test(lines[i] as string) && !/^(#{1,6} |```|\||\s*([-*]|\d+\.) )/.test(lines[i] as string))
        para.push(lines[i++] as string);
      blocks.push(<p key={key}>{inline(para.join(' '))}</p>);
    }
  }
  return <div className="markdown">{blocks}</div>;
}
