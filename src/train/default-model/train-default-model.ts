/**
 * `gesso train default`: the whole plan of the shipped default model, stage by stage, each resumable
 * (checkpoints in the run folder; a finished stage leaves `<stage>.final.safetensors` and is skipped).
 *   1. data      the Open Clip Art drawings rendered at 64 px (gesso data openclipart)
 *   2. vae       KL autoencoder, 64×64×3 <-> 4×16×16
 *   3. latents   mean latents of every training drawing, and the latent scaling factor
 *   4. unet      text encoder + UNet with cross-attention, trained jointly on noise prediction
 *   5. upscaler  a 4× upscaler (64 -> 256 px) on the drawings rendered at 256 px
 *   6. export    the model folder in the diffusers ONNX layout, with its model card
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { readTextFile } from '../../core/safe-read.ts';
import { combineDatasets, loadImageDataset, type ImageDataset } from '../../data/dataset.ts';
import { readSafetensors, toFloat32, writeSafetensors } from '../../weights/safetensors.ts';
import { type WordTokenizer, saveWordTokenizer, loadWordTokenizer } from '../../text/word-tokenizer.ts';
import {
  defaultModelPlan,
  IMAGE_SIZE,
  isWeightAverage,
  trainingRuns,
  type DefaultModelPlan,
  type PlanVersion,
  type RefineRun,
  type WeightAverage,
} from './config.ts';
import { CpuLedger } from './cpu-ledger.ts';
import { StageLog } from './stage-log.ts';
import { encodeMeans, trainVaeStage, vaeSessions } from './vae-stage.ts';
import { buildCaptionTokenizer, textEncoderConfig } from './text-stage.ts';
import { categoryWeights, partWeights, trainUnetStage } from './unet-stage.ts';
import { exportDefaultModel } from './export-stage.ts';
import { sampleGrid } from './samples.ts';
import { buildOpenclipartDataset } from '../../data/openclipart.ts';
import { buildShapesDataset } from '../../data/shapes.ts';
import { buildEmojiDataset } from '../../data/emoji.ts';
import { MORE_EMOJI_SETS } from '../../data/emoji-sets.ts';
import { trainUpscaler } from '../upscaler/train-upscaler.ts';
import { modelCard, readJsonIfPresent, writeLossCurves } from './model-card.ts';
import { loadValues, saveValues } from './weights-file.ts';
import { finalFile, IMPORTED_UPSCALER, importFromModel, importRunFromModel, readImportRecord } from './import-model.ts';

export { loadValues, saveValues };

export interface TrainDefaultOptions {
  /** `gesso data` folder(s) at 64 px (default: the plan's, e.g. .cache/openclipart-64 and .cache/emoji-64). */
  dataDir?: string | readonly string[];
  /** Which plan (config.ts): 2 = gesso-default-v2, the shipped default (default); 1 = gesso-clipart-v1. */
  version?: PlanVersion;
  runDir: string;
  /** Where the finished model folder goes (the CLI's default: models/gesso-default-v2, or models/gesso-clipart-v1 for version 1). */
  outDir: string;
  quick: boolean;
  quiet?: boolean;
  /** Stop after this stage (for step-by-step runs). */
  until?: 'vae' | 'unet' | 'refine' | 'export';
  /** `gesso data` folder(s) the refine run adds (default: the plan's, e.g. .cache/shapes-64). */
  refineDataDir?: string | readonly string[];
  /** Shorten the UNet stage to this many steps (pilot runs: is the loss falling, do samples show shapes?). */
  unetSteps?: number;
  /** `gesso data` folder at 256 px for the upscaler (default .cache/openclipart-256; built when missing). */
  upscalerDataDir?: string;
  /**
   * An exported model folder (its training.json) whose finished stages seed an empty run folder
   * (import-model.ts): continue the plan when the run folder of those stages is gone.
   */
  fromModel?: string;
  /** Exported folders whose last run a weight average needs (import-model.ts importRunFromModel). */
  fromRuns?: readonly string[];
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Partial<Record<K, number>>);
}

