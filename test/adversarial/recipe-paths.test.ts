// Item 6: a recipe (in a PNG anyone can send) must not make gesso read a local file it names.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeImageFile } from '../../src/image/write-image.ts';
import { generate } from '../../src/pipelines/generate.ts';
import { tinyFolder, tinyModel } from '../pipelines/tiny-models.ts';
import { gesso } from './gesso-cli.ts';
import { pngWithText, scratch } from './hostile-inputs.ts';

test('generate --recipe refuses to read the init image a recipe names; --init gives it, checked by hash', async () => {
  const dir = scratch('recipe');
  const secret = pngWithText(join(dir, 'private-photo.png'), [], 64);
  const model = await tinyModel('sd1');
  const made = await generate(model, { prompt: 'a cat', steps: 2, seed: 1, initImage: secret, strength: 0.5 });
  const image = made.images[0]!;
  const evil = join(dir, 'evil.png');
  await writeImageFile(evil, image.pixels, image.width, image.height, 3, image.metadata);

  const out = join(dir, 'remade.png');
  const refused = gesso(['generate', '--recipe', evil, '--model', tinyFolder('sd1'), '--out', out]);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(
    refused.stderr,
    /was made from an init image recorded as ".*private-photo\.png"; gesso does not read files a recipe names: pass it with --init FILE/,
  );
  assert.equal(existsSync(out), false);

  const other = pngWithText(join(dir, 'other.png'), [], 72);
  const remade = gesso(['generate', '--recipe', evil, '--init', other, '--model', tinyFolder('sd1'), '--out', out]);
  assert.equal(remade.status, 0, remade.stderr);
  assert.match(remade.stderr, /--init ".*other\.png" is not the file the recipe was made from \(SHA-256 differs\)/);
  const info = gesso(['info', '--json', out]);
  assert.match((JSON.parse(info.stdout) as { recipe: { initImage: { path: string } } }).recipe.initImage.path, /other\.png$/);
});
