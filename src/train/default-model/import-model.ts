/**
 * `gesso train default --from-model DIR`: seeds an empty run folder from an exported default model, so
 * a later run (a new refine run appended to the plan) can continue on a machine where the run folder of
 * the earlier stages is gone. The model folder is the durable state: its ONNX initializers are the
 * trained values, `training.json` records the plan, the latent scaling factor and the CPU-seconds.
 * Everything is read and checked before anything is written, so a refusal leaves the run folder as it was.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { readJsonObjectFile } from '../../core/json.ts';
import { buildClipTextEncoder } from '../../models/clip-text-encoder.ts';
import { buildUNet2DCondition } from '../../models/unet2d-condition.ts';
import { buildVaeDecoder, buildVaeEncoder } from '../../models/autoencoder-kl.ts';
import { SD_LAYOUT } from '../../models/sd-layout.ts';
import type { Graph } from '../../graph/graph.ts';
import { loadWordTokenizer, WORD_TOKENIZER_FILE, type WordTokenizer } from '../../text/word-tokenizer.ts';
import { loadFolderWeights } from '../finetune/finetune-common.ts';
import type { DefaultModelPlan } from './config.ts';
import { textEncoderConfig } from './text-stage.ts';
import { saveValues } from './weights-file.ts';

/** What the run folder records about an import (`imported.json`). */
export interface ImportRecord {
  from: string;
  /** Stages whose results came from the model folder: "vae", "unet" and refine run names, in plan order. */
  stages: string[];
  /** The latent scaling factor the imported UNet was trained with (never recomputed). */
  scalingFactor: number;
  cpuSeconds: number;
  at: string;
}

export const IMPORT_FILE = 'imported.json';
/** The model folder's upscaler, kept in the run folder for the export. */
export const IMPORTED_UPSCALER = 'imported-upscaler';

export function readImportRecord(runDir: string): ImportRecord | null {
  const path = join(runDir, IMPORT_FILE);
  return existsSync(path) ? (readJsonObjectFile(path, 'import record') as unknown as ImportRecord) : null;
}

/** The file a stage's final values live in (a refine run's, or the first UNet run's). */
export function finalFile(runDir: string, stage: string): string {
  return join(runDir, stage === 'vae' ? 'vae.final.safetensors' : stage === 'unet' ? 'unet.final.safetensors' : `unet-${stage}.final.safetensors`);
}

const TRAINED_FILES = ['vae.final.safetensors', 'latents.safetensors', 'unet.final.safetensors', 'cpu.json', 'log.jsonl', WORD_TOKENIZER_FILE];

/**
 * Imports `modelDir` into `runDir` (once: a run folder with an import record is left alone). `plan` is
 * the current plan, with `data` and the refine runs' `extraData` as this run uses them.
 */
