/**
 * `npm run bench:engine [-- --quick]`: gesso's tensor engine against PyTorch CPU and tfjs on the
 * reference workloads of bench/REFERENCE.md, in one run, one after another (DESIGN.md §6):
 *   1. the ceiling: 2048³ float32 MatMul in onnxruntime-node (here) and in PyTorch (its peer)
 *   2. the PyTorch peer (child process), 3. the tfjs peer (child process), 4. gesso (in process).
 * Prints a table, rewrites the `engine` section of BENCHMARKS.md, and prints as its LAST line one
 * JSON object (speedups are torch ms / gesso ms; null while gesso is skipped).
 *
 * Flags: --quick (fewer rounds, no tfjs training; under a minute), --no-write (leave BENCHMARKS.md),
 * --peers torch,tfjs (which peers to run), --openblas-coretype NAME (opt-in OPENBLAS_CORETYPE for the
 * PyTorch child; by default it is removed, see REFERENCE.md).
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { InputError } from '../src/core/errors.ts';
import { gessoWorkload } from './gesso_engine.ts';
import { writeSection } from './lib/benchmarks-md.ts';
import { busyWarning, currentLoad, machineInfo, packageVersion } from './lib/machine.ts';
import { timeOrtMatmul } from './lib/ort-matmul.ts';
import { runTfjsPeer, runTorchPeer, TORCH_UNSET_ENV, torchPython } from './lib/peers.ts';
import { buildRows, headline, markdownTable, textTable, type Ceiling, type Measurement } from './lib/report.ts';
import type { PeerReport } from './lib/results.ts';
import { gflopsPerSecond, median } from './lib/rounds.ts';
import { MATMUL_FLOPS, MATMUL_N, WORKLOADS, workloadParams } from './lib/workloads.ts';

/** Threads for every engine that takes a count (ORT, PyTorch); tfjs in Node uses one. */
const THREADS = 2;
const KNOWN_PEERS = ['torch', 'tfjs'] as const;
type PeerName = (typeof KNOWN_PEERS)[number];

function log(message: string): void {
  process.stderr.write(`bench:engine: ${message}\n`);
}

function parseFlags(argv: string[]): { quick: boolean; write: boolean; peers: PeerName[]; openblasCoretype?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      peers: { type: 'string', default: KNOWN_PEERS.join(',') },
      'openblas-coretype': { type: 'string' },
    },
  });
  const peers = (values.peers ?? '').split(',').filter((p) => p !== '');
  for (const p of peers) {
    if (!(KNOWN_PEERS as readonly string[]).includes(p))
      throw new InputError(`--peers: unknown peer "${p}"; expected a comma-separated subset of ${KNOWN_PEERS.join(',')}`);
  }
  const coretype = values['openblas-coretype'];
  if (coretype !== undefined && !/^[A-Za-z0-9_]+$/.test(coretype))
    throw new InputError(`--openblas-coretype "${coretype}" is not an OpenBLAS core name like Haswell or SkylakeX`);
  return { quick: values.quick === true, write: values['no-write'] !== true, peers: peers as PeerName[], openblasCoretype: coretype };
}

/** Runs one peer; a peer that fails becomes a note and "skipped" rows, not a failed benchmark. */
async function runPeer(name: PeerName, run: () => Promise<PeerReport>, notes: string[]): Promise<PeerReport | null> {
  log(`running the ${name} peer`);
  try {
    return await run();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    notes.push(`${name} peer failed: ${message}`);
    log(`${name} peer failed: ${message}`);
    return null;
  }
}

