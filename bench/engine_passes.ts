/**
 * The per-pass part of `npm run bench:engine`: the cases of bench/lib/pass-cases.ts timed per core
 * (one thread each), gesso (bench/gesso_passes.ts, every variant) and the PyTorch peer
 * (bench/peers/torch_passes.py, fp32 and bf16 autocast) in alternating rounds: round r runs the peer
 * child, then gesso. Each side reports, per case, the median of a few runs; the table gives the median
 * over rounds. Times are CPU ms (the process's, one compute thread): on a shared machine other jobs
 * stretch wall time much more than the work a run does. Wall medians are kept beside them.
 */
import { buildPassVariants, timePassRound, type PassTime } from './gesso_passes.ts';
import { runJsonChild } from './lib/child.ts';
import { convPassFlops, PASS_CASES, type PassCase } from './lib/pass-cases.ts';
import { TORCH_UNSET_ENV, torchPython } from './lib/peers.ts';
import { median } from './lib/rounds.ts';

const PEERS_DIR = new URL('./peers/', import.meta.url).pathname;
const THREADS = 1;

export interface PassRow {
  caseId: string;
  pass: string;
  variant: string;
  used: boolean;
  gessoCpuMs: number;
  gessoWallMs: number;
  torchCpuMs: number | null;
  torchBf16CpuMs: number | null;
  /** PyTorch fp32 CPU ms / gesso CPU ms: above 1, gesso is faster. */
  speedup: number | null;
  gflops: number | null;
}

interface TorchPassRow {
  case: string;
  pass: string;
  config: string;
  wallMs: number;
  cpuMs: number;
}

export async function runPassTable(opts: { quick: boolean; coretype: string | null; log: (m: string) => void }): Promise<{ rows: PassRow[]; notes: string[] }> {
  const rounds = opts.quick ? 2 : 3;
  const reps = opts.quick ? 3 : 5;
  const notes: string[] = [];
  opts.log(`per-pass table: building ${PASS_CASES.length} cases`);
  const variants = await buildPassVariants(PASS_CASES, THREADS);
  const gesso: PassTime[][] = variants.map(() => []);
  const torch = new Map<string, number[]>();
  try {
    for (let r = 0; r < rounds; r++) {
      opts.log(`per-pass table: round ${r + 1}/${rounds}, PyTorch`);
      try {
        const json = (await runJsonChild(
          torchPython(),
          [`${PEERS_DIR}torch_passes.py`, JSON.stringify(PASS_CASES), String(reps), String(THREADS)],
          'torch passes',
          {
            unsetEnv: TORCH_UNSET_ENV,
            setEnv: opts.coretype === null ? {} : { OPENBLAS_CORETYPE: opts.coretype },
            timeoutMs: 20 * 60_000,
            echoStderr: false,
          },
        )) as { rows: TorchPassRow[] };
        for (const row of json.rows) {
          const key = `${row.case}|${row.pass}|${row.config}`;
          torch.set(key, [...(torch.get(key) ?? []), row.cpuMs]);
        }
      } catch (err) {
        notes.push(`PyTorch per-pass round ${r + 1} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      opts.log(`per-pass table: round ${r + 1}/${rounds}, gesso`);
      (await timePassRound(variants, reps)).forEach((t, i) => gesso[i]?.push(t));
    }
  } finally {
    for (const v of variants) await v.session.release();
  }
  const caseById = new Map<string, PassCase>(PASS_CASES.map((c) => [c.id, c]));
  const torchMedian = (caseId: string, pass: string, config: string): number | null => {
    const ms = torch.get(`${caseId}|${pass}|${config}`);
    return ms === undefined ? null : median(ms);
  };
  const rows = variants.map((v, i): PassRow => {
    const times = gesso[i] as PassTime[];
    const cpu = median(times.map((t) => t.cpuMs));
    const fp32 = torchMedian(v.caseId, v.pass, 'fp32');
    const c = caseById.get(v.caseId);
    return {
      caseId: v.caseId,
      pass: v.pass,
      variant: v.variant,
      used: v.used,
      gessoCpuMs: cpu,
      gessoWallMs: median(times.map((t) => t.wallMs)),
      torchCpuMs: fp32,
      torchBf16CpuMs: torchMedian(v.caseId, v.pass, 'bf16'),
      speedup: fp32 === null ? null : fp32 / cpu,
      gflops: c?.kind === 'conv' ? convPassFlops(c) / (cpu * 1e6) : null,
    };
  });
  return { rows, notes };
}

const HEADERS = [
  'case',
  'pass',
  'gesso variant',
  'gesso CPU ms',
  'gesso wall ms',
  'GFLOP/s per core',
  'PyTorch fp32 CPU ms',
  'PyTorch bf16 CPU ms',
  'gesso speedup vs fp32',
];

function cells(r: PassRow): string[] {
  const num = (v: number | null, d = 1): string => (v === null ? 'n/a' : v.toFixed(d));
  return [
    r.caseId,
    r.pass,
    `${r.variant}${r.used ? ' (used)' : ''}`,
    num(r.gessoCpuMs),
    num(r.gessoWallMs),
    r.gflops === null ? '' : num(r.gflops),
    num(r.torchCpuMs),
    num(r.torchBf16CpuMs),
    r.speedup === null ? 'n/a' : `${r.speedup.toFixed(2)}×`,
  ];
}

export function passMarkdown(rows: readonly PassRow[]): string {
  const line = (c: string[]): string => `| ${c.join(' | ')} |`;
  return [line(HEADERS), line(HEADERS.map((_, i) => (i >= 3 ? '---:' : '---'))), ...rows.map((r) => line(cells(r)))].join('\n');
}

export function passText(rows: readonly PassRow[]): string {
  const body = rows.map(cells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((c) => (c[i] as string).length)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => (i >= 3 ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), ...body.map(line)].join('\n');
}