export async function importFromModel(modelDir: string, plan: DefaultModelPlan, runDir: string, quick: boolean): Promise<ImportRecord> {
  const done = readImportRecord(runDir);
  if (done) {
    if (done.from !== modelDir) throw new InputError(`${runDir} was seeded from ${done.from}, not ${modelDir}: use another --run folder`);
    return done;
  }
  const clash = TRAINED_FILES.find((f) => existsSync(join(runDir, f)));
  if (clash) throw new InputError(`--from-model: ${runDir} already holds a run (${clash}); import into an empty --run folder`);
  const { training, path: trainingPath } = readTrainingRecord(modelDir, quick);
  const recorded = training.plan;
  const stages = importedStages(recorded, plan, modelDir);
  const scalingFactor = recorded.vae.scaling_factor;
  if (!(typeof scalingFactor === 'number' && scalingFactor > 0)) throw new InputError(`${trainingPath}: plan.vae.scaling_factor is missing`);

  // Read every value before writing anything.
  const tokenizerFile = join(modelDir, SD_LAYOUT.tokenizer.folder, WORD_TOKENIZER_FILE);
  const tokenizer = await loadWordTokenizer(tokenizerFile);
  const vae = valuesFrom(modelDir, [
    [buildVaeEncoder(plan.vae, { init: 'zeros' }).graph, SD_LAYOUT.vaeEncoder.onnx],
    [buildVaeDecoder(plan.vae, { init: 'zeros' }).graph, SD_LAYOUT.vaeDecoder.onnx],
  ]);
  const unet = unetValuesFrom(modelDir, plan, tokenizer);

  mkdirSync(runDir, { recursive: true });
  const from = { imported_from: modelDir };
  saveValues(finalFile(runDir, 'vae'), vae, { ...from, val_psnr_db: String(training.vaeValPsnrDb ?? Number.NaN) });
  saveValues(finalFile(runDir, stages[stages.length - 1] as string), unet, from);
  cpSync(tokenizerFile, join(runDir, WORD_TOKENIZER_FILE));
  const upscaler = join(modelDir, SD_LAYOUT.upscaler.folder);
  if (existsSync(upscaler)) cpSync(upscaler, join(runDir, IMPORTED_UPSCALER), { recursive: true });
  // The ledger starts where the model's run ended: the budget counts every CPU-second spent on it.
  const cpu = { cpuSeconds: training.cpuSeconds, processes: [{ started: `imported from ${modelDir}`, cpuSeconds: training.cpuSeconds }] };
  writeFileSync(join(runDir, 'cpu.json'), `${JSON.stringify(cpu, null, 2)}\n`);
  const record: ImportRecord = { from: modelDir, stages, scalingFactor, cpuSeconds: training.cpuSeconds, at: new Date().toISOString() };
  // Written last: its presence means the import finished.
  writeFileSync(join(runDir, IMPORT_FILE), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/**
 * Imports the UNet and text encoder of an earlier export whose last run a later stage needs (a weight
 * average of runs that are not the first folder's last): `gesso train default --from-model DIR,DIR2`.
 * Its plan must match the current one as far as it goes; its last run's final file is written unless
 * the run folder has it. Returns that run's name.
 */
export async function importRunFromModel(modelDir: string, plan: DefaultModelPlan, runDir: string, quick: boolean): Promise<string> {
  const { training } = readTrainingRecord(modelDir, quick);
  const stages = importedStages(training.plan, plan, modelDir);
  const last = stages[stages.length - 1] as string;
  if (last === 'vae') throw new InputError(`--from-model: ${modelDir} records no UNet run`);
  const file = finalFile(runDir, last);
  if (existsSync(file)) return last;
  const tokenizer = await loadWordTokenizer(join(modelDir, SD_LAYOUT.tokenizer.folder, WORD_TOKENIZER_FILE));
  saveValues(file, unetValuesFrom(modelDir, plan, tokenizer), { imported_from: modelDir });
  return last;
}

/** The text encoder's and UNet's parameters from a model folder. */
function unetValuesFrom(modelDir: string, plan: DefaultModelPlan, tokenizer: WordTokenizer): Map<string, Float32Array> {
  const textConfig = textEncoderConfig(plan, tokenizer);
  return valuesFrom(modelDir, [
    [buildClipTextEncoder(textConfig, { init: 'zeros', idsDtype: 'int64', eosTokenId: tokenizer.eosId }).graph, SD_LAYOUT.textEncoder.onnx],
    [buildUNet2DCondition(plan.unet, { init: 'zeros', sequence: textConfig.max_position_embeddings, timestepDtype: 'int64' }).graph, SD_LAYOUT.unet.onnx],
  ]);
}

/** Every parameter of each graph from its ONNX file in the folder (names as the trainer saves them). */
function valuesFrom(modelDir: string, parts: readonly [Graph, string][]): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  for (const [g, file] of parts) {
    loadFolderWeights(g, modelDir, [file]);
    for (const [name, p] of g.params) values.set(name, p.value);
  }
  return values;
}

interface TrainingRecord {
  plan: DefaultModelPlan;
  quick?: boolean;
  cpuSeconds: number;
  vaeValPsnrDb?: number;
}

/** A model folder's training.json and its path, checked to be an export of `gesso train default` (with --quick or not, as `quick`). */
function readTrainingRecord(modelDir: string, quick: boolean): { training: TrainingRecord; path: string } {
  const trainingPath = join(modelDir, 'training.json');
  if (!existsSync(trainingPath)) throw new InputError(`--from-model: ${modelDir} has no training.json (not exported by gesso train default)`);
  const training = readJsonObjectFile(trainingPath, 'training record') as Partial<TrainingRecord>;
  if (!training.plan || typeof training.cpuSeconds !== 'number') throw new InputError(`${trainingPath}: no "plan" or "cpuSeconds"`);
  if ((training.quick ?? false) !== quick) throw new InputError(`--from-model: ${modelDir} was trained ${training.quick ? 'with' : 'without'} --quick`);
  return { training: training as TrainingRecord, path: trainingPath };
}

/**
 * The stages the recorded plan trained ("vae", "unet", then its refine runs), after checking that each
 * was trained as the current plan would train it: a model trained under another plan is refused.
 */
export function importedStages(recorded: DefaultModelPlan, plan: DefaultModelPlan, modelDir: string): string[] {
  const same = (what: string, a: unknown, b: unknown): void => {
    if (JSON.stringify(a) !== JSON.stringify(b))
      throw new InputError(`--from-model: ${modelDir}/training.json records ${what} ${JSON.stringify(a)}; the current plan has ${JSON.stringify(b)}`);
  };
  same('version', recorded.version, plan.version);
  same('seed', recorded.seed, plan.seed);
  same('data', recorded.data, plan.data);
  // scaling_factor is measured by the run (the latents stage), not planned.
  same('vae', { ...recorded.vae, scaling_factor: null }, { ...plan.vae, scaling_factor: null });
  same('klWeight', recorded.klWeight, plan.klWeight);
  same('vaeTraining', recorded.vaeTraining, plan.vaeTraining);
  same('text', recorded.text, plan.text);
  same('unet', recorded.unet, plan.unet);
  same('unetTraining', recorded.unetTraining, plan.unetTraining);
  same('scheduler', recorded.scheduler, plan.scheduler);
  const runs = recorded.refines ?? [];
  if (runs.length > plan.refines.length) same('refines', runs, plan.refines);
  runs.forEach((r, k) => same(`refine run ${k + 1}`, r, plan.refines[k]));
  return ['vae', 'unet', ...runs.map((r) => r.name)];
}
