/**
 * The default model's card (README.md in the model folder) and its loss curves, written from what the
 * run recorded: the plan, the run log, the evaluation (`eval.json`, from `npm run eval:default`) and
 * the upscaler's metrics, so every number in it was measured by a command anyone can run.
 */
import { readJsonObjectFile } from '../../core/json.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { plotLines } from '../../image/plot.ts';
import { isWeightAverage, type DefaultModelPlan, type PlanRun } from './config.ts';
import { MODEL_NAME } from './config.ts';
import type { StageLog } from './stage-log.ts';

export interface CardFacts {
  plan: DefaultModelPlan;
  log: StageLog;
  params: { vae: number; text: number; unet: number; upscaler?: number };
  dataset: { dir: string; train: number; val: number };
  vaePsnr: number;
  minutes: { vae?: number; unet?: number };
  /** Wall-clock minutes of each refine run, by name. */
  refineMinutes?: Record<string, number | undefined>;
  /** Model-folder-relative eval results, when `npm run eval:default` has written them. */
  evaluation?: Record<string, unknown> | null;
  upscalerMetrics?: Record<string, unknown> | null;
  /** ATTRIBUTION.md of an emoji dataset trained on (`gesso data emoji`), if any. */
  attribution?: string | null;
  /** Stages imported from an exported model (`--from-model`): their times and loss curves were not recorded by this run. */
  imported?: { from: string; stages: readonly string[] };
}

export async function writeLossCurves(
  log: StageLog,
  path: string,
  name = MODEL_NAME,
  refineNames: readonly string[] = [],
  imported: readonly string[] = [],
): Promise<boolean> {
  // Every stage imported: there is no curve to draw (the card says so).
  if (!hasLossCurves(log, refineNames)) return false;
  const smooth = (pts: readonly [number, number][], k = 25): [number, number][] =>
    pts.map(([x], i) => {
      const window = pts.slice(Math.max(0, i - k), i + 1);
      return [x, window.reduce((s, p) => s + p[1], 0) / window.length];
    });
  const png = await plotLines(
    [
      { name: 'VAE loss (MSE + KL)', points: smooth(log.get('vae_loss')) },
      { name: 'UNet loss (ε or weighted v MSE)', points: smooth(log.get('unet_loss')) },
      // Each refine run continues the step axis where the run before it ended.
      ...refineNames
        .map((run, k) => ({ k, pts: log.get(`${run}_loss`) }))
        .filter(({ pts }) => pts.length > 0)
        .map(({ k, pts }) => {
          const offset = ['unet', ...refineNames.slice(0, k)].reduce((sum, run) => sum + lastStep(log.get(`${run}_loss`)), 0);
          return { name: `UNet refine run ${k + 1}`, points: smooth(pts).map(([x, y]): [number, number] => [x + offset, y]) };
        }),
    ],
    {
      // Said on the plot: an imported stage's curve is missing, not flat.
      title: `${name}: training loss (moving average of 25 steps)${imported.length > 0 ? `; ${imported.length} imported stages not recorded` : ''}`,
      xLabel: 'step',
      yLabel: 'loss',
      logY: true,
    },
  );
  writeFileSync(path, png);
  return true;
}

/** Whether this run's log has any loss to plot (none when every stage was imported). */
export function hasLossCurves(log: StageLog, refineNames: readonly string[]): boolean {
  return ['vae', 'unet', ...refineNames].some((run) => log.get(`${run}_loss`).length > 0);
}

const lastStep = (pts: readonly [number, number][]): number => pts[pts.length - 1]?.[0] ?? 0;

/** A stage's time, or why there is none (imported from an exported model). */
function time(f: CardFacts, stage: string, minutes: number | undefined): string {
  return f.imported?.stages.includes(stage) ? 'imported: not recorded' : `${fmt(minutes, 1)} min`;
}

const fmt = (v: unknown, digits = 3): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : 'not measured');

