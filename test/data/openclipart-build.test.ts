import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildDataset, type ManifestLine } from '../../src/data/build-dataset.ts';
import { findOpenclipartRoot, OPENCLIPART_DEFAULT_ROOT, openclipartSources } from '../../src/data/openclipart.ts';
import { InputError } from '../../src/core/errors.ts';

const installed = existsSync(OPENCLIPART_DEFAULT_ROOT);
const skip = installed ? false : `the Open Clip Art Library is not installed (apt-get install openclipart-svg): skipped`;

test('openclipart --limit 40 builds a captioned CC0 dataset of centred 64-px renders', { skip }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'gesso-openclipart-'));
  try {
    const selection = await openclipartSources(findOpenclipartRoot(), { limit: 40, seed: 7 });
    assert.ok(selection.found > 8000, `${selection.found} files`);
    assert.equal(selection.sources.length, 40);
    // The stop-list is learned from the whole library, whatever the limit.
    for (const author of ['ganson', 'buculei', 'architetto', 'benji']) assert.ok(selection.authorWords.includes(author), author);

    const report = await buildDataset(selection.sources, { outDir: out, name: 'openclipart-svg', size: 64, seed: 7, valFraction: 0.05, unlimited: true });
    assert.equal(report.counts.found, 40);
    assert.equal(report.counts.kept + report.counts.dropped, 40);
    assert.ok(report.counts.kept >= 35, `kept ${report.counts.kept}`);

    const lines = readFileSync(join(out, 'manifest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ManifestLine);
    assert.equal(lines.length, report.counts.kept);
    for (const l of lines) {
      assert.deepEqual(Object.keys(l), ['file', 'caption', 'category', 'source', 'licence', 'split', 'colors']);
      assert.equal(l.licence, 'CC0-1.0');
      assert.match(l.source, /^openclipart-svg:[a-z_]+\//);
      assert.ok(l.caption.length > 0);
      assert.doesNotMatch(l.caption, /\b(ganson|buculei|architetto|benji|gerhards|clipart|svg|\d+)\b/, l.caption);
      const meta = await sharp(join(out, l.file)).metadata();
      assert.deepEqual([meta.width, meta.height, meta.channels], [64, 64, 3]);
    }
    // Renders are on white: the corners of every image are white.
    for (const l of lines) {
      const { data } = await sharp(join(out, l.file)).raw().toBuffer({ resolveWithObject: true });
      const corner = (x: number, y: number): number => Math.min(data[(y * 64 + x) * 3], data[(y * 64 + x) * 3 + 1], data[(y * 64 + x) * 3 + 2]);
      assert.ok(
        [corner(0, 0), corner(63, 0), corner(0, 63), corner(63, 63)].every((v) => v > 240),
        `${l.source} corners are not white`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a missing library is an InputError naming the package and how to install it', () => {
  assert.throws(
    () => findOpenclipartRoot('/nonexistent/openclipart'),
    (e: unknown) => e instanceof InputError && /--root \/nonexistent\/openclipart/.test(e.message),
  );
  assert.throws(
    () => findOpenclipartRoot(undefined, '/nonexistent/share/openclipart/svg', 'openclipart-svg-not-a-package'),
    (e: unknown) =>
      e instanceof InputError &&
      /Debian package openclipart-svg-not-a-package/.test(e.message) &&
      /apt-get install openclipart-svg-not-a-package/.test(e.message),
  );
});
