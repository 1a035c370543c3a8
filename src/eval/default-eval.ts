/**
 * `gesso eval default`: the numbers of a text-to-image model folder's card, measured against the
 * drawings it was trained on (a `gesso data` folder). Five measures:
 *
 *   vae_psnr_db      VAE reconstruction PSNR of the val split's drawings (vae-psnr.ts)
 *   cas_ceiling      a classifier trained on real drawings of the 10 largest content categories
 *                    (categories.ts, eval-classifier.ts): its mean per-category accuracy on held-out
 *                    real drawings
 *   cas              the same classifier's accuracy on images generated from each category's prompt
 *                    (`seedsPerPrompt` seeds each): the classification accuracy score (Ravuri & Vinyals
 *                    2019, "Classification Accuracy Score for Conditional Generative Models", here with
 *                    the classifier trained on real data and tested on generated data)
 *   color_adherence  for "a red|blue|green|yellow star", the share of seeds whose mean hue of coloured
 *                    pixels lies in the named colour's range (hue.ts), averaged over the four colours
 *   frechet          Fréchet distance (frechet.ts) between the classifier's pooled features of the
 *                    generated category images and of the val split's drawings of those categories
 *
 * Generation uses the pipeline's `generate()` with the model's scheduler, 20 steps and CFG 7 (the
 * pipeline's defaults) unless told otherwise, without the upscaler; images are measured at the
 * dataset's size. A labelled grid (8 prompts × 4 seeds, through the upscaler when the model has one)
 * is written for people to look at.
 */
import { concatBytes } from '../core/bytes.ts';
import { packageRelative } from '../core/paths.ts';
import { Rng } from '../core/rng.ts';
import { combineDatasets, type ImageDataset, loadImageDataset } from '../data/dataset.ts';
import type { DiffusionModel } from '../pipelines/model-folder.ts';
import { generate } from '../pipelines/generate.ts';
import { splitWords, WordTokenizer } from '../text/word-tokenizer.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { chooseCategories, chooseCategoriesPerPart, type ContentCategory } from './categories.ts';
import { ClassifierRunner } from './classifier.ts';
import { type ClassifierSplit, classifierRecipe, prepareClassifier } from './eval-classifier.ts';
import { frechetDistance } from './frechet.ts';
import { generateSet, planesToInput, type GeneratedSet, type GenerationSettings } from './generate-set.ts';
import { imageHue, matchesColor, type HueName } from './hue.ts';
import { writeLabelledGrid, type GridRow } from './labelled-grid.ts';
import { vaeReconstructionPsnr } from './vae-psnr.ts';

export const COLOR_PROMPTS: readonly { prompt: string; color: HueName }[] = [
  { prompt: 'a red star', color: 'red' },
  { prompt: 'a blue star', color: 'blue' },
  { prompt: 'a green star', color: 'green' },
  { prompt: 'a yellow star', color: 'yellow' },
];

/**
 * The grid's prompts: everyday subjects a first prompt names, which the captions name too (Open Clip
 * Art: apple 18 captions, tree 27, house 13, dog 16, flower 16, clock 24, heart 11; the emoji sets
 * name each of the second eight), and colours.
 */
export const GRID_PROMPTS = [
  'a red apple',
  'a blue star',
  'a tree',
  'a house',
  'a dog',
  'a yellow flower',
  'a clock',
  'a red heart',
  'a cat',
  'a car',
  'a sun',
  'a fish',
  'a bird',
  'a banana',
  'a smiling face',
  'a rocket',
] as const;

/** Seeds start here, so a rerun makes the same images. */
export const FIRST_SEED = 1000;
/** A match counts for the colour test when at least this share of a colour's seeds match. */
export const COLOR_TARGET = 0.8;

export interface DefaultEvalOptions {
  model: DiffusionModel;
  /**
   * A second model measured on the same categories, classifier, held-out drawings and seeds (e.g. the
   * previous default, v1): its numbers go into the summary with the suffix "_v1".
   */
  compare?: DiffusionModel;
  /** Where the compared model's grid goes (null: none). */
  compareGridPath?: string | null;
  /**
   * `gesso data` folder(s): manifest.jsonl + images/. With several (Open Clip Art and emoji), each
   * contributes its own 10 largest content categories.
   */
  dataDir: string | readonly string[];
  quick?: boolean;
  /** Where the classifier is cached. */
  cacheDir: string;
  /** Grid PNG path; null writes none. */
  gridPath: string | null;
  generation?: GenerationSettings;
  log?: (message: string) => void;
}

