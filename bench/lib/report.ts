/**
 * Turns the engine benchmark's measurements into rows (median, GFLOP/s, % of ceiling, gesso's
 * speedup over each peer), a console table, a Markdown table and the headline JSON.
 */
import { isTimed, type StepResult } from './results.ts';
import { gflopsPerSecond, median } from './rounds.ts';
import { forwardFlops, trainFlops, type WorkloadName } from './workloads.ts';

export type Step = 'forward' | 'train';

/** One peer's result for one step of one workload. */
export interface Measurement {
  workload: WorkloadName;
  step: Step;
  peer: string;
  result: StepResult;
}

export interface Ceiling {
  /** GFLOP/s of each engine's 2048³ MatMul (null when not measured). */
  ortGflops: number | null;
  torchGflops: number | null;
}

/** The larger of the measured MatMul rates (DESIGN.md §6), or null if neither was measured. */
export function ceilingGflops(c: Ceiling): number | null {
  const rates = [c.ortGflops, c.torchGflops].filter((r): r is number => r !== null);
  return rates.length === 0 ? null : Math.max(...rates);
}

export interface Row {
  workload: WorkloadName;
  step: Step;
  peer: string;
  backend: string;
  rounds: number;
  medianMs: number | null;
  gflops: number | null;
  pctOfCeiling: number | null;
  /** This peer's median / gesso's median: above 1 means gesso is faster. Null for gesso or no data. */
  gessoSpeedup: number | null;
  /** Median CPU ms of the process per round, when measured (steadier than wall time on a shared machine). */
  cpuMedianMs: number | null;
  /** This peer's CPU median / gesso's CPU median. */
  gessoSpeedupCpu: number | null;
  /** 'ok', or why there is no time. */
  status: string;
}

function stepFlops(workload: WorkloadName, step: Step): number {
  return step === 'forward' ? forwardFlops(workload) : trainFlops(workload);
}

export function buildRows(measurements: readonly Measurement[], ceiling: Ceiling): Row[] {
  const peak = ceilingGflops(ceiling);
  const gessoMedian = (workload: WorkloadName, step: Step, cpu = false): number | null => {
    const g = measurements.find((m) => m.peer === 'gesso' && m.workload === workload && m.step === step);
    if (g === undefined || !isTimed(g.result)) return null;
    const times = cpu ? g.result.cpuMs : g.result.ms;
    return times === undefined ? null : median(times);
  };
  return measurements.map((m): Row => {
    if (!isTimed(m.result)) {
      return {
        workload: m.workload,
        step: m.step,
        peer: m.peer,
        backend: '',
        rounds: 0,
        medianMs: null,
        gflops: null,
        pctOfCeiling: null,
        gessoSpeedup: null,
        cpuMedianMs: null,
        gessoSpeedupCpu: null,
        status: m.result.skipped,
      };
    }
    const ms = median(m.result.ms);
    const gflops = gflopsPerSecond(stepFlops(m.workload, m.step), ms);
    const g = m.peer === 'gesso' ? null : gessoMedian(m.workload, m.step);
    const cpu = m.result.cpuMs === undefined ? null : median(m.result.cpuMs);
    const gCpu = m.peer === 'gesso' ? null : gessoMedian(m.workload, m.step, true);
    return {
      workload: m.workload,
      step: m.step,
      peer: m.peer,
      backend: m.result.backend ?? '',
      rounds: m.result.ms.length,
      medianMs: ms,
      gflops,
      pctOfCeiling: peak === null ? null : (100 * gflops) / peak,
      gessoSpeedup: g === null ? null : ms / g,
      cpuMedianMs: cpu,
      gessoSpeedupCpu: cpu === null || gCpu === null ? null : cpu / gCpu,
      status: 'ok',
    };
  });
}

const HEADERS = [
  'workload',
  'step',
  'peer',
  'backend',
  'rounds',
  'median ms',
  'GFLOP/s',
  '% of ceiling',
  'gesso speedup',
  'median CPU ms',
  'gesso speedup (CPU)',
];

