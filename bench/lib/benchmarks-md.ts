/**
 * BENCHMARKS.md holds one section per benchmark between `<!-- bench:NAME -->` and
 * `<!-- /bench:NAME -->`, so each benchmark rewrites only its own section and leaves the rest alone.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { GessoError } from '../../src/core/errors.ts';

const HEADER = `# Benchmarks

Each section below is written by its benchmark (\`npm run bench:<name>\`) between its
\`<!-- bench:<name> -->\` markers; text outside the markers is kept. Benchmarks measure ratios
against peers run in the same process tree, one after another (DESIGN.md §6).
`;

function markers(name: string): { start: string; end: string } {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new GessoError(`benchmark name "${name}" must be lower-case letters, digits and dashes`);
  return { start: `<!-- bench:${name} -->`, end: `<!-- /bench:${name} -->` };
}

/** `doc` with the section `name` replaced by `body` (appended if the section is not there yet). */
export function replaceSection(doc: string, name: string, body: string): string {
  const { start, end } = markers(name);
  const block = `${start}\n${body.trim()}\n${end}`;
  const from = doc.indexOf(start);
  if (from === -1) {
    const base = doc.trim().length === 0 ? HEADER : doc;
    return `${base.replace(/\n*$/, '')}\n\n${block}\n`;
  }
  const to = doc.indexOf(end, from + start.length);
  if (to === -1) throw new GessoError(`BENCHMARKS.md has "${start}" but no "${end}" after it; fix the file by hand`);
  return doc.slice(0, from) + block + doc.slice(to + end.length);
}

/** Rewrites one section of the file at `path` (created if missing) through a temp file and rename. */
export function writeSection(path: string, name: string, body: string): void {
  let doc = '';
  try {
    doc = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, replaceSection(doc, name, body));
  renameSync(tmp, path);
}