export interface EvalSummary {
  vae_psnr_db: number;
  cas: number;
  cas_ceiling: number;
  color_adherence: number;
  frechet: number;
  /** The compared model's numbers on the same held-out set (only with `compare`). */
  vae_psnr_db_v1?: number;
  cas_v1?: number;
  color_adherence_v1?: number;
  frechet_v1?: number;
}

/** What one model scored: the parts of the report that depend on the model. */
export interface ModelScores {
  model: string;
  cas: number;
  casPerCategory: Record<string, number>;
  generatedAs: Record<string, Record<string, number>>;
  frechet: number;
  /** The distance over each data folder's categories (index `part` of the folders measured). */
  frechetByPart: { part: number; value: number; generated: number; real: number }[];
  colorAdherence: number;
  color: EvalReport['color'];
  vae: EvalReport['vae'];
  grid: EvalReport['grid'];
}

export interface CategoryReport extends ContentCategory {
  train: number;
  heldOut: number;
  /** Held-out real drawings classified right. */
  ceilingAccuracy: number;
  /** Generated images classified as this category. */
  casAccuracy: number;
  /** How the generated images were classified: category key -> count. */
  generatedAs: Record<string, number>;
  unknownWords: string[];
}

export interface EvalReport {
  summary: EvalSummary;
  model: string;
  data: string;
  quick: boolean;
  generation: GeneratedSet['settings'] & { seedsPerPrompt: number; firstSeed: number };
  chance: number;
  categories: CategoryReport[];
  classifier: { path: string; trainedNow: boolean; featureDim: number; heldOutAccuracy: number; heldOutBalancedAccuracy: number };
  color: {
    prompt: string;
    color: HueName;
    matches: number;
    seeds: number;
    share: number;
    meetsTarget: boolean;
    hues: (number | null)[];
    unknownWords: string[];
  }[];
  frechet: {
    generated: number;
    real: number;
    value: number;
    realReference: number | null;
    realReferenceCount: number;
    /** With several data folders: the distance over each folder's categories alone (generated vs its val drawings). */
    byData: FrechetPart[];
  };
  vae: { images: number; meanPsnrDb: number; pooledPsnrDb: number };
  grid: { path: string; prompts: string[]; seeds: number[]; unknownWords: Record<string, string[]> } | null;
  /** The compared model's scores (with `compare`). */
  compare: ModelScores | null;
  seconds: number;
}

export interface FrechetPart {
  data: string;
  value: number;
  generated: number;
  real: number;
}

/** Words of `prompt` a word tokenizer does not know (they become <unk>); none for BPE tokenizers. */
export function unknownWords(tokenizer: Tokenizer, prompt: string): string[] {
  if (!(tokenizer instanceof WordTokenizer)) return [];
  return splitWords(prompt, tokenizer.lowercase).filter((w) => tokenizer.tokenize(w)[0] === tokenizer.unkId);
}

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