export function modelCard(f: CardFacts): string {
  const r = f.plan;
  const ev = f.evaluation ?? null;
  const up = f.upscalerMetrics ?? null;
  const total = f.params.vae + f.params.text + f.params.unet + (f.params.upscaler ?? 0);
  return `# ${r.name}

gesso's default text-to-image model: small, trained by gesso itself (its own graph builder, autodiff and
ONNX Runtime, on 2 CPU cores) on ${r.version === 1 ? 'public-domain drawings' : 'public-domain drawings and openly licensed emoji'}, so a fresh install makes images with no download.
It is a latent diffusion model in the diffusers ONNX layout, loaded by the same pipeline as Stable Diffusion.

${dataSection(f)}## Architecture

| part | architecture | parameters |
| --- | --- | ---: |
| VAE | AutoencoderKL, block_out_channels ${JSON.stringify(r.vae.block_out_channels)}, ${r.vae.layers_per_block} ResNet block per level, latent ${r.vae.latent_channels}×16×16 for 64×64×3, scaling_factor ${fmt(r.vae.scaling_factor, 5)} | ${f.params.vae.toLocaleString('en')} |
| text encoder | CLIP-style causal transformer, ${r.text.layers} layers, width ${r.text.hiddenSize}, ${r.text.heads} heads, gesso word tokenizer (${r.text.maxLength} tokens) | ${f.params.text.toLocaleString('en')} |
| UNet | UNet2DConditionModel, block_out_channels ${JSON.stringify(r.unet.block_out_channels)}, down ${JSON.stringify(r.unet.down_block_types)}, cross-attention dim ${r.unet.cross_attention_dim}, ${r.unetTraining.prediction === 'epsilon' ? 'ε-prediction' : 'v-prediction'}${r.unetTraining.minSnrGamma === null ? '' : `, min-SNR-${r.unetTraining.minSnrGamma} loss weights`} | ${f.params.unet.toLocaleString('en')} |
| upscaler | 4× residual CNN (64 → 256 px), depth-to-space upsampling, bilinear skip | ${f.params.upscaler?.toLocaleString('en') ?? 'n/a'} |
| total | | ${total.toLocaleString('en')} |

Noise schedule and default sampler: \`${String(r.scheduler['_class_name'])}\`, scaled_linear betas 0.00085–0.012, 1000 training steps.

## Training

| stage | steps | batch | learning rate | time |
| --- | ---: | ---: | --- | --- |
| VAE (MSE + ${r.klWeight} · KL) | ${r.vaeTraining.steps} | ${r.vaeTraining.batch} | AdamW ${r.vaeTraining.lr}, warmup ${r.vaeTraining.warmup}, cosine | ${time(f, 'vae', f.minutes.vae)} |
| text encoder + UNet (caption dropout ${r.unetTraining.captionDropout}, EMA ${r.unetTraining.emaDecay}) | ${r.unetTraining.steps} | ${r.unetTraining.batch} | AdamW ${r.unetTraining.lr}, warmup ${r.unetTraining.warmup}, cosine | ${time(f, 'unet', f.minutes.unet)} |
${r.refines.map((run, k) => runRow(r, f, run, k)).join('')}| upscaler (L1 on ${up?.['crop'] ?? '?'} px crops of ${up?.['train_images'] ?? '?'} drawings at 256 px) | ${up?.['steps'] ?? '?'} | ${up?.['batch'] ?? '?'} | Adam, warmup, cosine | ${typeof up?.['train_seconds'] === 'number' ? fmt(up['train_seconds'] / 60, 1) : 'not measured'} min |

${
  hasLossCurves(
    f.log,
    r.refines.map((run) => run.name),
  )
    ? 'Loss curves: `loss-curves.png` in this folder.'
    : 'No loss curves: this run trained none of the stages.'
} Times are wall-clock on the 2-core development machine,
from a stage's first log line to its last across resumed runs; the machine was shared with other jobs
(load average 5–15) for most of the VAE stage.
${
  f.imported
    ? `\nThe stages marked "imported" were trained by an earlier run whose run folder was not kept; this run
continued from their exported weights in \`${f.imported.from}\` (\`gesso train default --from-model\`), so
their times and loss curves are not recorded here (earlier versions of this card had them).
`
    : ''
}
Reproduce (the data step needs \`apt-get install openclipart-svg\`):

\`\`\`sh
${
  r.version === 1
    ? 'node bin/gesso.js data openclipart --size 64\nnode bin/gesso.js train default --version 1\nnpm run eval:default'
    : `node bin/gesso.js data openclipart --size 64\nnode bin/gesso.js data emoji --size 64\nnode bin/gesso.js data shapes --size 64\nnode bin/gesso.js train default --version 2${
        f.imported ? ` --from-model ${f.imported.from}   # or without --from-model: every stage from scratch` : ''
      }\nnode bin/gesso.js eval default --model models/gesso-default-v2 --compare models/gesso-clipart-v1`
}
\`\`\`

## Metrics (\`npm run eval:default\`${ev?.['frechet_v1'] !== undefined ? ', with --compare models/gesso-clipart-v1 (v1 measured in the same run)' : ''})

| metric | value${ev?.['frechet_v1'] !== undefined ? ' | v1 on the same drawings' : ''} | target |
| --- | --- |${ev?.['frechet_v1'] !== undefined ? ' --- |' : ''} --- |
| VAE reconstruction PSNR, validation drawings (mean over drawings; in brackets from the pooled MSE, as training logs it) | ${fmt(ev?.['vae_psnr_db'], 2)} dB (${fmt(f.vaePsnr, 2)} dB)${v1Cell(ev, 'vae_psnr_db_v1', 2)} | ≥ 24 dB |
| classifier accuracy on held-out real drawings (ceiling) | ${fmt(ev?.['cas_ceiling'])}${v1Cell(ev, '', 0)} | |
| classification accuracy score (CAS), 20 generated per category | ${fmt(ev?.['cas'])}${v1Cell(ev, 'cas_v1', 3)} | ≥ ceiling / 2, chance 0.1 |
| colour adherence ("a red/blue/green/yellow star", 20 seeds each) | ${fmt(ev?.['color_adherence'])}${v1Cell(ev, 'color_adherence_v1', 3)} | ≥ 0.8 |
| Fréchet distance, generated vs real validation (classifier features) | ${fmt(ev?.['frechet'], 2)}${v1Cell(ev, 'frechet_v1', 2)} | lower is better |
| upscaler PSNR at 256 px vs bicubic | ${up ? `${fmt(up['psnr_gesso'] ?? up['gesso_psnr_db'], 2)} dB vs ${fmt(up['psnr_bicubic'] ?? up['bicubic_psnr_db'], 2)} dB` : 'see upscaler/'}${v1Cell(ev, '', 0)} | above bicubic |

${ev ? '' : 'The evaluation has not been run on this export yet.\n'}
## Known limits

- 64 px drawings (256 px with the upscaler): icons and simple shapes, not photographs or detailed scenes.
- The vocabulary is the words of the captions (${r.text.maxVocab} at most, those seen ${r.text.minWordCount}+ times); other words map to \`<unk>\`.
- A short training run on 2 CPU cores: shapes and colours follow the prompt more reliably than subjects.
- Captions carry the library's biases: many icons, stars and signs; few people and scenes.
`;
}