export async function trainDefaultModel(o: TrainDefaultOptions): Promise<DefaultModelPlan> {
  const plan = defaultModelPlan(o.quick, o.version ?? 2);
  const dataDirs = o.dataDir === undefined ? plan.data : typeof o.dataDir === 'string' ? [o.dataDir] : [...o.dataDir];
  plan.data = dataDirs;
  if (o.unetSteps !== undefined) {
    const u = plan.unetTraining;
    Object.assign(u, { steps: o.unetSteps, warmup: Math.min(u.warmup, Math.floor(o.unetSteps / 10)), sampleEvery: Math.min(u.sampleEvery, o.unetSteps) });
  }
  for (const dir of dataDirs) {
    if (!existsSync(join(dir, 'manifest.jsonl'))) {
      const build = /emoji/.test(dir)
        ? `gesso data emoji --size 64 --out ${dir}\``
        : `gesso data openclipart --size 64 --out ${dir}\` (needs apt-get install openclipart-svg)`;
      throw new InputError(`no dataset at ${dir}: run \`${build} first`);
    }
  }
  // The folders actually used, for every refine run (finished ones too: the model card names them).
  const runs = trainingRuns(plan);
  const replaceExtra = extraDirReplacements(runs, o.refineDataDir);
  for (const r of runs) r.extraData = r.extraData.map(replaceExtra);
  // Before the ledger is opened: an import starts it at the model's CPU-seconds.
  const fresh = o.fromModel !== undefined && readImportRecord(o.runDir) === null;
  const imported = o.fromModel !== undefined ? await importFromModel(o.fromModel, plan, o.runDir, o.quick) : readImportRecord(o.runDir);
  const wasImported = (stage: string): boolean => imported?.stages.includes(stage) ?? false;
  const addedRuns: string[] = [];
  for (const dir of o.fromRuns ?? []) addedRuns.push(await importRunFromModel(dir, plan, o.runDir, o.quick));
  mkdirSync(join(o.runDir, 'samples'), { recursive: true });
  const log = new StageLog(join(o.runDir, 'log.jsonl'), new CpuLedger(join(o.runDir, 'cpu.json')));
  const started = Date.now();
  if (fresh && imported)
    log.note(
      `import: ${imported.stages.join(', ')} imported from ${imported.from} (VAE, tokenizer, UNet + text encoder of ${imported.stages[imported.stages.length - 1]}, upscaler; latent scaling_factor ${imported.scalingFactor}; ${imported.cpuSeconds} CPU-seconds); their loss curves and times are not in this log`,
    );
  for (const [k, run] of addedRuns.entries()) log.note(`import: ${run}'s UNet + text encoder from ${o.fromRuns?.[k]}`);
  // Kept per folder too: the refine run weighs each folder's share of the batches.
  const trainParts = await Promise.all(dataDirs.map((dir) => loadImageDataset(dir, { split: 'train' })));
  const train = combineDatasets(trainParts);
  const val = combineDatasets(await Promise.all(dataDirs.map((dir) => loadImageDataset(dir, { split: 'val' }))));
  log.note(
    `data: ${train.items.length} train and ${val.items.length} validation drawings at ${train.size} px from ${dataDirs.join(', ')}; plan ${plan.name} (version ${plan.version}); ${log.cpu?.total().toFixed(0)} CPU-seconds used so far`,
  );

  // 2. VAE
  const vaeFinal = finalFile(o.runDir, 'vae');
  if (!existsSync(vaeFinal)) {
    const t0 = Date.now();
    const r = await trainVaeStage(plan, train, val, o.runDir, log, o.quiet);
    saveValues(vaeFinal, r.values, { val_psnr_db: r.valPsnr.toFixed(3), seconds: String((Date.now() - t0) / 1000) });
    log.note(`vae: validation PSNR ${r.valPsnr.toFixed(2)} dB after ${plan.vaeTraining.steps} steps (${((Date.now() - t0) / 60000).toFixed(1)} min)`);
  }
  if (o.until === 'vae') return plan;
  const vae = loadValues(vaeFinal).values;

  // 3. Latents: the mean latent of every training drawing, scaled to unit std.
  const scaled = await latentsStage(plan, vae, train, o.runDir, log, imported?.scalingFactor);

  // 4. Tokenizer, text encoder and UNet.
  const tokenizerPath = join(o.runDir, 'gesso_tokenizer.json');
  if (!existsSync(tokenizerPath)) await saveWordTokenizer(buildCaptionTokenizer(plan, train), tokenizerPath);
  const tokenizer: WordTokenizer = await loadWordTokenizer(tokenizerPath);
  const textConfig = textEncoderConfig(plan, tokenizer);
  const snapshotDir = join(o.runDir, 'snapshot');
  const unetFinal = finalFile(o.runDir, 'unet');
  const sample = async (file: string, values: Map<string, Float32Array>): Promise<void> => {
    exportDefaultModel(snapshotDir, { plan, vae: plan.vae, vaeValues: vae, textConfig, tokenizer, unetValues: values });
    await sampleGrid(snapshotDir, join(o.runDir, 'samples', file), { seeds: o.quick ? 1 : 4, steps: o.quick ? 2 : 20 });
  };
  if (!existsSync(unetFinal) && !wasImported('unet')) {
    const t0 = Date.now();
    const values = await trainUnetStage({
      plan,
      textConfig,
      tokenizer,
      latents: scaled,
      captions: train.items.map((i) => i.caption),
      weights: categoryWeights(
        train.items.map((i) => i.category),
        plan.unetTraining.categoryCap,
      ),
      runDir: o.runDir,
      log,
      ...(o.quiet !== undefined ? { quiet: o.quiet } : {}),
      sample: async (step, values) => sample(`unet-step${String(step).padStart(6, '0')}.png`, values),
    });
    saveValues(unetFinal, values, { seconds: String((Date.now() - t0) / 1000) });
    log.note(`unet: ${plan.unetTraining.steps} steps in ${((Date.now() - t0) / 60000).toFixed(1)} min, final loss ${log.last('unet_loss')?.toFixed(4)}`);
  }
  if (o.until === 'unet') return plan;

  // 4b. The refine runs (plan v2), each from the previous run's EMA weights, on its own data mix.
  let unetWeights = unetFinal;
  for (const r of plan.refines) {
    const runFinal = finalFile(o.runDir, r.name);
    const done = existsSync(runFinal);
    // An import keeps the values of its last run only: earlier imported runs have no file.
    if (wasImported(r.name) && !done) continue;
    if (!done && isWeightAverage(r)) {
      saveValues(runFinal, averageRuns(r, o.runDir), { average: JSON.stringify(r.average) });
      log.note(`${r.name}: ${r.average.map((a) => `${a.weight} × ${a.run}`).join(' + ')} (weights averaged, no training)`);
    } else if (!done && !isWeightAverage(r)) {
      for (const dir of r.extraData) await ensureRefineData(dir, o.quick, log);
      const extra = await Promise.all(r.extraData.map((dir) => loadImageDataset(dir, { split: 'train' })));
      const parts = [...trainParts, ...extra];
      if (r.shares.length !== parts.length) throw new InputError(`${r.name}: ${r.shares.length} shares for ${parts.length} data folders`);
      const extraLatents = await extraLatentsStage(plan, vae, combineDatasets(extra), join(o.runDir, `latents-${r.name}.safetensors`), log);
      const all = new Float32Array(scaled.length + extraLatents.length);
      all.set(scaled);
      all.set(extraLatents, scaled.length);
      const t0 = Date.now();
      log.note(
        `${r.name}: ${r.steps} steps from ${unetWeights === unetFinal ? "the first run's" : "the previous run's"} EMA weights; shares ${r.shares.join(', ')} of ${[...dataDirs, ...r.extraData].join(', ')}; left out: ${r.excludeCategories.join(', ')}`,
      );
      const values = await trainUnetStage({
        plan,
        textConfig,
        tokenizer,
        latents: all,
        captions: parts.flatMap((p) => p.items.map((i) => i.caption)),
        weights: partWeights(
          parts.map((p, k) => ({ categories: p.items.map((i) => i.category), share: r.shares[k] as number })),
          plan.unetTraining.categoryCap,
          r.excludeCategories,
        ),
        runDir: o.runDir,
        log,
        ...(o.quiet !== undefined ? { quiet: o.quiet } : {}),
        sample: async (step, values) => sample(`${r.name}-step${String(step).padStart(6, '0')}.png`, values),
        refine: { run: r, init: loadValues(unetWeights).values },
      });
      saveValues(runFinal, values, { seconds: String((Date.now() - t0) / 1000) });
      log.note(`${r.name}: ${r.steps} steps in ${((Date.now() - t0) / 60000).toFixed(1)} min, final loss ${log.last(`${r.name}_loss`)?.toFixed(4)}`);
    }
    unetWeights = runFinal;
  }
  if (o.until === 'refine') return plan;

  // 5. The 4× upscaler (64 -> 256 px), exported straight into the folder's upscaler/.
  await upscalerStage(o, log);

  // 6. Export the model folder, with its model card and loss curves.
  const unet = loadValues(unetWeights);
  const vaeFile = loadValues(vaeFinal);
  const vaePsnr = Number(vaeFile.metadata['val_psnr_db']);
  const count = (values: ReadonlyMap<string, Float32Array>, keep: (name: string) => boolean): number =>
    [...values].reduce((n, [k, v]) => n + (keep(k) ? v.length : 0), 0);
  const upscalerConfig = readJsonIfPresent(join(o.outDir, 'upscaler', 'config.json'));
  const card = modelCard({
    plan,
    log,
    params: {
      vae: count(vae, () => true),
      text: count(unet.values, (k) => k.startsWith('text_model.')),
      unet: count(unet.values, (k) => !k.startsWith('text_model.')),
      ...(typeof upscalerConfig?.['parameters'] === 'number' ? { upscaler: upscalerConfig['parameters'] } : {}),
    },
    dataset: { dir: dataDirs.join(', '), train: train.items.length, val: val.items.length },
    vaePsnr,
    minutes: {
      ...optional('vae', log.minutesBetween('VAE:', 'vae:')),
      ...optional('unet', log.minutesBetween('text encoder:', 'unet:')),
    },
    ...(imported ? { imported: { from: imported.from, stages: imported.stages } } : {}),
    refineMinutes: Object.fromEntries(plan.refines.map((r) => [r.name, log.minutesBetween(`${r.name}: `, `${r.name}: `)])),
    evaluation: readJsonIfPresent(join(o.outDir, 'eval.json')),
    upscalerMetrics: readJsonIfPresent(join(o.outDir, 'upscaler', 'metrics.json')),
    attribution: attributionOf([...dataDirs, ...runs.flatMap((r) => r.extraData)]),
  });
  const evalResults = readJsonIfPresent(join(o.outDir, 'eval.json'));
  exportDefaultModel(o.outDir, { plan, vae: plan.vae, vaeValues: vae, textConfig, tokenizer, unetValues: unet.values, modelCard: card });
  if (evalResults) writeFileSync(join(o.outDir, 'eval.json'), `${JSON.stringify(evalResults, null, 2)}\n`);
  await writeLossCurves(
    log,
    join(o.outDir, 'loss-curves.png'),
    plan.name,
    plan.refines.map((r) => r.name),
    imported?.stages ?? [],
  );
  writeFileSync(
    join(o.outDir, 'training.json'),
    `${JSON.stringify({ model: plan.name, plan, quick: o.quick, vaeValPsnrDb: vaePsnr, data: dataDirs, cpuSeconds: Math.round(log.cpu?.total() ?? 0), ...(imported ? { imported: { from: imported.from, stages: imported.stages } } : {}), trainDrawings: train.items.length, valDrawings: val.items.length }, null, 2)}\n`,
  );
  log.note(`export: ${o.outDir} written (VAE PSNR ${vaePsnr.toFixed(2)} dB, ${Math.round((Date.now() - started) / 1000)} s this run)`);
  return plan;
}