function peerMeasurements(name: PeerName, report: PeerReport | null, failed: string): Measurement[] {
  return WORKLOADS.flatMap((workload) => {
    const w = report?.workloads[workload];
    return (['forward', 'train'] as const).map(
      (step): Measurement => ({
        workload,
        step,
        peer: name,
        result: w === undefined ? { skipped: report === null ? failed : 'not reported' } : w[step],
      }),
    );
  });
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const { quick } = flags;
  const rounds = quick ? { warmup: 1, rounds: 3 } : { warmup: 3, rounds: 10 };
  const machine = machineInfo();
  const notes: string[] = [];

  // 1. ORT's side of the ceiling (PyTorch's comes with its peer).
  log(`ORT ${MATMUL_N}³ MatMul, ${rounds.warmup}+${rounds.rounds} rounds`);
  const ortMs = await timeOrtMatmul({ n: MATMUL_N, threads: THREADS, ...rounds });
  const ceiling: Ceiling = { ortGflops: gflopsPerSecond(MATMUL_FLOPS, median(ortMs)), torchGflops: null };

  // 2–3. Peers, as child processes, one after another.
  const peerTimeoutMs = quick ? 5 * 60_000 : 30 * 60_000;
  const reports: Partial<Record<PeerName, PeerReport | null>> = {};
  if (flags.peers.includes('torch')) {
    reports.torch = await runPeer('torch', () => runTorchPeer({ quick, timeoutMs: peerTimeoutMs, openblasCoretype: flags.openblasCoretype }), notes);
    const mm = reports.torch?.matmul;
    if (mm !== undefined) ceiling.torchGflops = gflopsPerSecond(MATMUL_FLOPS, median(mm.ms));
  }
  if (flags.peers.includes('tfjs')) {
    reports.tfjs = await runPeer('tfjs', () => runTfjsPeer({ quick, timeoutMs: peerTimeoutMs }), notes);
  }

  // 4. gesso, in this process.
  const measurements: Measurement[] = [];
  for (const workload of WORKLOADS) {
    log(`gesso ${workload}, ${rounds.warmup}+${rounds.rounds} rounds`);
    const g = await gessoWorkload(workload, { ...rounds, threads: THREADS, seed: 1 }).catch((err: unknown): { skipped: string } => {
      const message = err instanceof Error ? err.message : String(err);
      notes.push(`gesso ${workload} failed: ${message}`);
      log(`gesso ${workload} failed: ${message}`);
      return { skipped: 'failed (see notes)' };
    });
    if ('skipped' in g) {
      measurements.push({ workload, step: 'forward', peer: 'gesso', result: { skipped: g.skipped } });
      measurements.push({ workload, step: 'train', peer: 'gesso', result: { skipped: g.skipped } });
      continue;
    }
    measurements.push({ workload, step: 'forward', peer: 'gesso', result: { ms: g.forwardMs, backend: 'ort' } });
    measurements.push({ workload, step: 'train', peer: 'gesso', result: { ms: g.trainMs, backend: 'ort' } });
    for (const n of g.notes ?? []) notes.push(`gesso: ${n}`);
    if (g.params !== undefined && g.params !== workloadParams(workload)) {
      notes.push(`gesso ${workload} has ${g.params} parameters; REFERENCE.md says ${workloadParams(workload)}`);
    }
  }
  for (const name of flags.peers) {
    const report = reports[name] ?? null;
    measurements.push(...peerMeasurements(name, report, `${name} peer failed`));
    for (const n of report?.notes ?? []) notes.push(`${name}: ${n}`);
    for (const workload of WORKLOADS) {
      const p = report?.workloads[workload]?.params;
      if (p !== undefined && p !== workloadParams(workload))
        notes.push(`${name} ${workload} has ${p} parameters; REFERENCE.md says ${workloadParams(workload)}`);
    }
  }

  const loadAtEnd = currentLoad();
  const busy = busyWarning([machine.loadAverage, loadAtEnd], machine.nproc);
  if (busy !== null) notes.unshift(busy);

  const rows = buildRows(measurements, ceiling);
  const versions: Record<string, string> = { 'onnxruntime-node': packageVersion('onnxruntime-node') };
  for (const name of flags.peers) Object.assign(versions, reports[name]?.versions ?? {});

  const mode = quick ? '--quick' : 'full';
  const gessoStatus = rows.find((r) => r.peer === 'gesso' && r.status !== 'ok')?.status;
  const ceilingLine = `ORT ${fmt(ceiling.ortGflops)} GFLOP/s, PyTorch ${fmt(ceiling.torchGflops)} GFLOP/s (${MATMUL_N}³ float32 MatMul, ${THREADS} threads, medians)`;
  console.log(`\nceiling: ${ceilingLine}`);
  console.log(textTable(rows));
  console.log('gesso speedup = peer median ms / gesso median ms (above 1: gesso is faster).');
  for (const n of notes) console.log(`note: ${n}`);

  if (flags.write) {
    const path = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
    writeSection(
      path,
      'engine',
      sectionBody({ machine, loadAtEnd, versions, mode, rounds, ceilingLine, table: markdownTable(rows), notes, torchOptions: flags.openblasCoretype }),
    );
    log(`wrote the engine section of ${path}`);
  }

  console.log(
    JSON.stringify(
      headline(rows, ceiling, {
        bench: 'engine',
        mode,
        gesso: gessoStatus === undefined ? 'ok' : `skipped: ${gessoStatus}`,
        threads: THREADS,
        load_avg_start: machine.loadAverage,
        load_avg_end: loadAtEnd,
      }),
    ),
  );
}

function fmt(v: number | null): string {
  return v === null ? 'n/a' : v.toFixed(1);
}

interface SectionInput {
  machine: ReturnType<typeof machineInfo>;
  loadAtEnd: number;
  versions: Record<string, string>;
  mode: string;
  rounds: { warmup: number; rounds: number };
  ceilingLine: string;
  table: string;
  notes: string[];
  torchOptions: string | undefined;
}

function sectionBody(s: SectionInput): string {
  const m = s.machine;
  const versions = Object.entries(s.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const torchEnv = `${TORCH_UNSET_ENV.join(' and ')} removed from its environment${s.torchOptions === undefined ? '' : `, then OPENBLAS_CORETYPE=${s.torchOptions} set`}`;
  return [
    '## Engine: reference conv net and transformer block (`npm run bench:engine`)',
    '',
    `Workloads, FLOP counting and peers: [bench/REFERENCE.md](bench/REFERENCE.md). Run ${m.date} (${s.mode}) at commit ${m.gitCommit}.`,
    '',
    `- Machine: ${m.cpuModel}, nproc ${m.nproc}, ${m.simd}, ${m.memoryGiB} GiB; Node ${m.node}. 1-minute load average ${m.loadAverage} at the start, ${s.loadAtEnd} at the end.`,
    `- Versions: ${versions}.`,
    `- Rounds: PyTorch, ORT and gesso: median of ${s.rounds.rounds} after ${s.rounds.warmup} warm-up; tfjs: see the rounds column. ${THREADS} threads for ORT and PyTorch (python: ${torchPython()}, ${torchEnv}).`,
    `- Ceiling: ${s.ceilingLine}; "% of ceiling" divides by the larger.`,
    '',
    s.table,
    '',
    'gesso speedup = peer median ms / gesso median ms (above 1: gesso is faster). Training GFLOP/s count 3 × forward FLOPs.',
    ...(s.notes.length > 0 ? ['', ...s.notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
}

await main();