export async function runDefaultEval(o: DefaultEvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const log = o.log ?? (() => {});
  const quick = o.quick ?? false;
  const seedsPerPrompt = quick ? 4 : 20;
  const generation: GenerationSettings = { ...(quick ? { steps: 4 } : {}), ...o.generation };

  // 1. The drawings and their categories.
  const dataDirs = typeof o.dataDir === 'string' ? [o.dataDir] : [...o.dataDir];
  const { dataset, categories } = await loadEvalData(dataDirs, log);
  const valIndices = dataset.items.flatMap((item, i) => (item.split === 'val' ? [i] : []));

  // 2. The classifier and its ceiling on held-out real drawings.
  const prepared = await prepareClassifier(dataset, categories, classifierRecipe(quick), o.cacheDir, log);
  const classifier = prepared.runner;
  try {
    const heldOut = prepared.split.heldOut;
    const ceiling = await classifierCeiling(classifier, dataset, heldOut, categories.length, log);

    // 3-6. What depends on the model: generated images, CAS, Fréchet, colours, VAE, grid.
    const real = await realFeatures(classifier, dataset, heldOut, categories.length, seedsPerPrompt);
    const setting: ScoreSetting = {
      dataset,
      vaeIndices: quick ? valIndices.slice(0, 8) : valIndices,
      categories,
      classifier,
      realValFeatures: real.valFeatures,
      realValCount: real.valCount,
      realValLabels: real.valLabels,
      seedsPerPrompt,
      size: dataset.size,
      generation,
      quick,
      log,
    };
    const main = await scoreModel(o.model, setting, o.gridPath);
    log(`frechet: ${main.frechet.toFixed(3)} (real held-out drawings vs val: ${real.reference?.toFixed(3) ?? 'n/a'})`);
    const compare = o.compare ? await compareScores(o.compare, setting, o.compareGridPath ?? null) : null;
    const fromScores = modelReport(main, setting, ceiling.perClass, compare);
    return {
      summary: fromScores.summary,
      model: packageRelative(o.model.dir),
      data: dataDirs.map(packageRelative).join(', '),
      quick,
      generation: fromScores.generation,
      chance: fromScores.chance,
      categories: categoryReports(o.model, main, setting, prepared.split, ceiling.perClass),
      classifier: {
        path: packageRelative(prepared.path),
        trainedNow: prepared.trained,
        featureDim: classifier.featureDim,
        heldOutAccuracy: round(ceiling.accuracy),
        heldOutBalancedAccuracy: round(ceiling.mean),
      },
      color: fromScores.color,
      frechet: {
        generated: main.details.genCount,
        real: real.valCount,
        value: round(main.details.frechet, 3),
        realReference: real.reference === null ? null : round(real.reference, 3),
        realReferenceCount: real.referenceCount,
        byData: main.frechetByPart.map(({ part, ...f }) => ({ ...f, data: packageRelative(dataDirs[part] ?? String(part)), value: round(f.value, 3) })),
      },
      vae: fromScores.vae,
      grid: fromScores.grid,
      compare,
      seconds: Math.round((performance.now() - started) / 1000),
    };
  } finally {
    await classifier.release();
  }
}

/** The `gesso data` folders combined, and the content categories measured: the 10 largest of each folder. */
async function loadEvalData(dataDirs: readonly string[], log: (message: string) => void): Promise<{ dataset: ImageDataset; categories: ContentCategory[] }> {
  log(`data: loading ${dataDirs.join(', ')}`);
  const parts = await Promise.all(dataDirs.map((dir) => loadImageDataset(dir, { split: 'all' })));
  const dataset = combineDatasets(parts);
  const categories =
    parts.length === 1
      ? chooseCategories(dataset.items, 10)
      : chooseCategoriesPerPart(
          parts.map((p) => p.items),
          10,
        );
  log(`categories: ${categories.map((c) => `${c.key} -> "${c.prompt}" (${c.count})`).join('; ')}`);
  return { dataset, categories };
}

type HeldOut = ClassifierSplit['heldOut'];

/** The classifier on held-out real drawings: accuracy per category, their mean (the CAS ceiling), and overall. */
async function classifierCeiling(
  classifier: ClassifierRunner,
  dataset: ImageDataset,
  heldOut: HeldOut,
  classes: number,
  log: (message: string) => void,
): Promise<{ perClass: number[]; mean: number; accuracy: number }> {
  const out = await classifier.run(dataset.readBatch(heldOut.map((h) => h.index)), heldOut.length);
  const predicted = ClassifierRunner.predictions(out.logits, classes);
  const perClass = perClassAccuracy(
    predicted,
    heldOut.map((h) => h.label),
    classes,
  );
  const ceiling = mean(perClass);
  const accuracy = predicted.filter((p, i) => p === heldOut[i]?.label).length / heldOut.length;
  log(`classifier: held-out accuracy ${(accuracy * 100).toFixed(1)}%, per-category mean ${(ceiling * 100).toFixed(1)}%`);
  return { perClass, mean: ceiling, accuracy };
}

/**
 * The real drawings' features the generated ones are compared with: the val split of the categories
 * (a dataset with (almost) no val split falls back to every held-out drawing), and the Fréchet distance
 * a sample of other real drawings scores against them (null without a val split).
 */
