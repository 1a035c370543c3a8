import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { buildDataset, type BuildReport, type ManifestLine } from '../../src/data/build-dataset.ts';
import { detectLicence, folderSources } from '../../src/data/folder-source.ts';
import { dataCommand } from '../../src/cli/commands/data.ts';
import { InputError } from '../../src/core/errors.ts';

async function square(color: string, size = 40, inner = 20): Promise<Sharp> {
  return sharp({ create: { width: size, height: size, channels: 3, background: '#ffffff' } }).composite([
    { input: { create: { width: inner, height: inner, channels: 3, background: color } }, left: (size - inner) / 2, top: (size - inner) / 2 },
  ]);
}

/** A folder with the cases the builder must handle. */
async function makeFolder(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-folder-'));
  mkdirSync(join(dir, 'fruit', 'red'), { recursive: true });
  mkdirSync(join(dir, 'photos'), { recursive: true });
  mkdirSync(join(dir, '.hidden'), { recursive: true });
  await (await square('#ff0000')).png().toFile(join(dir, 'fruit', 'red', 'apple_01.png'));
  // The same pixels under another name: an exact duplicate once rendered.
  await (await square('#ff0000')).png().toFile(join(dir, 'fruit', 'red', 'apple_copy.png'));
  await (await square('#0000ff')).jpeg().toFile(join(dir, 'photos', 'sky.jpg'));
  writeFileSync(join(dir, 'photos', 'sky.txt'), '  a blue square\nin the sky  \n');
  await (await square('#00aa00', 60, 40)).webp({ lossless: true }).toFile(join(dir, 'photos', 'leaf.webp'));
  writeFileSync(join(dir, 'photos', 'LICENSE'), 'SPDX-License-Identifier: CC-BY-4.0\n');
  writeFileSync(
    join(dir, 'star.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><polygon points="50,5 61,38 95,38 68,59 79,92 50,72 21,92 32,59 5,38 39,38" fill="#ffd700"/></svg>',
  );
  await sharp({ create: { width: 30, height: 30, channels: 3, background: '#ffffff' } })
    .png()
    .toFile(join(dir, 'blank.png'));
  writeFileSync(join(dir, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nthis is not really a png'));
  writeFileSync(join(dir, 'broken.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="10"');
  writeFileSync(join(dir, 'notes.txt'), 'not a caption: no picture is called notes');
  await (await square('#000000')).png().toFile(join(dir, '.hidden', 'secret.png'));
  return dir;
}

function readManifest(out: string): ManifestLine[] {
  return readFileSync(join(out, 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ManifestLine);
}

test('the folder builder keeps good pictures and drops broken, blank and duplicate ones', async () => {
  const dir = await makeFolder();
  const out = join(dir, '..', `${dir.split('/').pop()}-out`);
  try {
    const sources = await folderSources(dir);
    assert.deepEqual(
      sources.map((s) => s.source),
      ['blank.png', 'broken.png', 'broken.svg', 'fruit/red/apple_01.png', 'fruit/red/apple_copy.png', 'photos/leaf.webp', 'photos/sky.jpg', 'star.svg'],
    );
    const report = await buildDataset(sources, { outDir: out, name: 'test', size: 32, seed: 1, valFraction: 0.3 });

    assert.deepEqual(report.dropped, { broken: 2, blank: 1, duplicate: 1, capped: 0 });
    assert.deepEqual(
      report.broken.map((b) => b.source),
      ['broken.png', 'broken.svg'],
    );
    assert.ok(report.broken.every((b) => b.error.length > 0));
    assert.deepEqual(report.blank, ['blank.png']);
    assert.deepEqual(report.duplicates, [{ source: 'fruit/red/apple_copy.png', duplicateOf: 'fruit/red/apple_01.png' }]);
    assert.equal(report.counts.found, 8);
    assert.equal(report.counts.kept, 4);
    assert.equal(report.counts.train + report.counts.val, 4);

    const lines = readManifest(out);
    const bySource = new Map(lines.map((l) => [l.source, l]));
    assert.deepEqual([...bySource.keys()].sort(), ['fruit/red/apple_01.png', 'photos/leaf.webp', 'photos/sky.jpg', 'star.svg']);
    // A caption file is used verbatim (whitespace collapsed); otherwise file + folder names + colours.
    assert.equal(bySource.get('photos/sky.jpg')?.caption, 'a blue square in the sky');
    assert.equal(bySource.get('fruit/red/apple_01.png')?.caption, 'red apple, red, fruit');
    assert.equal(bySource.get('photos/leaf.webp')?.caption, 'green leaf, photos');
    assert.equal(bySource.get('star.svg')?.caption, 'yellow star');
    assert.deepEqual(bySource.get('photos/sky.jpg')?.colors, ['blue']);
    // Licence from the nearest licence file, else unknown.
    assert.equal(bySource.get('photos/leaf.webp')?.licence, 'CC-BY-4.0');
    assert.equal(bySource.get('star.svg')?.licence, 'unknown');
    assert.equal(bySource.get('fruit/red/apple_01.png')?.category, 'fruit/red');

    // Exactly the kept images are on disk, each a 32×32 RGB PNG; no temp files are left.
    const files = readdirSync(join(out, 'images')).sort();
    assert.deepEqual(files, lines.map((l) => l.file.slice('images/'.length)).sort());
    for (const l of lines) {
      const meta = await sharp(join(out, l.file)).metadata();
      assert.deepEqual([meta.width, meta.height, meta.channels], [32, 32, 3]);
    }
    const written = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BuildReport;
    assert.deepEqual(written.dropped, report.dropped);
    assert.deepEqual(written.categories, { 'fruit/red': 1, photos: 2, '(root)': 1 });

    // A second run resumes: nothing rendered again, same manifest.
    const again = await buildDataset(await folderSources(dir), { outDir: out, name: 'test', size: 32, seed: 1, valFraction: 0.3 });
    assert.equal(again.time.rendered, 0);
    assert.equal(again.time.resumed, 8);
    assert.deepEqual(readManifest(out), lines);
    // Another size renders everything again.
    const bigger = await buildDataset(await folderSources(dir), { outDir: out, name: 'test', size: 48, seed: 1, valFraction: 0.3 });
    assert.equal(bigger.time.rendered, 8);
    assert.equal((await sharp(join(out, (lines[0] as ManifestLine).file)).metadata()).width, 48);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});

test('fit auto pads drawings and crops photos; --fit overrides it', async () => {
  const dir = await makeFolder();
  try {
    const auto = new Map((await folderSources(dir)).map((s) => [s.source, s.fit]));
    assert.equal(auto.get('star.svg'), 'pad');
    assert.equal(auto.get('photos/sky.jpg'), 'crop');
    assert.equal(auto.get('photos/leaf.webp'), 'crop'); // lossless webp of an opaque picture: no alpha
    const padded = await folderSources(dir, { fit: 'pad' });
    assert.ok(padded.every((s) => s.fit === 'pad'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the train/val split is fixed by the seed; --max-per-category caps a folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-split-'));
  const out = join(dir, 'out');
  try {
    mkdirSync(join(dir, 'in'));
    for (let i = 0; i < 40; i++) {
      await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: i * 6, g: 100, b: 200 - i * 4 } } })
        .png()
        .toFile(join(dir, 'in', `c${i}.png`));
    }
    const splits = async (seed: number): Promise<string[]> => {
      await buildDataset(await folderSources(join(dir, 'in')), { outDir: out, name: 't', size: 8, seed, valFraction: 0.25 });
      return readManifest(out).map((l) => l.split);
    };
    const a = await splits(3);
    assert.deepEqual(await splits(3), a);
    const b = await splits(4);
    assert.notDeepEqual(b, a);
    const val = a.filter((s) => s === 'val').length;
    assert.ok(val > 3 && val < 18, `${val} of 40 in val`);
    // --max-per-category keeps a seeded choice of that many per folder, from resumed renders.
    const capped = await buildDataset(await folderSources(join(dir, 'in')), {
      outDir: out,
      name: 't',
      size: 8,
      seed: 3,
      valFraction: 0.25,
      maxPerCategory: 10,
    });
    assert.equal(capped.counts.kept, 10);
    assert.equal(capped.time.rendered, 0);
    assert.deepEqual(capped.capped, { '(root)': 30 });
    assert.equal(capped.dropped.capped, 30);
    assert.equal(readdirSync(join(out, 'images')).length, 10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('licence files are read as SPDX ids', () => {
  assert.equal(detectLicence('SPDX-License-Identifier: MIT'), 'MIT');
  assert.equal(detectLicence('CC0-1.0\n'), 'CC0-1.0');
  assert.equal(detectLicence('Creative Commons Zero v1.0 Universal ...'), 'CC0-1.0');
  assert.equal(detectLicence('Permission is hereby granted, free of charge, to any person'), 'MIT');
  assert.equal(detectLicence('All rights reserved by the artist.'), undefined);
});

test('gesso data folder: bad input is an InputError that names it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-cli-'));
  try {
    await assert.rejects(
      dataCommand.run(['folder', join(dir, 'missing')]),
      (e: unknown) => e instanceof InputError && /missing is not a folder/.test(e.message),
    );
    await assert.rejects(dataCommand.run(['folder', dir]), /holds no .png/);
    await assert.rejects(dataCommand.run(['folder', dir, '--size', 'big']), /--size "big" is not a number; expected a whole number from 8 to 4096/);
    await assert.rejects(dataCommand.run(['folder', dir, '--fit', 'stretch']), /--fit stretch is not auto, crop or pad/);
    await assert.rejects(dataCommand.run(['folder', dir, '--val-fraction', '1.5']), /--val-fraction 1.5/);
    await assert.rejects(dataCommand.run(['nope']), /unknown subcommand "nope"/);
    assert.equal(existsSync(join(dir, 'images')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