/**
 * The weighted mean of earlier runs' final values. A run imported from a model folder has them only when
 * it was that folder's last run: `--from-model` takes more folders for the others.
 */
function averageRuns(r: WeightAverage, runDir: string): Map<string, Float32Array> {
  const total = r.average.reduce((a, b) => a + b.weight, 0);
  if (r.average.length < 2 || Math.abs(total - 1) > 1e-6)
    throw new InputError(`${r.name}: a weight average needs two or more runs whose weights sum to 1, got ${JSON.stringify(r.average)}`);
  const sources = r.average.map(({ run, weight }) => {
    const file = finalFile(runDir, run);
    if (!existsSync(file))
      throw new InputError(
        `${r.name}: no final weights of ${run} in ${runDir}; pass the exported folder whose last run was ${run} to --from-model after the first folder (--from-model DIR,DIR2)`,
      );
    return { values: loadValues(file).values, weight };
  });
  const out = new Map<string, Float32Array>();
  for (const [name, first] of sources[0]?.values ?? []) {
    const mean = new Float32Array(first.length);
    for (const { values, weight } of sources) {
      const v = values.get(name);
      if (!v || v.length !== mean.length)
        throw new InputError(`${r.name}: ${name} is missing or has another size in one of ${r.average.map((a) => a.run).join(', ')}`);
      for (let i = 0; i < mean.length; i++) mean[i] = (mean[i] as number) + weight * (v[i] as number);
    }
    out.set(name, mean);
  }
  return out;
}

