import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../weights/file-io.ts';
import { COLOR_TARGET, runDefaultEval, writeGrid } from '../../eval/default-eval.ts';
import { runGanEval } from '../../eval/gan-eval.ts';
import { buildOpenclipartDataset } from '../../data/openclipart.ts';
import { writeModelCard } from '../../train/gan/gan-export-folder.ts';
import type { GenerationSettings } from '../../eval/generate-set.ts';
import { loraEvalUsage, runLoraEvalCommand } from './eval-lora.ts';
import { DiffusionModel } from '../../pipelines/model-folder.ts';
import { numberFlag } from '../flags.ts';
import { parseFlags } from '../flags.ts';
import type { Command } from '../command.ts';
import { DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME, PACKAGE_ROOT } from '../../core/paths.ts';

const REPO = PACKAGE_ROOT;
const DEFAULT_DATA_DIR = join(REPO, '.cache/openclipart-64');
const DEFAULT_CACHE_DIR = join(REPO, '.cache/eval');
const DEFAULT_GRID = join(REPO, 'docs/default-model-grid.png');

const ganUsage = `Usage: gesso eval gan [--model DIR] [--data DIR] [--samples 512] [--cache DIR] [--classifier-data DIR]

Fréchet distance of a GAN's samples to the held-out (val) drawings of its dataset, in the feature
space of gesso's evaluation classifier (the one \`gesso eval default\` uses), before training (the
initial weights), after training, and for two baselines (blurred training images; the mean image).
Writes eval.json into the model folder and updates its model card; the last line of stdout is one
JSON object with frechet_before, frechet_after, frechet_baseline.

  --model DIR            default models/gesso-gan-stars-fruit-64
  --data DIR             the GAN's dataset (default: the one its gan.json names)
  --classifier-data DIR  default .cache/openclipart-64 (built when missing: gesso data openclipart)
  --samples N            samples per generator (default 512)
  --cache DIR            where the evaluation classifier is cached (default .cache/eval)
  --quick                a tiny classifier (for tests: numbers are not meaningful)`;

async function runGanEvalCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      samples: { type: 'string' },
      cache: { type: 'string' },
      'classifier-data': { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const modelDir = values.model ?? join(REPO, 'models/gesso-gan-stars-fruit-64');
  const infoPath = join(modelDir, 'gan.json');
  if (!existsSync(infoPath))
    throw new InputError(`${modelDir} is not a GAN model folder (no gan.json); train one with \`gesso train gan\` or pass --model DIR`);
  const info = JSON.parse(await readFile(infoPath, 'utf8')) as { training?: { data?: string } };
  const ganData = values.data ?? info.training?.data;
  if (ganData === undefined || !existsSync(join(ganData, 'manifest.jsonl'))) {
    throw new InputError(`the GAN's dataset ${ganData ?? '(not recorded)'} is missing; rebuild it as the model card says, or pass --data DIR`);
  }
  const samples = values.samples === undefined ? 512 : Number(values.samples);
  if (!Number.isInteger(samples) || samples < 2) throw new InputError(`--samples ${values.samples} must be an integer >= 2`);
  const classifierData = values['classifier-data'] ?? DEFAULT_DATA_DIR;
  if (!existsSync(join(classifierData, 'manifest.jsonl'))) {
    console.error(`gan eval: building the classifier's drawings in ${classifierData} (gesso data openclipart --size 64)`);
    await buildOpenclipartDataset({ outDir: classifierData, size: 64 });
  }
  const report = await runGanEval({
    modelDir,
    ganDataDir: ganData,
    classifierDataDir: classifierData,
    cacheDir: values.cache ?? DEFAULT_CACHE_DIR,
    samples,
    quick: values.quick,
    log: (l) => console.error(l),
  });
  writeFileAtomic(join(modelDir, 'eval.json'), JSON.stringify(report, null, 1) + '\n');
  writeModelCard(modelDir);
  console.log(
    `training cut the Fréchet distance from ${report.frechet_before} to ${report.frechet_after} (${report.improvement}× lower); blurred training images ${report.frechet_baseline}, mean image ${report.frechet_mean_image}, the training images themselves ${report.frechet_train_images}`,
  );
  console.log(
    JSON.stringify({
      frechet_before: report.frechet_before,
      frechet_after: report.frechet_after,
      frechet_baseline: report.frechet_baseline,
      frechet_mean_image: report.frechet_mean_image,
      frechet_train_images: report.frechet_train_images,
      improvement: report.improvement,
    }),
  );
  return 0;
}

/** `--grid-only`: the labelled grid of a model folder, with the same generation flags. */
async function gridOnly(
  modelDir: string,
  values: { grid?: string; quick?: boolean; steps?: string; cfg?: string; scheduler?: string; cache?: string },
): Promise<number> {
  if (!existsSync(join(modelDir, 'model_index.json'))) throw new InputError(`--model ${modelDir} is not a model folder (no model_index.json)`);
  const generation: GenerationSettings = {};
  if (values.steps !== undefined) generation.steps = numberFlag('--steps', values.steps, { integer: true, min: 1 });
  if (values.cfg !== undefined) generation.cfgScale = numberFlag('--cfg', values.cfg, { min: 0 });
  if (values.scheduler !== undefined) generation.scheduler = values.scheduler;
  const path = values.grid ?? join(values.cache ?? DEFAULT_CACHE_DIR, 'grid.png');
  const model = await DiffusionModel.load(modelDir);
  try {
    await writeGrid(model, path, values.quick ?? false, generation, (m) => console.error(`eval: ${m}`));
  } finally {
    await model.release();
  }
  console.log(`wrote ${path}`);
  return 0;
}

