/**
 * Writes a trained GAN as a model folder:
 *   generator.onnx (z -> image), mapping.onnx (z -> w), synthesis.onnx (w -> image),
 *   gan.json (architecture, average w, PCA genes, training facts), samples.png, README.md (model card).
 * `gesso eval gan` adds eval.json and re-renders the card with the quality number.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveOnnx } from '../../graph/save.ts';
import { writeFileAtomic } from '../../weights/file-io.ts';
import type { GanConfig } from '../../models/gan.ts';
import { exportGenerator } from '../../models/gan-export.ts';
import { GAN_MODEL_FORMAT, GanModel, type GanModelInfo } from '../../pipelines/gan-model.ts';
import type { GanData } from './gan-data.ts';

export interface ExportGanOptions {
  dir: string;
  config: GanConfig;
  /** Generator EMA weights by parameter name. */
  values: ReadonlyMap<string, Float32Array>;
  data: GanData;
  runDir: string;
  steps: number;
  seconds: number;
  batch: number;
  seed: number;
  /** Generator and discriminator learning rates. */
  lr: number;
  dLr: number;
}

export async function exportGanModel(o: ExportGanOptions): Promise<void> {
  await writeGeneratorFolder(o.dir, o.config, o.values, {
    data: o.data.dir,
    data_sha256: o.data.hash,
    images: o.data.train.count,
    licences: o.data.licences,
    skipped: o.data.skipped,
    steps: o.steps,
    batch: o.batch,
    seed: o.seed,
    lr: o.lr,
    d_lr: o.dLr,
    seconds: Math.round(o.seconds),
    loss: 'hinge (D) / -D(G(z)) (G), simultaneous updates',
    stabilisers: [
      'spectral norm on every D weight',
      ...(o.config.minibatchStd ? ['minibatch standard deviation in D'] : []),
      'DiffAugment color,translation,cutout',
      'EMA 0.995 of G',
      `Adam beta 0, 0.99; lr G ${o.lr}, D ${o.dLr}`,
    ],
    command: trainCommand(o),
  });
  const samples = lastSample(o.runDir);
  if (samples) copyFileSync(samples, join(o.dir, 'samples.png'));
  writeModelCard(o.dir);
}

/** The `gesso train gan` command line that reproduces the run (non-default flags spelled out). */
function trainCommand(o: ExportGanOptions): string {
  const c = o.config;
  const flags = [`--data ${o.data.dir}`, `--size ${c.size}`, `--steps ${o.steps}`, `--batch ${o.batch}`, `--seed ${o.seed}`, `--lr ${o.lr}`, `--d-lr ${o.dLr}`];
  if (c.dBaseChannels !== undefined) flags.push(`--d-channels ${c.dBaseChannels}`);
  if (c.dMaxChannels !== undefined) flags.push(`--d-max-channels ${c.dMaxChannels}`);
  if (c.minibatchStd === false) flags.push('--no-minibatch-std');
  return `gesso train gan ${flags.join(' ')}`;
}

/** The ONNX models and gan.json (w statistics and genes from 4,096 random z) of a generator with these weights. */
export async function writeGeneratorFolder(
  dir: string,
  config: GanConfig,
  values: ReadonlyMap<string, Float32Array>,
  training: Record<string, unknown>,
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const models = exportGenerator(config, values, { steps: String(training['steps'] ?? ''), data_sha256: String(training['data_sha256'] ?? '') });
  saveOnnx(join(dir, 'generator.onnx'), models.generator);
  saveOnnx(join(dir, 'mapping.onnx'), models.mapping);
  saveOnnx(join(dir, 'synthesis.onnx'), models.synthesis);
  const model = await GanModel.fromModels(config, models, { statsSamples: 4096 });
  await model.release();
  const info: GanModelInfo = { format: GAN_MODEL_FORMAT, config, wAvg: model.info.wAvg, genes: model.info.genes, training };
  writeJsonAtomic(join(dir, 'gan.json'), info);
}

/** README.md from gan.json (and eval.json when `gesso eval gan` has written it). */
export function writeModelCard(dir: string): void {
  const info = JSON.parse(readFileSync(join(dir, 'gan.json'), 'utf8')) as GanModelInfo;
  const t = info.training ?? {};
  const evalPath = join(dir, 'eval.json');
  const ev = existsSync(evalPath) ? (JSON.parse(readFileSync(evalPath, 'utf8')) as Record<string, unknown>) : null;
  const c = info.config;
  const lines = [
    `# GAN generator (${c.size}×${c.size}), trained by gesso`,
    '',
    "A StyleGAN-lite generator (mapping z -> w, resize + conv synthesis) trained with gesso's own engine",
    '(src/models/gan.ts, src/train/gan/). Files: `generator.onnx` (z (B, ' + c.zDim + ') -> image (B, 3, ' + c.size + ', ' + c.size + ') in [-1, 1]),',
    '`mapping.onnx` (z -> w), `synthesis.onnx` (w -> image), `gan.json` (architecture, average w, PCA genes).',
    '',
    '| fact | value |',
    '| --- | --- |',
    `| data | ${String(t['data'] ?? '?')} |`,
    `| data sha256 | \`${String(t['data_sha256'] ?? '?')}\` |`,
    `| training images | ${String(t['images'] ?? '?')} |`,
    `| licences (whole dataset) | ${Object.entries((t['licences'] ?? {}) as Record<string, number>)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')} |`,
    `| skipped when building | ${JSON.stringify(t['skipped'] ?? {})} |`,
    `| steps × batch | ${String(t['steps'] ?? '?')} × ${String(t['batch'] ?? '?')} |`,
    `| training time | ${formatSeconds(Number(t['seconds'] ?? 0))} (2 shared CPU cores) |`,
    `| losses | ${String(t['loss'] ?? '')} |`,
    `| stabilisers | ${((t['stabilisers'] ?? []) as string[]).join('; ')} |`,
    `| quality (Fréchet distance to held-out drawings, lower is better) | ${ev ? `${fmt(ev['frechet_after'])} (untrained generator ${fmt(ev['frechet_before'])}, blurred-training-image baseline ${fmt(ev['frechet_baseline'])}); \`npm run eval:gan\`` : 'not measured yet: `npm run eval:gan`'} |`,
    '',
    `Reproduce: \`${String(t['command'] ?? '')}\``,
    '',
    '![samples](samples.png)',
    '',
  ];
  writeFileAtomic(join(dir, 'README.md'), lines.join('\n'));
}

function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 1) + '\n');
}

function lastSample(runDir: string): string | null {
  const dir = join(runDir, 'samples');
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir)
    .filter((f) => /^step-\d+\.png$/.test(f))
    .sort();
  const last = files[files.length - 1];
  return last ? join(dir, last) : null;
}

function fmt(v: unknown): string {
  return typeof v === 'number' ? v.toFixed(1) : '?';
}

function formatSeconds(s: number): string {
  return s >= 3600 ? `${(s / 3600).toFixed(2)} h` : `${(s / 60).toFixed(1)} min`;
}
