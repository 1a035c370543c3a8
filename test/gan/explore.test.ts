import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import { ganConfig, Generator } from '../../src/models/gan.ts';
import { GanModel } from '../../src/pipelines/gan-model.ts';
import { LatentResolver, renderSpecs, type LatentSpec } from '../../src/pipelines/gan-explore.ts';
import { breedSpecs, geneGridSpecs, seedSpec, walkSpecs } from '../../src/pipelines/explore-specs.ts';
import { readExploreRecipe } from '../../src/pipelines/explore-output.ts';
import { renderAndWrite } from '../../src/pipelines/explore-run.ts';
import { writeGeneratorFolder } from '../../src/train/gan/gan-export-folder.ts';

const config = ganConfig(64, { zDim: 16, wDim: 16, baseChannels: 2, maxChannels: 8 });

/** A generator folder at its (random) initial weights: exploration does not care whether it was trained. */
async function tinyGanFolder(dir: string): Promise<string> {
  const g = new Graph();
  new Generator(g, new Rng(11), config);
  await writeGeneratorFolder(dir, config, new Map([...g.params].map(([n, p]) => [n, p.value])), { seed: 11 });
  return dir;
}

async function pixels(path: string): Promise<Buffer> {
  return sharp(path).raw().toBuffer();
}

test('explore: same latent -> identical bytes; walk endpoints are the endpoint images; every PNG regenerates from its lineage', async () => {
  const root = mkdtempSync(join(tmpdir(), 'gesso-explore-'));
  try {
    const model = await GanModel.load(await tinyGanFolder(join(root, 'model')));
    try {
      const a = await renderAndWrite(model, [seedSpec(1), seedSpec(2)], { outDir: join(root, 'a'), truncation: 0.7 });
      const b = await renderAndWrite(model, [seedSpec(1)], { outDir: join(root, 'b'), truncation: 0.7 });
      assert.deepEqual(readFileSync(a.files[0]!), readFileSync(b.files[0]!), 'same latent, same bytes (alone or in a batch)');

      // A 2-key walk (slerp in z, not looped): first and last frames equal the keys' own images.
      const walk = await renderAndWrite(model, walkSpecs([seedSpec(1), seedSpec(2)], { frames: 6, loop: false }), {
        outDir: join(root, 'walk'),
        truncation: 0.7,
        animations: [join(root, 'walk', 'walk.webp'), join(root, 'walk', 'walk.gif')],
      });
      assert.equal(walk.count, 6);
      assert.deepEqual(await pixels(walk.files[0]!), await pixels(a.files[0]!));
      assert.deepEqual(await pixels(walk.files[5]!), await pixels(a.files[1]!));
      for (const anim of ['walk.webp', 'walk.gif']) {
        const meta = await sharp(join(root, 'walk', anim), { animated: true }).metadata();
        assert.equal(meta.pages, 6, `${anim} has every frame`);
        assert.equal(meta.loop, 0, `${anim} loops forever`);
      }

      // Breeding and gene grids: regenerating from the PNG's recorded lineage gives the same bytes.
      const parents: LatentSpec[] = [seedSpec(3), seedSpec(4), { op: 'interpolate', from: seedSpec(5), to: seedSpec(6), t: 0.3, method: 'slerp', space: 'z' }];
      const kids = await renderAndWrite(model, breedSpecs(parents, 3, 100, 0.2), { outDir: join(root, 'kids') });
      const genes = await renderAndWrite(model, geneGridSpecs(seedSpec(7), 'pc1', 'pc2', 2, 2), { outDir: join(root, 'genes') });
      for (const file of [...kids.files, ...genes.files, walk.files[3]!]) {
        const recipe = await readExploreRecipe(file);
        assert.equal(recipe.kind, 'gan');
        if (recipe.kind !== 'gan') continue;
        const again = await renderAndWrite(model, [recipe.latent], { outDir: join(root, 'regen'), truncation: recipe.truncation });
        assert.deepEqual(readFileSync(again.files[0]!), readFileSync(file), `${file} regenerates from its recipe`);
      }
      // Children differ from each other and from their parents; mutation rate 0 with one parent's genes twice is that parent.
      const kidPixels = await Promise.all(kids.files.map(pixels));
      assert.notDeepEqual(kidPixels[0], kidPixels[1]);
      const resolver = new LatentResolver(model);
      const clone = await resolver.w({ op: 'breed', parents: [seedSpec(3), seedSpec(3)], seed: 1, rate: 0, scale: 1 });
      const parent = await resolver.w(seedSpec(3));
      assert.ok(
        clone.every((v, i) => Math.abs(v - parent[i]!) < 1e-4),
        'crossover of a parent with itself, no mutation, is the parent',
      );
      // Truncation 0 collapses every latent onto the average image.
      const flat = await renderSpecs(resolver, [seedSpec(1), seedSpec(2)], 0);
      const half = flat.length / 2;
      assert.deepEqual(flat.subarray(0, half), flat.subarray(half));
    } finally {
      await model.release();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