async function realFeatures(
  classifier: ClassifierRunner,
  dataset: ImageDataset,
  heldOut: HeldOut,
  classes: number,
  perClass: number,
): Promise<{ valFeatures: Float32Array; valCount: number; valLabels: number[]; reference: number | null; referenceCount: number }> {
  const F = classifier.featureDim;
  const valOnly = heldOut.filter((h) => h.split === 'val');
  const realVal = valOnly.length >= 2 ? valOnly : heldOut;
  const valOut = await classifier.run(dataset.readBatch(realVal.map((h) => h.index)), realVal.length);
  const reference = referenceSample(heldOut, classes, perClass);
  let distance: number | null = null;
  if (reference.length >= 2 && realVal === valOnly) {
    const refOut = await classifier.run(dataset.readBatch(reference), reference.length);
    distance = frechetDistance({ data: refOut.features, count: reference.length, dim: F }, { data: valOut.features, count: realVal.length, dim: F });
  }
  return {
    valFeatures: valOut.features,
    valCount: realVal.length,
    valLabels: realVal.map((h) => h.label),
    reference: distance,
    referenceCount: reference.length,
  };
}

/** The compared model (e.g. v1) measured the same way, without the details only the main report keeps. */
async function compareScores(model: DiffusionModel, setting: ScoreSetting, gridPath: string | null): Promise<ModelScores> {
  setting.log(`compare: measuring ${model.dir} the same way`);
  const { details: _, ...scores } = await scoreModel(model, setting, gridPath);
  setting.log(`compare: CAS ${scores.cas}, Fréchet ${scores.frechet}, colour ${scores.colorAdherence}, VAE ${scores.vae.meanPsnrDb} dB`);
  return scores;
}

/** The summary and the report's parts that come from the main model's scores. */
function modelReport(
  main: Awaited<ReturnType<typeof scoreModel>>,
  setting: ScoreSetting,
  ceilingPerClass: readonly number[],
  compare: ModelScores | null,
): Pick<EvalReport, 'summary' | 'generation' | 'chance' | 'color' | 'vae' | 'grid'> {
  const { perClassGenerated, cas, frechet, color, colorAdherence, vae, grid } = main.details;
  const first = perClassGenerated[0] as GeneratedSet;
  return {
    summary: {
      vae_psnr_db: round(vae.meanPsnrDb, 2),
      cas: round(cas),
      cas_ceiling: round(mean(ceilingPerClass)),
      color_adherence: round(colorAdherence),
      frechet: round(frechet, 3),
      ...(compare
        ? { vae_psnr_db_v1: compare.vae.meanPsnrDb, cas_v1: compare.cas, color_adherence_v1: compare.colorAdherence, frechet_v1: compare.frechet }
        : {}),
    },
    generation: { ...first.settings, seedsPerPrompt: setting.seedsPerPrompt, firstSeed: FIRST_SEED },
    chance: round(1 / setting.categories.length),
    color,
    vae: { images: vae.images, meanPsnrDb: round(vae.meanPsnrDb, 2), pooledPsnrDb: round(vae.pooledPsnrDb, 2) },
    grid,
  };
}

/** Each category: its drawings in the classifier's split, the ceiling and CAS accuracies, what its images were taken for. */
function categoryReports(
  model: DiffusionModel,
  main: Awaited<ReturnType<typeof scoreModel>>,
  setting: ScoreSetting,
  split: ClassifierSplit,
  ceilingPerClass: readonly number[],
): CategoryReport[] {
  const { categories, seedsPerPrompt } = setting;
  const { genPred, casPerClass } = main.details;
  return categories.map((c, k) => ({
    ...c,
    coverage: round(c.coverage, 3),
    precision: round(c.precision, 3),
    train: split.train.filter((t) => t.label === k).length,
    heldOut: split.heldOut.filter((h) => h.label === k).length,
    ceilingAccuracy: round(ceilingPerClass[k]),
    casAccuracy: round(casPerClass[k]),
    generatedAs: histogram(genPred.slice(k * seedsPerPrompt, (k + 1) * seedsPerPrompt), categories),
    unknownWords: unknownWords(model.tokenizer, c.prompt),
  }));
}

/** What scoreModel needs besides the model: the data, categories and classifier shared by every model measured. */
interface ScoreSetting {
  dataset: ImageDataset;
  vaeIndices: readonly number[];
  categories: readonly ContentCategory[];
  classifier: ClassifierRunner;
  realValFeatures: Float32Array;
  realValCount: number;
  /** The category of each real val drawing, in realValFeatures' order. */
  realValLabels: readonly number[];
  seedsPerPrompt: number;
  size: number;
  generation: GenerationSettings;
  quick: boolean;
  log: (message: string) => void;
}

