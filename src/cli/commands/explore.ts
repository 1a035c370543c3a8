import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { optionalNumberFlag } from '../flags.ts';
import type { Command } from '../command.ts';
import { InputError } from '../../core/errors.ts';
import { checkTruncation, type LatentSpec } from '../../pipelines/gan-explore.ts';
import { GanModel } from '../../pipelines/gan-model.ts';
import { breedSpecs, cornerGridSpecs, geneGridSpecs, geneWalkSpecs, seedSpec, walkSpecs } from '../../pipelines/explore-specs.ts';
import { ganModelHash, readExploreRecipe, readGanLatent } from '../../pipelines/explore-output.ts';
import { renderAndWrite } from '../../pipelines/explore-run.ts';
import { checkEasing } from '../../pipelines/latent-math.ts';
import { diffusionUsage, regenDiffusion, runDiffusionExplore } from './explore-diffusion.ts';

const usage = `Usage: gesso explore <mode> --model DIR [options]

Explores a GAN trained with \`gesso train gan\` (DIR: its model folder). A LATENT is a seed (a whole
number: z = gesso's seeded normals) or a PNG written by gesso explore (its recorded latent). Every PNG
written carries its lineage (seeds, parents, weights, genes, truncation) in its gesso recipe, so
\`gesso explore regen IMAGE.png\` makes it again exactly, and it can be a parent or keyframe later.

  sample   [--seed S] [--count N]                random samples: seeds S, S+1, ... (default 0, 16)
  walk     --keys L1,L2[,L3...] [--frames 24] [--method slerp|lerp] [--space z|w]
           [--easing linear|ease-in-out|ease-in|ease-out] [--no-loop] [--fps 12]
           a walk through keyframes (two keys: an interpolation); writes frames, walk.webp, walk.gif;
           by default it returns to the first key so the animation loops
  grid     --corners L1,L2,L3,L4 [--n 5]         n×n grid spanned by four corners (blend in w)
  grid     --base L --genes G1,G2 [--range 3] [--n 5]   grid along two genes (±range std)
  genes    --base L --gene G [--range 3] [--frames 9]   one gene as a slider (frames + animations)
  breed    --parents L1,L2[,...] [--children 8] [--seed S] [--rate 0.1] [--mutation-scale 1]
           children by crossover of the parents' gene coordinates and mutation (each gene with
           probability rate, by mutation-scale × its std)
  regen    IMAGE.png [--out FILE]                re-makes an explore PNG from its recipe
  list-genes                                     the model's genes (principal directions of w)
${diffusionUsage}

Options for every GAN mode:
  --model DIR         the GAN model folder (default .cache/train-gan-64/model)
  --truncation PSI    pull w towards the average: 1 = none (default), 0.7 typical
  --out DIR           output folder (default explore/<mode>)
  --scale N           magnify grid cells and animation frames N× (default 2)`;

const options = {
  model: { type: 'string' },
  out: { type: 'string' },
  truncation: { type: 'string' },
  scale: { type: 'string' },
  seed: { type: 'string' },
  count: { type: 'string' },
  keys: { type: 'string' },
  frames: { type: 'string' },
  method: { type: 'string' },
  space: { type: 'string' },
  easing: { type: 'string' },
  'no-loop': { type: 'boolean' },
  fps: { type: 'string' },
  corners: { type: 'string' },
  n: { type: 'string' },
  base: { type: 'string' },
  genes: { type: 'string' },
  gene: { type: 'string' },
  range: { type: 'string' },
  parents: { type: 'string' },
  children: { type: 'string' },
  rate: { type: 'string' },
  'mutation-scale': { type: 'string' },
} as const;

