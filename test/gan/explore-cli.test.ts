// `gesso explore` through the real CLI entry (bin/gesso.js) on a small generator folder: every GAN mode
// writes what it says, explore PNGs regenerate byte for byte from their recipes, and bad input is one
// clear line with exit code 2 (no stack trace, nothing written).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import { ganConfig, Generator } from '../../src/models/gan.ts';
import { writeGeneratorFolder } from '../../src/train/gan/gan-export-folder.ts';

const BIN = fileURLToPath(new URL('../../bin/gesso.js', import.meta.url));
const gesso = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

let root = '';
let model = '';

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'gesso-explore-cli-'));
  model = join(root, 'model');
  // A generator at its initial weights: exploration does not care whether it was trained.
  const config = ganConfig(64, { zDim: 16, wDim: 16, baseChannels: 2, maxChannels: 8 });
  const g = new Graph();
  new Generator(g, new Rng(5), config);
  await writeGeneratorFolder(model, config, new Map([...g.params].map(([n, p]) => [n, p.value])), { seed: 5 });
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function ok(...args: string[]): string {
  const r = gesso(...args);
  assert.equal(r.status, 0, `gesso ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
}

const pngs = (dir: string, prefix: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.startsWith(`${prefix}-`) && f.endsWith('.png'))
    .sort();

test('gesso explore sample, walk, grid, genes, breed, list-genes write their images; regen gives the same bytes', async () => {
  const sample = join(root, 'sample');
  assert.match(ok('explore', 'sample', '--model', model, '--seed', '5', '--count', '3', '--out', sample), /wrote 3 images/);
  assert.deepEqual(pngs(sample, 'sample'), ['sample-0000.png', 'sample-0001.png', 'sample-0002.png']);
  assert.ok(existsSync(join(sample, 'grid.png')));

  const walk = join(root, 'walk');
  ok('explore', 'walk', '--model', model, '--keys', '1,2', '--frames', '4', '--no-loop', '--easing', 'linear', '--out', walk);
  assert.equal(pngs(walk, 'frame').length, 4);
  const webp = await sharp(join(walk, 'walk.webp'), { animated: true }).metadata();
  assert.equal(webp.pages, 4, 'one animation frame per walk frame');
  assert.equal((await sharp(join(walk, 'walk.gif'), { animated: true }).metadata()).pages, 4);
  // A walk's first frame is seed 1's own image (the sample of seed 1 rendered alone).
  const one = join(root, 'one');
  ok('explore', 'sample', '--model', model, '--seed', '1', '--count', '1', '--out', one);
  assert.deepEqual(await sharp(join(walk, 'frame-0000.png')).raw().toBuffer(), await sharp(join(one, 'sample-0000.png')).raw().toBuffer());

  const regen = join(root, 'regen-frame.png');
  assert.match(ok('explore', 'regen', join(walk, 'frame-0002.png'), '--out', regen), /wrote/);
  assert.deepEqual(readFileSync(regen), readFileSync(join(walk, 'frame-0002.png')), 'a walk frame regenerates byte for byte');

  // Breeding from a seed and a PNG parent, then regenerating a child from its PNG alone.
  const breed = join(root, 'breed');
  ok('explore', 'breed', '--model', model, '--parents', `1,${join(walk, 'frame-0003.png')}`, '--children', '2', '--seed', '9', '--rate', '0.3', '--out', breed);
  const children = pngs(breed, 'breed');
  assert.equal(children.length, 2);
  const child = join(root, 'child.png');
  ok('explore', 'regen', join(breed, children[1] as string), '--out', child);
  assert.deepEqual(readFileSync(child), readFileSync(join(breed, children[1] as string)), 'a child regenerates from its recorded lineage');

  const grid = join(root, 'grid');
  ok('explore', 'grid', '--model', model, '--corners', '1,2,3,4', '--n', '2', '--scale', '1', '--out', grid);
  assert.equal(pngs(grid, 'grid').length, 4);
  const cells = await sharp(join(grid, 'grid.png')).metadata();
  assert.ok(cells.width! >= 128 && cells.height! >= 128, `2×2 grid of 64 px cells: ${cells.width}x${cells.height}`);

  const genes = join(root, 'genes');
  ok('explore', 'genes', '--model', model, '--gene', 'pc2', '--frames', '3', '--out', genes);
  assert.equal(pngs(genes, 'frame').length, 3);
  assert.ok(existsSync(join(genes, 'genes.webp')));

  const list = ok('explore', 'list-genes', '--model', model);
  assert.match(list, /^pc1 {2}std \d/m);
  assert.match(list, /\(16 genes in all\)/);
});

test('gesso explore: bad input is one clear line, exit code 2, and nothing is written', () => {
  const notes = join(root, 'notes.txt');
  writeFileSync(notes, 'not a picture');
  const out = join(root, 'never');
  const cases: [string[], RegExp][] = [
    [['explore', 'paint'], /unknown mode "paint"; expected sample, walk/],
    [['explore', 'walk', '--model', model, '--out', out], /--keys is required/],
    [['explore', 'walk', '--model', model, '--keys', '1,banana', '--out', out], /--keys: "banana" is neither a seed/],
    [['explore', 'walk', '--model', model, '--keys', '1,2', '--method', 'cubic', '--out', out], /--method cubic; expected slerp or lerp/],
    [['explore', 'walk', '--model', model, '--keys', '1,2', '--easing', 'bouncy', '--out', out], /bouncy/],
    [['explore', 'sample', '--model', model, '--truncation', '5', '--out', out], /truncation 5 must be a number in \[0, 2\]/],
    [['explore', 'sample', '--model', model, '--count', '0', '--out', out], /--count/],
    [['explore', 'sample', '--model', join(root, 'no-such-model'), '--out', out], /is not a gesso GAN model folder/],
    [['explore', 'genes', '--model', model, '--gene', 'pc999', '--out', out], /gene "pc999" is not in this model/],
    [['explore', 'grid', '--model', model, '--genes', 'pc1', '--out', out], /expected two gene names/],
    [['explore', 'regen', notes], /notes\.txt/],
    [['explore', 'regen'], /expected one PNG, got 0/],
    [['explore', 'sample', '--model', model, '--bogus'], /--bogus/],
  ];
  for (const [args, message] of cases) {
    const r = gesso(...args);
    assert.equal(r.status, 2, `gesso ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, /^gesso: /, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace: ${args.join(' ')}`);
  }
  assert.equal(existsSync(out), false, 'no output folder from a refused command');
});
