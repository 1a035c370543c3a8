/**
 * What a fine-tune did to a model (a LoRA, a textual-inversion embedding, or a fully fine-tuned model
 * folder; "after" is the model with all of them), measured with the default evaluation's classifier (src/eval):
 *   - toward the folder: Fréchet distance, in the classifier's features, between pictures generated
 *     from the folder's own captions (two seeds per picture) and the folder's pictures, without and
 *     with the LoRA;
 *   - forgetting: on the default evaluation's 10 categories, CAS and the Fréchet distance to their
 *     held-out drawings, without and with the LoRA;
 *   - a before/after grid: the same prompts and seeds, without the LoRA on the left, with it on the right.
 */
import { concatBytes } from '../core/bytes.ts';
import { loadImageDataset, type ImageDataset } from '../data/dataset.ts';
import { DiffusionModel, type LoraChoice } from '../pipelines/model-folder.ts';
import { chooseCategories } from './categories.ts';
import { ClassifierRunner } from './classifier.ts';
import { GRID_PROMPTS, FIRST_SEED, perClassAccuracy } from './default-eval.ts';
import { classifierRecipe, prepareClassifier } from './eval-classifier.ts';
import { frechetDistance } from './frechet.ts';
import { generateSet, planesToInput, type GenerationSettings } from './generate-set.ts';
import { writeLabelledGrid, type GridRow } from './labelled-grid.ts';

export interface LoraEvalOptions {
  modelDir: string;
  /** A LoRA merged into the "after" model. */
  lora?: LoraChoice;
  /** Textual-inversion embeddings loaded into the "after" model. */
  embeddings?: readonly string[];
  /** The "after" model folder when it is another one (a full fine-tune's); default modelDir. */
  afterModelDir?: string;
  /** `gesso data` folder of the pictures the LoRA learned. */
  folderDir: string;
  /** `gesso data openclipart --size 64` folder the default evaluation uses. */
  dataDir: string;
  cacheDir: string;
  /** Before/after grid (PNG), or null for none. */
  gridPath: string | null;
  seedsPerPrompt?: number;
  generation?: GenerationSettings;
  log?: (line: string) => void;
}

export interface LoraSideReport {
  /** Fréchet distance to the folder's pictures. */
  frechetToFolder: number;
  /** Original categories: CAS and Fréchet distance to their held-out drawings. */
  cas: number;
  frechetOriginal: number;
}

export interface LoraEvalReport {
  before: LoraSideReport;
  after: LoraSideReport;
  folderPictures: number;
  generatedForFolder: number;
  generatedPerCategory: number;
  categories: string[];
  lora: LoraChoice | null;
  embeddings: readonly string[];
  afterModelDir: string;
  seconds: number;
}

export async function runLoraEval(o: LoraEvalOptions): Promise<LoraEvalReport> {
  const started = performance.now();
  const log = o.log ?? (() => {});
  const perPrompt = o.seedsPerPrompt ?? 20;
  const dataset = await loadImageDataset(o.dataDir, { split: 'all' });
  const folder = await loadImageDataset(o.folderDir, { split: 'all' });
  const categories = chooseCategories(dataset.items, 10);
  const prepared = await prepareClassifier(dataset, categories, classifierRecipe(false), o.cacheDir, log);
  const classifier = prepared.runner;
  const size = dataset.size;
  const K = categories.length;
  try {
    const F = classifier.featureDim;
    const features = async (images: Float32Array, count: number) => ({ data: (await classifier.run(images, count)).features, count, dim: F });
    const folderFeatures = await features(folder.readBatch(folder.items.map((_, i) => i)), folder.items.length);
    const heldOut = prepared.split.heldOut;
    const heldOutFeatures = await features(dataset.readBatch(heldOut.map((h) => h.index)), heldOut.length);

    const side = async (after: boolean, label: string): Promise<LoraSideReport> => {
      const model = await loadSide(o, after);
      try {
        const forFolder = await generateFor(model, folder, size, o.generation ?? {});
        const folderGen = await features(planesToInput(forFolder.planes), forFolder.count);
        const frechetToFolder = frechetDistance(folderGen, folderFeatures);
        const planes: Uint8Array[] = [];
        for (const c of categories) planes.push((await generateSet(model, c.prompt, FIRST_SEED, perPrompt, size, o.generation ?? {})).planes);
        const all = concatBytes(planes);
        const out = await classifier.run(planesToInput(all), K * perPrompt);
        const labels = categories.flatMap((_, k) => new Array<number>(perPrompt).fill(k));
        const cas = mean(perClassAccuracy(ClassifierRunner.predictions(out.logits, K), labels, K));
        const frechetOriginal = frechetDistance({ data: out.features, count: K * perPrompt, dim: F }, heldOutFeatures);
        log(`${label}: Fréchet to the folder ${frechetToFolder.toFixed(2)}; original categories CAS ${cas.toFixed(3)}, Fréchet ${frechetOriginal.toFixed(2)}`);
        return { frechetToFolder: round(frechetToFolder), cas: round(cas), frechetOriginal: round(frechetOriginal) };
      } finally {
        await model.release();
      }
    };
    const before = await side(false, 'before');
    const after = await side(true, `after (${describeAfter(o)})`);
    if (o.gridPath) await beforeAfterGrid(o, folder, o.gridPath);
    return {
      before,
      after,
      folderPictures: folder.items.length,
      generatedForFolder: 2 * folder.items.length,
      generatedPerCategory: perPrompt,
      categories: categories.map((c) => c.prompt),
      lora: o.lora ?? null,
      embeddings: o.embeddings ?? [],
      afterModelDir: o.afterModelDir ?? o.modelDir,
      seconds: Math.round((performance.now() - started) / 1000),
    };
  } finally {
    await classifier.release();
  }
}