export const exploreCommand: Command = {
  usage,
  async run(args: string[]): Promise<number> {
    const [mode, ...rest] = args;
    if (mode === 'diffusion') return runDiffusionExplore(rest);
    const modes = ['sample', 'walk', 'grid', 'genes', 'breed', 'regen', 'list-genes'];
    if (mode === undefined || !modes.includes(mode))
      throw new InputError(`explore: unknown mode ${JSON.stringify(mode ?? '')}; expected ${modes.join(', ')} or diffusion (see gesso explore --help)`);
    const { values, positionals } = parseArgs({ args: rest, options, allowPositionals: mode === 'regen' });
    if (mode === 'regen') return regen(positionals, values.out, values.model);
    const model = await GanModel.load(values.model ?? '.cache/train-gan-64/model');
    try {
      if (mode === 'list-genes') {
        for (const g of model.info.genes.slice(0, 16)) console.log(`${g.name}  std ${g.std.toFixed(3)}`);
        console.log(`(${model.info.genes.length} genes in all)`);
        return 0;
      }
      const truncation = optionalNumberFlag('--truncation', values.truncation, {}, 1) as number;
      checkTruncation(truncation);
      const scale = optionalNumberFlag('--scale', values.scale, { integer: true, min: 1, max: 16 }, 2) as number;
      const outDir = values.out ?? join('explore', mode);
      let specs: LatentSpec[];
      let animate = false;
      let cols = 8;
      if (mode === 'sample') {
        const seed = optionalNumberFlag('--seed', values.seed, { integer: true, min: 0, max: 0xffffffff }, 0) as number;
        specs = Array.from({ length: optionalNumberFlag('--count', values.count, { integer: true, min: 1, max: 4096 }, 16) as number }, (_, i) =>
          seedSpec(seed + i),
        );
      } else if (mode === 'walk') {
        const method = values.method ?? 'slerp';
        if (method !== 'slerp' && method !== 'lerp') throw new InputError(`--method ${method}; expected slerp or lerp`);
        const space = values.space ?? 'z';
        if (space !== 'z' && space !== 'w') throw new InputError(`--space ${space}; expected z or w`);
        const keys = await latents('--keys', values.keys);
        specs = walkSpecs(keys, {
          frames: optionalNumberFlag('--frames', values.frames, { integer: true, min: 2, max: 1000 }, 24) as number,
          method,
          space,
          easing: checkEasing(values.easing ?? 'ease-in-out'),
          loop: !values['no-loop'],
        });
        animate = true;
      } else if (mode === 'grid') {
        const n = optionalNumberFlag('--n', values.n, { integer: true, min: 2, max: 32 }, 5) as number;
        cols = n;
        if (values.corners !== undefined) specs = cornerGridSpecs(await latents('--corners', values.corners), n);
        else {
          const genes = (values.genes ?? 'pc1,pc2').split(',');
          if (genes.length !== 2) throw new InputError(`--genes ${values.genes}: expected two gene names, e.g. pc1,pc2`);
          specs = geneGridSpecs(
            await latent('--base', values.base ?? '0'),
            genes[0] as string,
            genes[1] as string,
            n,
            optionalNumberFlag('--range', values.range, {}, 3) as number,
          );
        }
      } else if (mode === 'genes') {
        specs = geneWalkSpecs(
          await latent('--base', values.base ?? '0'),
          values.gene ?? 'pc1',
          optionalNumberFlag('--frames', values.frames, { integer: true, min: 2, max: 1000 }, 9) as number,
          optionalNumberFlag('--range', values.range, {}, 3) as number,
        );
        animate = true;
        cols = specs.length;
      } else {
        const parents = await latents('--parents', values.parents);
        specs = breedSpecs(
          parents,
          optionalNumberFlag('--children', values.children, { integer: true, min: 1, max: 1000 }, 8) as number,
          optionalNumberFlag('--seed', values.seed, { integer: true, min: 0, max: 0xffffffff }, 0) as number,
          optionalNumberFlag('--rate', values.rate, {}, 0.1) as number,
          optionalNumberFlag('--mutation-scale', values['mutation-scale'], {}, 1) as number,
        );
      }
      const result = await renderAndWrite(model, specs, {
        outDir,
        prefix: mode === 'walk' || mode === 'genes' ? 'frame' : mode,
        truncation,
        grid: { path: join(outDir, 'grid.png'), cols: Math.min(cols, specs.length), scale },
        ...(animate
          ? {
              animations: [join(outDir, `${mode}.webp`), join(outDir, `${mode}.gif`)],
              animationScale: scale,
              fps: optionalNumberFlag('--fps', values.fps, {}, 12) as number,
            }
          : {}),
      });
      console.log(`wrote ${result.count} images to ${outDir} (grid.png${animate ? `, ${mode}.webp, ${mode}.gif` : ''})`);
      return 0;
    } finally {
      await model.release();
    }
  },
};

async function regen(positionals: string[], out: string | undefined, modelDir: string | undefined): Promise<number> {
  if (positionals.length !== 1) throw new InputError(`explore regen: expected one PNG, got ${positionals.length}`);
  const input = positionals[0] as string;
  const recipe = await readExploreRecipe(input);
  const outPath = out ?? input.replace(/\.png$/i, '-regen.png');
  if (recipe.kind === 'diffusion') {
    await regenDiffusion(recipe, outPath, modelDir);
    console.log(`wrote ${outPath}`);
    return 0;
  }
  const model = await GanModel.load(modelDir ?? recipe.model.dir);
  try {
    const sha = await ganModelHash(model);
    if (sha !== recipe.model.sha256)
      console.warn(`warning: ${input} was made with model ${recipe.model.sha256.slice(0, 12)}, this one is ${sha.slice(0, 12)}: the image will differ`);
    const outDir = outPath.slice(0, Math.max(0, outPath.lastIndexOf('/'))) || '.';
    const result = await renderAndWrite(model, [recipe.latent], { outDir, prefix: '.regen', truncation: recipe.truncation });
    renameSync(result.files[0] as string, outPath);
    console.log(`wrote ${outPath}`);
    return 0;
  } finally {
    await model.release();
  }
}

/** A LATENT argument: a seed or an explore PNG's recorded latent. */
async function latent(flag: string, arg: string): Promise<LatentSpec> {
  if (/^\d+$/.test(arg)) {
    const seed = Number(arg);
    if (seed > 0xffffffff) throw new InputError(`${flag}: seed ${arg} is above 4294967295`);
    return seedSpec(seed);
  }
  if (/\.png$/i.test(arg)) return readGanLatent(arg);
  throw new InputError(`${flag}: ${JSON.stringify(arg)} is neither a seed (whole number) nor a .png written by gesso explore`);
}

async function latents(flag: string, arg: string | undefined): Promise<LatentSpec[]> {
  if (arg === undefined || arg.trim() === '') throw new InputError(`${flag} is required: a comma-separated list of seeds or explore PNGs`);
  return Promise.all(arg.split(',').map((a) => latent(flag, a.trim())));
}