/** The datasets a model folder's training.json names (its plan's data), else Open Clip Art at 64 px. */
async function trainedOn(modelDir: string): Promise<string[]> {
  try {
    const info = JSON.parse(await readFile(join(modelDir, 'training.json'), 'utf8')) as { data?: unknown };
    const data = typeof info.data === 'string' ? [info.data] : Array.isArray(info.data) ? info.data.filter((d): d is string => typeof d === 'string') : [];
    if (data.length > 0) return data.map((d) => (d.startsWith('/') ? d : join(REPO, d)));
  } catch {
    // No training.json (a model gesso did not train): measure against Open Clip Art.
  }
  return [DEFAULT_DATA_DIR];
}

const defaultUsage = `Usage: gesso eval default [options]

Measures a text-to-image model folder against the drawings it learned from, for its model card:
VAE reconstruction PSNR, classification accuracy score (CAS) and its ceiling, colour adherence,
Fréchet distance in the classifier's feature space (overall, and with several --data folders also
over each folder's categories alone); writes a labelled grid of samples.
Progress goes to stderr; the last line of stdout is one JSON object with
vae_psnr_db, cas, cas_ceiling, color_adherence, frechet (and with --compare, the compared model's
vae_psnr_db_v1, cas_v1, color_adherence_v1, frechet_v1 on the same held-out drawings).

Options:
  --model DIR        model folder (default: models/gesso-default-v2)
  --data DIRS        comma-separated \`gesso data\` folders of the training drawings (default: the
                     ones the model's training.json names, else .cache/openclipart-64, built by
                     \`gesso data openclipart --size 64\`); each folder adds its 10 largest categories
  --compare DIR      a second model folder (e.g. models/gesso-clipart-v1) measured in the same run on
                     the same categories, classifier, held-out drawings and seeds
  --compare-grid FILE  its grid (default: the grid's path with "-compare" before .png)
  --quick            few images and a tiny classifier (for tests: numbers are not meaningful)
  --steps N          denoising steps (default 20; 4 with --quick)
  --cfg X            guidance scale (default 7)
  --scheduler NAME   default: the model's
  --size N           generate at N x N pixels (default: the model's size); images are measured at
                     the dataset's size
  --grid FILE        where to write the sample grid (default: docs/default-model-grid.png; with
                     --quick, .cache/eval/quick-grid.png)
  --no-grid          write no grid
  --grid-only        write the grid and nothing else (no data, classifier or numbers needed): a
                     quick look at a checkpoint or snapshot folder
  --cache DIR        classifier cache (default: .cache/eval)
  --report FILE      where to write the results as JSON: the five numbers at the top level, and
                     under "details" every number behind them (per category, per colour, settings)
                     (default: eval.json in the model folder, which the model card is written from)
  --no-report        write no JSON file`;

const targets = { default: defaultUsage, lora: loraEvalUsage, gan: ganUsage };