/**
 * One model's numbers: VAE reconstruction of the val split, images generated from each category's
 * prompt (CAS, Fréchet distance to the val drawings), colour adherence, and the grid.
 */
async function scoreModel(model: DiffusionModel, o: ScoreSetting, gridPath: string | null) {
  const { categories, classifier, seedsPerPrompt, size, generation, log } = o;
  const K = categories.length;
  log(`vae: reconstructing ${o.vaeIndices.length} val drawings with ${model.dir}`);
  const vae = await vaeReconstructionPsnr(model, o.dataset, o.vaeIndices);
  log(`vae: ${vae.meanPsnrDb.toFixed(2)} dB`);

  const perClassGenerated: GeneratedSet[] = [];
  for (const c of categories) {
    log(`generate: "${c.prompt}" x${seedsPerPrompt}`);
    perClassGenerated.push(await generateSet(model, c.prompt, FIRST_SEED, seedsPerPrompt, size, generation));
  }
  const genPlanes = concatBytes(perClassGenerated.map((g) => g.planes));
  const genCount = K * seedsPerPrompt;
  const genOut = await classifier.run(planesToInput(genPlanes), genCount);
  const genPred = ClassifierRunner.predictions(genOut.logits, K);
  const genLabels = categories.flatMap((_, k) => new Array<number>(seedsPerPrompt).fill(k));
  const casPerClass = perClassAccuracy(genPred, genLabels, K);
  const cas = genPred.filter((p, i) => p === genLabels[i]).length / genCount;
  log(`cas: ${(cas * 100).toFixed(1)}% (chance ${(100 / K).toFixed(1)}%)`);
  const F = classifier.featureDim;
  const frechet = frechetDistance({ data: genOut.features, count: genCount, dim: F }, { data: o.realValFeatures, count: o.realValCount, dim: F });
  const frechetByPart = frechetPerPart(o, genOut.features, genLabels);

  const color: EvalReport['color'] = [];
  for (const { prompt, color: name } of COLOR_PROMPTS) {
    log(`generate: "${prompt}" x${seedsPerPrompt}`);
    const set = await generateSet(model, prompt, FIRST_SEED, seedsPerPrompt, size, generation);
    const plane = 3 * size * size;
    const hues = set.seeds.map((_, i) => imageHue(set.pixels.subarray(i * plane, (i + 1) * plane), size, size));
    const matches = hues.filter((h) => matchesColor(h, name)).length;
    const share = matches / hues.length;
    color.push({
      prompt,
      color: name,
      matches,
      seeds: hues.length,
      share,
      meetsTarget: share >= COLOR_TARGET,
      hues: hues.map((h) => (h.hue === null ? null : round(h.hue, 1))),
      unknownWords: unknownWords(model.tokenizer, prompt),
    });
    log(`color: "${prompt}" ${matches}/${hues.length}`);
  }
  const colorAdherence = mean(color.map((c) => c.share));
  const grid = gridPath === null ? null : await writeGrid(model, gridPath, o.quick, generation, log);
  const vaeReport = { images: vae.images, meanPsnrDb: round(vae.meanPsnrDb, 2), pooledPsnrDb: round(vae.pooledPsnrDb, 2) };
  return {
    model: packageRelative(model.dir),
    cas: round(cas),
    casPerCategory: Object.fromEntries(categories.map((c, k) => [c.key, round(casPerClass[k] as number)])),
    generatedAs: Object.fromEntries(categories.map((c, k) => [c.key, histogram(genPred.slice(k * seedsPerPrompt, (k + 1) * seedsPerPrompt), categories)])),
    frechet: round(frechet, 3),
    frechetByPart,
    colorAdherence: round(colorAdherence),
    color,
    vae: vaeReport,
    grid,
    details: { perClassGenerated, genPred, casPerClass, genCount, cas, frechet, color, colorAdherence, vae, grid },
  };
}

/**
 * The Fréchet distance over each data folder's categories alone (when the categories come from several
 * folders): which source's drawings the generated ones are far from. Parts with fewer than two real or
 * generated images are left out.
 */