/** The ATTRIBUTION.md of the first dataset that has one (an emoji build), without its title. */
function attributionOf(dataDirs: readonly string[]): string | null {
  const lists = [...new Set(dataDirs)]
    .filter((d) => existsSync(join(d, 'ATTRIBUTION.md')))
    .map((d) =>
      readTextFile(join(d, 'ATTRIBUTION.md'), 'attribution list')
        .replace(/^# .*\n+/, '')
        .trim(),
    );
  return lists.length === 0 ? null : lists.join('\n\n');
}

/** The VAE's mean latent of every drawing of a dataset, unscaled. */
async function encodeDataset(plan: DefaultModelPlan, vae: Map<string, Float32Array>, data: ImageDataset): Promise<Float32Array> {
  const { encoder, decoder } = await vaeSessions(plan.vae, vae);
  try {
    return await encodeMeans(encoder, data.readBatch(data.items.map((_, i) => i)), data.items.length, plan.vae);
  } finally {
    await encoder.release();
    await decoder.release();
  }
}

/**
 * The mean latent of every training drawing, times the scaling factor that makes their std 1 (as SD's
 * 0.18215), which is written into plan.vae. Cached in the run folder, so a resumed run skips it.
 */
async function latentsStage(
  plan: DefaultModelPlan,
  vae: Map<string, Float32Array>,
  train: ImageDataset,
  runDir: string,
  log: StageLog,
  /** The factor an imported UNet was trained with: kept, so latents are scaled exactly as in its training. */
  importedFactor?: number,
): Promise<Float32Array> {
  const latentsPath = join(runDir, 'latents.safetensors');
  if (!existsSync(latentsPath)) {
    const means = await encodeDataset(plan, vae, train);
    let sum = 0;
    let sq = 0;
    for (const v of means) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / means.length;
    const std = Math.sqrt(sq / means.length - mean * mean);
    writeSafetensors(
      latentsPath,
      { latents: { dtype: 'F32', shape: [means.length], data: means } },
      { scaling_factor: String(importedFactor ?? 1 / std), latent_mean: String(mean) },
    );
    log.note(
      `latents: ${train.items.length} drawings encoded; latent std ${std.toFixed(4)}, mean ${mean.toFixed(4)} -> scaling_factor ${
        importedFactor === undefined ? (1 / std).toFixed(5) : `${importedFactor} (imported; 1/std would be ${(1 / std).toFixed(5)})`
      }`,
    );
  }
  const latentFile = readSafetensors(latentsPath, latentsPath);
  const scalingFactor = Number(latentFile.metadata['scaling_factor']);
  plan.vae.scaling_factor = scalingFactor;
  const scaled = Float32Array.from(
    toFloat32(latentFile.tensors.get('latents') as NonNullable<ReturnType<typeof latentFile.tensors.get>>),
    (v) => v * scalingFactor,
  );
  return scaled;
}

/**
 * Scaled mean latents of a refine run's added drawings, with the first run's scaling factor (already
 * in plan.vae), so every run sees latents of one scale. Cached at `path` in the run folder.
 */
async function extraLatentsStage(
  plan: DefaultModelPlan,
  vae: Map<string, Float32Array>,
  extra: ImageDataset,
  path: string,
  log: StageLog,
): Promise<Float32Array> {
  if (!existsSync(path)) {
    const means = await encodeDataset(plan, vae, extra);
    writeSafetensors(path, { latents: { dtype: 'F32', shape: [means.length], data: means } }, { count: String(extra.items.length) });
    log.note(`latents: ${extra.items.length} refine drawings encoded into ${basename(path)}`);
  }
  const file = readSafetensors(path, path);
  if (Number(file.metadata['count']) !== extra.items.length) {
    throw new InputError(`${path} holds latents of ${file.metadata['count']} drawings, the refine data ${extra.items.length}: delete it to re-encode`);
  }
  const factor = plan.vae.scaling_factor;
  return Float32Array.from(toFloat32(file.tensors.get('latents') as NonNullable<ReturnType<typeof file.tensors.get>>), (v) => v * factor);
}

/**
 * `--refine-data DIRS`: the folders the refine runs add, replaced in order of first appearance (the
 * plan's `.cache/shapes-64` by the first DIR, `.cache/emoji-more-64` by the second, ...).
 */
function extraDirReplacements(runs: readonly RefineRun[], dirs: string | readonly string[] | undefined): (dir: string) => string {
  if (dirs === undefined) return (dir) => dir;
  const given = typeof dirs === 'string' ? [dirs] : [...dirs];
  const planned = [...new Set(runs.flatMap((r) => r.extraData))];
  if (given.length > planned.length)
    throw new InputError(`--refine-data names ${given.length} folders; the refine runs add ${planned.length} (${planned.join(', ')})`);
  return (dir) => given[planned.indexOf(dir)] ?? dir;
}

/** A refine folder that is missing: gesso's shapes and the extra emoji sets are built here; anything else is an error. */
async function ensureRefineData(dir: string, quick: boolean, log: StageLog): Promise<void> {
  if (existsSync(join(dir, 'manifest.jsonl'))) return;
  const note = (line: string): void => log.note(line);
  // gesso's own shapes are cheap and deterministic: built here like the upscaler's data.
  if (/shapes/.test(dir)) await buildShapesDataset({ outDir: dir, size: IMAGE_SIZE, perColor: quick ? 1 : 20, log: note });
  else if (/emoji-more/.test(dir)) await buildEmojiDataset({ outDir: dir, size: IMAGE_SIZE, sets: MORE_EMOJI_SETS, log: note });
  else throw new InputError(`no dataset at ${dir}: build it with \`gesso data\` first`);
}

/**
 * The 4× upscaler, trained on the drawings rendered at 256 px (built when missing) and exported into
 * the model folder's upscaler/; skipped when the folder already has one.
 */
async function upscalerStage(o: TrainDefaultOptions, log: StageLog): Promise<void> {
  const importedUpscaler = join(o.runDir, IMPORTED_UPSCALER);
  if (!existsSync(join(o.outDir, 'upscaler', 'model.onnx')) && existsSync(join(importedUpscaler, 'model.onnx'))) {
    cpSync(importedUpscaler, join(o.outDir, 'upscaler'), { recursive: true });
    log.note(`upscaler: the imported one (${importedUpscaler})`);
  }
  if (!existsSync(join(o.outDir, 'upscaler', 'model.onnx'))) {
    const hiDir = o.upscalerDataDir ?? (o.quick ? join(o.runDir, 'openclipart-256') : '.cache/openclipart-256');
    if (!existsSync(join(hiDir, 'manifest.jsonl'))) {
      // 2,500 drawings at 256 px are 490 MB decoded in memory: enough for a 158k-parameter upscaler.
      await buildOpenclipartDataset({
        outDir: hiDir,
        size: 256,
        limit: o.quick ? 24 : 2500,
        valFraction: o.quick ? 0.25 : 0.05,
        log: (line) => log.note(line),
      });
    }
    const t0 = Date.now();
    const up = await trainUpscaler({
      dataDir: hiDir,
      outDir: join(o.runDir, 'upscaler'),
      quick: o.quick,
      exportTo: o.outDir,
      ...(o.quick ? {} : { steps: 1300, batchSize: 16, crop: 96, lr: 1e-3 }),
      quiet: o.quiet ?? false,
    });
    log.note(`upscaler: ${up.steps} steps in ${((Date.now() - t0) / 60000).toFixed(1)} min, ${up.params} parameters`);
  }
}