export const evalCommand: Command = {
  usage: `Usage: gesso eval default|lora|gan [options]   (gesso eval TARGET --help: that target alone)

${Object.values(targets).join('\n\n')}`,
  targets,
  async run(args: string[]): Promise<number> {
    if (args[0] === 'gan') return runGanEvalCommand(args.slice(1));
    if (args[0] === 'lora') return runLoraEvalCommand(args.slice(1));
    const parsed = parseFlags('eval', {
      args,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        data: { type: 'string' },
        compare: { type: 'string' },
        'compare-grid': { type: 'string' },
        quick: { type: 'boolean', default: false },
        steps: { type: 'string' },
        cfg: { type: 'string' },
        scheduler: { type: 'string' },
        size: { type: 'string' },
        grid: { type: 'string' },
        'no-grid': { type: 'boolean', default: false },
        'grid-only': { type: 'boolean', default: false },
        cache: { type: 'string' },
        report: { type: 'string' },
        'no-report': { type: 'boolean', default: false },
      },
    });
    const { values, positionals } = parsed;
    if (positionals.length !== 1 || positionals[0] !== 'default') {
      throw new InputError(
        `gesso eval: expected the evaluation's name "default" (gesso eval default), got ${positionals.length === 0 ? 'none' : JSON.stringify(positionals.join(' '))}`,
      );
    }
    const modelDir = values.model ?? DEFAULT_MODEL_DIR;
    if (values.model === undefined && !existsSync(modelDir)) throw new InputError(`no default model at models/${DEFAULT_MODEL_NAME}; pass --model DIR`);
    if (values['grid-only']) return gridOnly(modelDir, values);
    const dataDirs = values.data !== undefined ? values.data.split(',').filter((d) => d.length > 0) : await trainedOn(modelDir);
    for (const dataDir of dataDirs) {
      if (!existsSync(join(dataDir, 'manifest.jsonl'))) {
        throw new InputError(
          `${dataDir} is not a gesso data folder (no manifest.jsonl)${values.data === undefined ? '; build it with `gesso data openclipart --size 64` (or `gesso data emoji`) or pass --data DIR' : ''}`,
        );
      }
    }
    if (values.compare !== undefined && !existsSync(join(values.compare, 'model_index.json'))) {
      throw new InputError(`--compare ${values.compare} is not a model folder (no model_index.json)`);
    }
    const generation: GenerationSettings = {};
    if (values.steps !== undefined) generation.steps = numberFlag('--steps', values.steps, { integer: true, min: 1 });
    if (values.size !== undefined) generation.size = numberFlag('--size', values.size, { integer: true, min: 1 });
    if (values.cfg !== undefined) {
      const cfg = Number(values.cfg);
      if (!Number.isFinite(cfg)) throw new InputError(`--cfg ${values.cfg}: expected a number`);
      generation.cfgScale = cfg;
    }
    if (values.scheduler !== undefined) generation.scheduler = values.scheduler;
    const cacheDir = values.cache ?? DEFAULT_CACHE_DIR;
    const gridPath = values['no-grid'] ? null : (values.grid ?? (values.quick ? join(cacheDir, 'quick-grid.png') : DEFAULT_GRID));

    const compareGridPath = gridPath === null ? null : (values['compare-grid'] ?? gridPath.replace(/(\.png)?$/i, '-compare.png'));
    const model = await DiffusionModel.load(modelDir);
    const compare = values.compare === undefined ? undefined : await DiffusionModel.load(values.compare);
    try {
      const report = await runDefaultEval({
        model,
        ...(compare ? { compare, compareGridPath } : {}),
        dataDir: dataDirs,
        quick: values.quick,
        cacheDir,
        gridPath,
        generation,
        log: (m) => console.error(`eval: ${m}`),
      });
      const s = report.summary;
      const reportPath = values['no-report'] ? null : (values.report ?? join(modelDir, 'eval.json'));
      if (reportPath !== null) {
        const { summary, ...details } = report;
        try {
          await writeJsonAtomic(reportPath, { ...summary, details });
          console.error(`eval: wrote ${reportPath}`);
        } catch (e) {
          // The numbers are still printed below: a long run is not lost to a read-only folder.
          console.error(`gesso: warning: could not write ${reportPath}: ${(e as Error).message}`);
        }
      }
      console.error(
        [
          `model ${report.model}: ${report.generation.scheduler}, ${report.generation.steps} steps, CFG ${report.generation.cfgScale}, ${report.generation.width}x${report.generation.height}, ${report.generation.seedsPerPrompt} seeds a prompt`,
          `VAE PSNR        ${s.vae_psnr_db} dB over ${report.vae.images} val drawings (target >= 24)`,
          `CAS             ${pct(s.cas)} of ${report.frechet.generated} generated (ceiling ${pct(s.cas_ceiling)}, chance ${pct(report.chance)}; target >= half the ceiling)`,
          ...report.categories.map(
            (c) =>
              `  ${c.key.padEnd(30)} "${c.prompt}": CAS ${pct(c.casAccuracy)}, held-out ${pct(c.ceilingAccuracy)}${c.unknownWords.length ? `, unknown words: ${c.unknownWords.join(' ')}` : ''}`,
          ),
          `colour          ${pct(s.color_adherence)} mean; ${report.color.map((c) => `${c.color} ${c.matches}/${c.seeds}${c.meetsTarget ? '' : ' (below ' + pct(COLOR_TARGET) + ')'}`).join(', ')}`,
          `Fréchet         ${s.frechet} (${report.frechet.generated} generated vs ${report.frechet.real} val drawings; real held-out drawings score ${report.frechet.realReference ?? 'n/a'})`,
          ...report.frechet.byData.map((f) => `  ${f.data.padEnd(30)} ${f.value} (its categories only: ${f.generated} generated vs ${f.real} val drawings)`),
          ...(report.grid ? [`grid            ${report.grid.path}`] : []),
          ...(report.compare
            ? [
                `compared with ${report.compare.model}: VAE ${report.compare.vae.meanPsnrDb} dB, CAS ${pct(report.compare.cas)}, colour ${pct(report.compare.colorAdherence)}, Fréchet ${report.compare.frechet}`,
                ...Object.entries(report.compare.casPerCategory).map(([key, v]) => `  ${key.padEnd(30)} CAS ${pct(v)}`),
                ...report.compare.frechetByPart.map(
                  (f) => `  Fréchet over ${report.frechet.byData[f.part]?.data ?? `data folder ${f.part + 1}`}: ${f.value.toFixed(3)}`,
                ),
                ...(report.compare.grid ? [`  grid ${report.compare.grid.path}`] : []),
              ]
            : []),
          `took ${report.seconds} s`,
        ].join('\n'),
      );
      console.log(JSON.stringify(s));
      return 0;
    } finally {
      await model.release();
      await compare?.release();
    }
  },
};

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
