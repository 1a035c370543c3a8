/** The `diffusion` section of BENCHMARKS.md: how the run was made, the table, the notes. */
import { IMAGE_STEPS, type DefaultModelResult, type Outcome, type Sd15Result } from './diffusion-report.ts';
import type { MachineInfo } from './machine.ts';
import type { RoundsOptions } from './rounds.ts';

export interface DiffusionSectionInput {
  threads: number;
  machine: MachineInfo;
  loadAtEnd: number;
  /** 1-minute load average when the SD 1.5 part started and ended. */
  sd15Loads: number[];
  mode: string;
  versions: string;
  ceilingLine: string;
  def: Outcome<DefaultModelResult>;
  sd15: Outcome<Sd15Result>;
  rounds: { defaultRounds: RoundsOptions; sd15Rounds: RoundsOptions };
  /** diffusionMarkdownTable's output. */
  table: string;
  notes: string[];
  /** How the default model's folder is named in the text (models/gesso-clipart-v1). */
  label: string;
}

function flopsLine(sd15: Outcome<Sd15Result>): string {
  const convention = 'FLOPs (src/graph/flops.ts): 2 × multiply-accumulates of Conv, MatMul and Gemm';
  if ('skipped' in sd15) return `- ${convention}.`;
  const { flops, batch, latent } = sd15.ok;
  const perSample = flops / batch / 1e9;
  return `- ${convention}. The SD 1.5 UNet does ${perSample.toFixed(1)} GFLOP per sample at a ${latent}×${latent} latent, so a CFG step (batch ${batch}) is ${(flops / 1e12).toFixed(2)} TFLOP. "About 0.8 TFLOP per step with CFG" is one sample's FLOPs (or the multiply-accumulates of a CFG step); the % of ceiling here divides the full ${(flops / 1e12).toFixed(2)} TFLOP by the step time.`;
}

export function diffusionSection(s: DiffusionSectionInput): string {
  const m = s.machine;
  const sd15Load = s.sd15Loads.length === 2 ? `, ${s.sd15Loads[0]} → ${s.sd15Loads[1]} across the SD 1.5 part` : '';
  const { defaultRounds: dr, sd15Rounds: sr } = s.rounds;
  const defaultLine =
    'skipped' in s.def
      ? `- Default model (${s.label}): skipped: ${s.def.skipped}.`
      : `- Default model (${s.label}): \`generate()\` as \`gesso generate\` runs it (sessions in worker threads), its own scheduler, CFG in one UNet batch, prompt "a red apple", seed 1; median of ${dr.rounds} images after ${dr.warmup} warm-up, the step median pooling every step of those images. UNet FLOPs from a graph rebuilt from its unet/config.json at the shapes the pipeline feeds it.`;
  return [
    '## Diffusion: default model and an SD 1.5-shaped UNet (`npm run bench:diffusion`)',
    '',
    `Run ${m.date} (${s.mode}) at commit ${m.gitCommit}. Each part runs in a child process of its own; "peak RSS" is that process's \`process.resourceUsage().maxRSS\` (Node and tsx included).`,
    '',
    `- Machine: ${m.cpuModel}, nproc ${m.nproc}, ${m.simd}, ${m.memoryGiB} GiB; Node ${m.node}. 1-minute load average ${m.loadAverage} at the start${sd15Load}, ${s.loadAtEnd} at the end.`,
    `- Versions: ${s.versions}. ${s.threads} ORT intra-op threads everywhere.`,
    defaultLine,
    `- SD 1.5 UNet: diffusers' SD 1.5 config (860M parameters), built with zero weights then filled by \`fastRandomWeights\`, saved with external data to a temp folder (removed afterwards), loaded by path in a gesso \`Session\` (in-process); seeded random sample, timestep 500, 77-token context; median of ${sr.rounds} steps after ${sr.warmup} warm-up. The ${IMAGE_STEPS}-step row is ${IMAGE_STEPS} × the step median (UNet only: this model has no text encoder or VAE).`,
    flopsLine(s.sd15),
    `- Ceiling: ${s.ceilingLine}; "% of ceiling" = model FLOPs / time / ceiling.`,
    '',
    s.table,
    ...(s.notes.length > 0 ? ['', ...s.notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
}
