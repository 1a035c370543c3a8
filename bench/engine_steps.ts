/**
 * The training steps of gesso's own networks in `npm run bench:engine`: the GAN of `gesso train gan`
 * and the fast style network of `gesso train style`, each against its PyTorch peer, with the code of
 * `npm run bench:gan` and `npm run bench:style` (bench/lib/gan-step.ts, bench/lib/style-step.ts).
 * gesso runs before and after the peer, so a change in the machine's load falls on both sides.
 */
import { TrainSession } from '../src/train/train-session.ts';
import { GessoGanStep, torchGanStep } from './lib/gan-step.ts';
import { currentLoad } from './lib/machine.ts';
import { median, timeRoundsWithCpu } from './lib/rounds.ts';
import { fastTrainSetup, runTorchStyle, STYLE_TRAIN_WORKLOAD } from './lib/style-step.ts';

export interface ModelStepRow {
  /** JSON key prefix: gan_train, style_train. */
  key: string;
  label: string;
  gessoMs: number;
  gessoCpuMs: number;
  torchMs: number;
  torchCpuMs: number | null;
  /** 1-minute load average before and after. */
  loads: [number, number];
}

interface StepOptions {
  quick: boolean;
  threads: number;
  coretype: string | null;
  log: (message: string) => void;
}

async function ganRow(o: StepOptions): Promise<ModelStepRow> {
  const [rounds, steps] = o.quick ? [1, 2] : [2, 2];
  const start = currentLoad();
  o.log('GAN step: gesso');
  const gan = await GessoGanStep.create(o.threads);
  try {
    const a = await gan.time(rounds, steps);
    o.log('GAN step: PyTorch');
    const torch = await torchGanStep({
      rounds,
      steps,
      threads: o.threads,
      paramsG: gan.paramsG,
      paramsD: gan.paramsD,
      openblasCoretype: o.coretype ?? undefined,
    });
    o.log('GAN step: gesso again');
    const b = await gan.time(rounds, steps);
    return {
      key: 'gan_train',
      label: 'GAN step (`gesso train gan`: G + D, DiffAugment, spectral norm, Adam, EMA), batch 64, 64×64',
      gessoMs: median([...a.wall, ...b.wall]),
      gessoCpuMs: median([...a.cpu, ...b.cpu]),
      torchMs: median(torch.wall),
      torchCpuMs: median(torch.cpu),
      loads: [start, currentLoad()],
    };
  } finally {
    await gan.release();
  }
}

async function styleRow(o: StepOptions): Promise<ModelStepRow> {
  const rounds = o.quick ? 2 : 3;
  const start = currentLoad();
  o.log('style step: gesso');
  const { g, step, feeds } = await fastTrainSetup();
  const session = await TrainSession.create(g, step, { inProcess: true, threads: o.threads });
  try {
    const run = () => session.step(feeds, 1e-3);
    const a = await timeRoundsWithCpu(run, { warmup: 1, rounds });
    o.log('style step: PyTorch');
    const torch = await runTorchStyle({ threads: o.threads, rounds, only: [STYLE_TRAIN_WORKLOAD], openblasCoretype: o.coretype ?? undefined });
    o.log('style step: gesso again');
    const b = await timeRoundsWithCpu(run, { warmup: 0, rounds });
    const torchMs = torch.ms[STYLE_TRAIN_WORKLOAD];
    if (torchMs === undefined) throw new Error(`the PyTorch style peer reported no ${STYLE_TRAIN_WORKLOAD}`);
    return {
      key: 'style_train',
      label: 'style network step (`gesso train style`: fast network + perceptual losses), batch 4, 256×256',
      gessoMs: median([...a.ms, ...b.ms]),
      gessoCpuMs: median([...a.cpuMs, ...b.cpuMs]),
      torchMs,
      torchCpuMs: torch.cpu_ms?.[STYLE_TRAIN_WORKLOAD] ?? null,
      loads: [start, currentLoad()],
    };
  } finally {
    await session.release();
  }
}

/** Both rows; a step that fails becomes a note, not a failed benchmark. */
export async function runModelSteps(o: StepOptions): Promise<{ rows: ModelStepRow[]; notes: string[] }> {
  const rows: ModelStepRow[] = [];
  const notes: string[] = [];
  for (const [name, run] of [
    ['GAN step', ganRow],
    ['style step', styleRow],
  ] as const) {
    try {
      rows.push(await run(o));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      notes.push(`${name} failed: ${message}`);
      o.log(`${name} failed: ${message}`);
    }
  }
  return { rows, notes };
}

const ratio = (peer: number | null, gesso: number): string => (peer === null ? 'n/a' : `${(peer / gesso).toFixed(2)}×`);

export function stepsMarkdown(rows: readonly ModelStepRow[]): string {
  return [
    '| training step | gesso ms | PyTorch ms | gesso speedup | gesso CPU ms | PyTorch CPU ms | gesso speedup (CPU) | load average |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.gessoMs.toFixed(1)} | ${r.torchMs.toFixed(1)} | ${ratio(r.torchMs, r.gessoMs)} | ${r.gessoCpuMs.toFixed(1)} | ${r.torchCpuMs?.toFixed(1) ?? 'n/a'} | ${ratio(r.torchCpuMs, r.gessoCpuMs)} | ${r.loads[0]} → ${r.loads[1]} |`,
    ),
  ].join('\n');
}

export function stepsText(rows: readonly ModelStepRow[]): string {
  return rows
    .map(
      (r) =>
        `${r.key.padEnd(12)} gesso ${r.gessoMs.toFixed(1)} ms (CPU ${r.gessoCpuMs.toFixed(1)}), PyTorch ${r.torchMs.toFixed(1)} ms (CPU ${r.torchCpuMs?.toFixed(1) ?? 'n/a'}): ${ratio(r.torchMs, r.gessoMs)} wall, ${ratio(r.torchCpuMs, r.gessoCpuMs)} CPU; load ${r.loads[0]} → ${r.loads[1]}`,
    )
    .join('\n');
}

/** JSON keys: <key>_speedup_vs_torch (wall) and <key>_speedup_vs_torch_cpu_time. */
export function stepsJson(rows: readonly ModelStepRow[], handicapped: boolean): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const r of rows) {
    out[`${r.key}_speedup_vs_torch`] = handicapped ? null : Number((r.torchMs / r.gessoMs).toFixed(3));
    out[`${r.key}_speedup_vs_torch_cpu_time`] = handicapped || r.torchCpuMs === null ? null : Number((r.torchCpuMs / r.gessoCpuMs).toFixed(3));
  }
  return out;
}