/** A cell of the v1 column: the value under `key`, or empty (no column at all when the eval had no --compare). */
function v1Cell(ev: Record<string, unknown> | null, key: string, digits: number): string {
  if (ev?.['frechet_v1'] === undefined) return '';
  return ` | ${key === '' ? '' : fmt(ev[key], digits)}`;
}

/** The card's data section: Open Clip Art (v1), plus the emoji sets and their attribution (v2). */
function dataSection(f: CardFacts): string {
  const r = f.plan;
  const clipart = `## Data and licence

- **Open Clip Art Library** (Debian package \`openclipart-svg\`), CC0 1.0 (public domain). Rendered at 64 px
  onto white squares by \`gesso data openclipart --size 64\`: ${f.dataset.train} training and ${f.dataset.val}
  validation drawings; broken, blank and duplicate renders dropped (see \`docs/data.md\`).
- Captions come from the library's folder and file names with author names removed, plus colour names
  measured from the pixels ("red apple bitten with black, fruit, food").
- Each category's share of training samples is capped at ${r.unetTraining.categoryCap} drawings' worth
  (the library holds 1,378 near-identical string-art stars).
`;
  if (r.version === 1) return `${clipart}- This model's weights are released under CC0 1.0 as well.\n\n`;
  return `${clipart}- **Emoji** (\`gesso data emoji --size 64\`, see \`docs/default-model-v2.md\`): Twemoji, Fluent Emoji and Noto
  Emoji from the npm registry, captioned from the Unicode CLDR names and keywords with the set as a style
  word ("orange hot dog, frankfurter hotdog, food prepared, fluent style"); their count is in the
  training and validation totals above (${f.dataset.dir}).
- **gesso shapes** (\`gesso data shapes --size 64\`), drawn by gesso, CC0: 7 shapes (star, heart, circle,
  square, triangle, diamond, moon) × 10 colours × 20, filled, outlined or both, captioned "red star,
  shapes" or "a red star". Only the refine run uses them; they teach a colour word on a shape word.
- **More emoji** (\`gesso data emoji --sets noto-v1,emojione,fluent-3d,fxemoji,streamline --out
  .cache/emoji-more-64\`, built by the trainer when missing): Noto Emoji's first edition, EmojiOne 2,
  Fluent Emoji (colour), FxEmoji and Streamline Emojis, from Iconify's npm packages, matched to the
  CLDR names by icon name. Only the second and later refine runs use them: up to 8 drawings of each named subject
  instead of 3. Their style words are outside the first run's vocabulary and read as \`<unk> style\`.
- The refine runs leave Open Clip Art's \`shapes/stars\` folder out: its drawings are string-art rings
  captioned "black star", and with them "a red star" drew a pink ring.
- **Licence of the weights**: CC-BY 4.0, because Twemoji's, EmojiOne's and Streamline's graphics are
  CC-BY 4.0 (the other sources are CC0, MIT and Apache-2.0; the ShareAlike sets, OpenMoji and EmojiOne 1,
  are not used). Credit the sources below.

${f.attribution ?? '(no ATTRIBUTION.md was found beside the emoji dataset: rebuild it with `gesso data emoji`)'}

`;
}

