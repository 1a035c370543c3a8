import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceSection, writeSection } from '../../bench/lib/benchmarks-md.ts';

test('a new section is appended below a header', () => {
  const doc = replaceSection('', 'engine', '## Engine\nrow');
  assert.match(doc, /^# Benchmarks/);
  assert.match(doc, /<!-- bench:engine -->\n## Engine\nrow\n<!-- \/bench:engine -->\n$/);
});

test('rewriting one section keeps the others and the text around them', () => {
  let doc = replaceSection('', 'engine', 'old engine');
  doc = replaceSection(doc, 'style', 'style numbers');
  doc = doc.replace('# Benchmarks', '# Benchmarks\n\nhand-written intro');
  const next = replaceSection(doc, 'engine', 'new engine');
  assert.ok(next.includes('new engine'));
  assert.ok(!next.includes('old engine'));
  assert.ok(next.includes('<!-- bench:style -->\nstyle numbers\n<!-- /bench:style -->'));
  assert.ok(next.includes('hand-written intro'));
  assert.equal(replaceSection(next, 'engine', 'new engine'), next);
});

test('a section without its end marker or a bad name is refused', () => {
  assert.throws(() => replaceSection('<!-- bench:engine -->\nhalf', 'engine', 'x'), /no "<!-- \/bench:engine -->"/);
  assert.throws(() => replaceSection('', 'Engine Bench', 'x'), /"Engine Bench"/);
});

test('writeSection creates the file, then edits it in place without leftovers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-bench-md-'));
  const path = join(dir, 'BENCHMARKS.md');
  writeSection(path, 'engine', 'first');
  writeFileSync(path, `${readFileSync(path, 'utf8')}\nfooter\n`);
  writeSection(path, 'engine', 'second');
  const text = readFileSync(path, 'utf8');
  assert.ok(text.includes('second') && !text.includes('first'));
  assert.ok(text.includes('footer'));
  assert.deepEqual(readdirSync(dir), ['BENCHMARKS.md']);
});