function frechetPerPart(
  o: ScoreSetting,
  genFeatures: Float32Array,
  genLabels: readonly number[],
): { part: number; value: number; generated: number; real: number }[] {
  const parts = [...new Set(o.categories.map((c) => c.part).filter((p): p is number => p !== undefined))];
  if (parts.length < 2) return [];
  const F = o.classifier.featureDim;
  const rowsOf = (features: Float32Array, labels: readonly number[], part: number): { data: Float32Array; count: number; dim: number } => {
    const rows = labels.flatMap((label, i) => (o.categories[label]?.part === part ? [i] : []));
    const data = new Float32Array(rows.length * F);
    rows.forEach((r, k) => data.set(features.subarray(r * F, (r + 1) * F), k * F));
    return { data, count: rows.length, dim: F };
  };
  return parts.flatMap((part) => {
    const gen = rowsOf(genFeatures, genLabels, part);
    const real = rowsOf(o.realValFeatures, o.realValLabels, part);
    return gen.count < 2 || real.count < 2 ? [] : [{ part, value: frechetDistance(gen, real), generated: gen.count, real: real.count }];
  });
}

/** Accuracy of each class: the share of its items predicted as it (NaN-free: a class with no items counts 0). */
export function perClassAccuracy(predicted: readonly number[], labels: readonly number[], classes: number): number[] {
  const right = new Array<number>(classes).fill(0);
  const total = new Array<number>(classes).fill(0);
  labels.forEach((label, i) => {
    total[label] = total[label] + 1;
    if (predicted[i] === label) right[label] = right[label] + 1;
  });
  return right.map((r, k) => (total[k] === 0 ? 0 : r / total[k]));
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

function histogram(predicted: readonly number[], categories: readonly ContentCategory[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of predicted) {
    const key = categories[p]?.key ?? String(p);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/**
 * Real drawings to compare with the val split the way the generated images are: up to `perClass` held-out
 * drawings of each category taken from the train split (never trained on by the classifier, and not
 * the val drawings themselves), chosen by a fixed seed. Their Fréchet distance to the val drawings is
 * what a generator that draws exactly like the data would score with this many images.
 */
function referenceSample(heldOut: readonly { index: number; label: number; split: 'train' | 'val' }[], classes: number, perClass: number): number[] {
  const rng = new Rng(4321);
  const out: number[] = [];
  for (let k = 0; k < classes; k++) {
    const pool = heldOut.filter((h) => h.label === k && h.split === 'train').map((h) => h.index);
    out.push(...rng.shuffle(pool).slice(0, perClass));
  }
  return out;
}

/** The labelled grid alone (16 prompts × 4 seeds; 2 × 2 with `quick`): a cheap look at a checkpoint. */
export async function writeGrid(
  model: DiffusionModel,
  path: string,
  quick: boolean,
  generation: GenerationSettings,
  log: (m: string) => void,
): Promise<NonNullable<EvalReport['grid']>> {
  const prompts = quick ? GRID_PROMPTS.slice(0, 2) : [...GRID_PROMPTS];
  const seedCount = quick ? 2 : 4;
  const upscale = model.upscaler !== null;
  const rows: GridRow[] = [];
  let cell = 0;
  for (const prompt of prompts) {
    log(`grid: "${prompt}"`);
    const result = await generate(model, {
      prompt,
      seed: FIRST_SEED,
      batchSize: seedCount,
      upscale,
      ...(generation.steps !== undefined ? { steps: generation.steps } : {}),
      ...(generation.cfgScale !== undefined ? { cfgScale: generation.cfgScale } : {}),
      ...(generation.scheduler !== undefined ? { scheduler: generation.scheduler } : {}),
      ...(generation.size !== undefined ? { width: generation.size, height: generation.size } : {}),
    });
    const first = result.images[0];
    // Upscaled cells show as they are; without an upscaler, magnified to at least 128 px by nearest neighbour.
    cell ||= Math.max(first?.width ?? 0, 128);
    rows.push({ label: prompt, cells: result.images.map((im) => ({ pixels: im.pixels, width: im.width, height: im.height })) });
  }
  const seeds = Array.from({ length: seedCount }, (_, i) => FIRST_SEED + i);
  await writeLabelledGrid(path, rows, { cell, columnLabels: seeds.map((s) => `seed ${s}`) });
  log(`grid: wrote ${path}`);
  const unknown: Record<string, string[]> = {};
  for (const p of prompts) {
    const words = unknownWords(model.tokenizer, p);
    if (words.length > 0) unknown[p] = words;
  }
  return { path: packageRelative(path), prompts, seeds, unknownWords: unknown };
}