export function readJsonIfPresent(path: string): Record<string, unknown> | null {
  return readJsonObjectFile(path, 'metrics file', { optional: true });
}

export function cardPath(dir: string): string {
  return join(dir, 'README.md');
}

/** The training table's row of a refine run, or of a weight average (which trains nothing). */
function runRow(r: DefaultModelPlan, f: CardFacts, run: PlanRun, k: number): string {
  if (isWeightAverage(run))
    return `| ${run.name}: the weighted mean of ${run.average.map((a) => `${a.run} (${a.weight})`).join(' and ')} (a model soup: no training) | – | – | – | – |\n`;
  const start = k === 0 ? "first run's" : "previous run's";
  const shares = run.shares.map((sh, i) => `${Math.round(sh * 100)}% ${[...r.data, ...run.extraData][i]}`).join(', ');
  const short = run.shortCaptions > 0 ? `; ${Math.round(run.shortCaptions * 100)}% of samples on a short caption` : '';
  return `| refine run ${k + 1} (${run.name}): the same from the ${start} EMA weights, EMA ${run.emaDecay}; ${shares}; ${run.excludeCategories.join(', ')} left out${short} | ${run.steps} | ${run.batch} | AdamW ${run.lr}, warmup ${run.warmup}, cosine | ${time(f, run.name, f.refineMinutes?.[run.name])} |\n`;
}