function cells(r: Row): string[] {
  const num = (v: number | null, digits: number): string => (v === null ? '' : v.toFixed(digits));
  const timed = r.medianMs !== null;
  return [
    r.workload,
    r.step,
    r.peer,
    r.backend,
    timed ? String(r.rounds) : '',
    timed ? num(r.medianMs, 1) : r.status,
    num(r.gflops, 1),
    num(r.pctOfCeiling, 1),
    r.gessoSpeedup === null ? (r.peer === 'gesso' ? '' : 'n/a') : `${r.gessoSpeedup.toFixed(2)}×`,
    num(r.cpuMedianMs, 1),
    r.gessoSpeedupCpu === null ? '' : `${r.gessoSpeedupCpu.toFixed(2)}×`,
  ];
}

/** A fixed-width table for the console. */
export function textTable(rows: readonly Row[]): string {
  const body = rows.map(cells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => (i >= 4 ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function markdownTable(rows: readonly Row[]): string {
  const line = (c: string[]): string => `| ${c.map((v) => v.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(HEADERS), line(HEADERS.map((_, i) => (i >= 4 ? '---:' : '---'))), ...rows.map((r) => line(cells(r)))].join('\n');
}

function rowFor(rows: readonly Row[], peer: string, workload: WorkloadName, step: Step): Row | undefined {
  return rows.find((r) => r.peer === peer && r.workload === workload && r.step === step);
}

/** The PyTorch fp32 configurations bench:engine runs: as installed, and with glibc keeping freed memory. */
export const TORCH_FP32_PEERS = ['torch', 'torch-kept'] as const;

/** The faster PyTorch fp32 configuration's row (the peer at its best), among those that ran. */
export function bestTorchRow(rows: readonly Row[], workload: WorkloadName, step: Step): Row | undefined {
  const ran = TORCH_FP32_PEERS.map((p) => rowFor(rows, p, workload, step)).filter((r): r is Row => r !== undefined && r.medianMs !== null);
  return ran.reduce<Row | undefined>((best, r) => (best === undefined || (r.medianMs as number) < (best.medianMs as number) ? r : best), undefined);
}

const round = (v: number | null | undefined, digits = 3): number | null => (v === null || v === undefined ? null : Number(v.toFixed(digits)));

/**
 * The headline JSON: gesso's speedups over PyTorch and its training rate as % of the ceiling, for
 * the conv net (unprefixed keys) and the transformer (`transformer_` keys), then every median.
 */
export function headline(rows: readonly Row[], ceiling: Ceiling, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const workload of ['convnet', 'transformer'] as const) {
    const prefix = workload === 'convnet' ? '' : 'transformer_';
    const [infer, train] = [bestTorchRow(rows, workload, 'forward'), bestTorchRow(rows, workload, 'train')];
    out[`${prefix}infer_speedup_vs_torch`] = round(infer?.gessoSpeedup);
    out[`${prefix}train_speedup_vs_torch`] = round(train?.gessoSpeedup);
    out[`${prefix}infer_speedup_vs_torch_cpu_time`] = round(infer?.gessoSpeedupCpu);
    out[`${prefix}train_speedup_vs_torch_cpu_time`] = round(train?.gessoSpeedupCpu);
    out[`${prefix}train_pct_of_peak`] = round(rowFor(rows, 'gesso', workload, 'train')?.pctOfCeiling, 2);
    out[`${prefix}infer_pct_of_peak`] = round(rowFor(rows, 'gesso', workload, 'forward')?.pctOfCeiling, 2);
  }
  out.ceiling_gflops = round(ceilingGflops(ceiling), 1);
  out.ort_matmul_gflops = round(ceiling.ortGflops, 1);
  out.torch_matmul_gflops = round(ceiling.torchGflops, 1);
  for (const r of rows) out[`${r.peer}_${r.workload}_${r.step}_ms`] = round(r.medianMs, 1);
  return { ...out, ...extra };
}