/** Two seeds per folder picture, from its caption: generated pictures with the folder's caption mix. */
async function generateFor(
  model: DiffusionModel,
  folder: ImageDataset,
  size: number,
  generation: GenerationSettings,
): Promise<{ planes: Uint8Array; count: number }> {
  const parts: Uint8Array[] = [];
  for (const [i, item] of folder.items.entries()) parts.push((await generateSet(model, item.caption, FIRST_SEED + 2 * i, 2, size, generation)).planes);
  return { planes: concatBytes(parts), count: 2 * folder.items.length };
}

/** Rows: up to 3 of the folder's captions and 3 of the default grid's prompts; 4 seeds without, 4 with. */
async function beforeAfterGrid(o: LoraEvalOptions, folder: ImageDataset, path: string): Promise<void> {
  const prompts = [...new Set(folder.items.map((i) => i.caption))].slice(0, 3).concat(GRID_PROMPTS.slice(0, 3));
  const seeds = 4;
  const cells = new Map<string, GridRow['cells']>(prompts.map((p) => [p, []]));
  for (const after of [false, true]) {
    const model = await loadSide(o, after);
    try {
      for (const prompt of prompts) {
        const set = await generateSet(model, prompt, FIRST_SEED, seeds, folder.size, o.generation ?? {});
        const plane = 3 * folder.size * folder.size;
        for (let i = 0; i < seeds; i++)
          cells.get(prompt)?.push({ pixels: set.pixels.slice(i * plane, (i + 1) * plane), width: folder.size, height: folder.size });
      }
    } finally {
      await model.release();
    }
  }
  const columnLabels = [
    ...Array.from({ length: seeds }, (_, i) => `before, seed ${FIRST_SEED + i}`),
    ...Array.from({ length: seeds }, (_, i) => `after, seed ${FIRST_SEED + i}`),
  ];
  await writeLabelledGrid(
    path,
    prompts.map((p) => ({ label: p, cells: cells.get(p) ?? [] })),
    { cell: 128, columnLabels },
  );
}

/** The model before (modelDir as it is) or after (afterModelDir, with the LoRA and embeddings). */
function loadSide(o: LoraEvalOptions, after: boolean): Promise<DiffusionModel> {
  if (!after) return DiffusionModel.load(o.modelDir, { runner: 'in-process', upscaler: false });
  return DiffusionModel.load(o.afterModelDir ?? o.modelDir, {
    runner: 'in-process',
    upscaler: false,
    loras: o.lora ? [o.lora] : [],
    embeddings: o.embeddings ?? [],
  });
}

function describeAfter(o: LoraEvalOptions): string {
  const parts = [
    ...(o.afterModelDir ? [`model ${o.afterModelDir}`] : []),
    ...(o.lora ? [`LoRA ${o.lora.path} at ${o.lora.weight}`] : []),
    ...(o.embeddings ?? []).map((e) => `embedding ${e}`),
  ];
  return parts.join(', ') || 'unchanged';
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}
