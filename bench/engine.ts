/**
 * `npm run bench:engine [-- --quick]`: gesso's tensor engine against PyTorch CPU and tfjs on the
 * reference workloads of bench/REFERENCE.md, in one run, one after another (DESIGN.md §6):
 *   1. the ceiling: 2048³ float32 MatMul in onnxruntime-node (here) and in PyTorch (its peer)
 *   2. the PyTorch peer (child processes): first its BLAS core type (each OPENBLAS_CORETYPE candidate's
 *      MatMul rate, checked against float64; the fastest correct one is used), then fp32 and bf16
 *      autocast, fp32 both as installed and with glibc keeping freed memory ("torch-kept", GLIBC_KEEP_MEMORY
 *      in bench/lib/peers.ts; the speed-ups in the JSON line use the faster fp32 configuration), 3. the tfjs peer (child process), 4. gesso (in process), 5. the per-pass table
 *      (bench/engine_passes.ts: one conv's forward, dX and dW at stride 1 and 2, and forward + backward
 *      of ConvTranspose, GroupNorm, InstanceNorm and attention; per core, PyTorch and gesso alternating).
 * Prints a table, rewrites the `engine` section of BENCHMARKS.md, and prints as its LAST line one
 * JSON object (speedups are torch ms / gesso ms; null while gesso is skipped).
 *
 * 6. the training steps of gesso's own networks (bench/engine_steps.ts: the GAN of `gesso train gan` and
 *    the style network of `gesso train style`, with bench:gan's and bench:style's code) against PyTorch.
 *
 * Flags: --quick (fewer rounds, no tfjs training), --no-write (leave BENCHMARKS.md),
 * --peers torch,tfjs (which peers to run), --openblas-coretype NAME (skip the core-type check and use
 * this OPENBLAS_CORETYPE for the PyTorch children), --no-passes (skip the per-pass table),
 * --no-model-steps (skip the GAN and style-network steps), --threads N (ORT and PyTorch threads).
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { InputError } from '../src/core/errors.ts';
import { gessoWorkload } from './gesso_engine.ts';
import { writeSection } from './lib/benchmarks-md.ts';
import { busyWarning, currentLoad, machineInfo, packageVersion } from './lib/machine.ts';
import { timeOrtMatmul } from './lib/ort-matmul.ts';
import { GLIBC_KEEP_MEMORY, runTfjsPeer, runTorchBlasCheck, runTorchPeer, TORCH_UNSET_ENV, torchPython, type BlasCheck } from './lib/peers.ts';
import { passMarkdown, passText, runPassTable, type PassRow } from './engine_passes.ts';
import { runModelSteps, stepsJson, stepsMarkdown, stepsText, type ModelStepRow } from './engine_steps.ts';
import { buildRows, headline, markdownTable, textTable, type Ceiling, type Measurement } from './lib/report.ts';
import { isTimed, type PeerReport, type StepResult } from './lib/results.ts';
import { gflopsPerSecond, median } from './lib/rounds.ts';
import { MATMUL_FLOPS, MATMUL_N, WORKLOADS, workloadParams, type WorkloadName } from './lib/workloads.ts';

/** Default threads for every engine that takes a count (ORT, PyTorch); tfjs in Node uses one. */
const DEFAULT_THREADS = 2;
const KNOWN_PEERS = ['torch', 'tfjs'] as const;
type PeerName = (typeof KNOWN_PEERS)[number];

function log(message: string): void {
  process.stderr.write(`bench:engine: ${message}\n`);
}

/** OPENBLAS_CORETYPE values tried for the PyTorch peer (null: unset, OpenBLAS detects the CPU itself). */
const CORETYPE_CANDIDATES: readonly (string | null)[] = [null, 'SkylakeX', 'Cooperlake', 'Haswell', 'Zen'];
/** A BLAS whose float32 product is further than this from float64 (relative to the largest entry) is wrong. */
const MAX_BLAS_REL_ERR = 1e-4;
/** Below this fraction of ORT's MatMul rate the PyTorch peer counts as handicapped (DESIGN.md §6). */
const HANDICAP_FRACTION = 0.5;

function parseFlags(argv: string[]): {
  quick: boolean;
  write: boolean;
  peers: PeerName[];
  openblasCoretype?: string;
  passes: boolean;
  modelSteps: boolean;
  threads: number;
} {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      peers: { type: 'string', default: KNOWN_PEERS.join(',') },
      'openblas-coretype': { type: 'string' },
      'no-passes': { type: 'boolean', default: false },
      'no-model-steps': { type: 'boolean', default: false },
      threads: { type: 'string', default: String(DEFAULT_THREADS) },
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
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new InputError(`--threads "${values.threads}": expected a whole number of threads, 1 or more`);
  return {
    quick: values.quick === true,
    write: values['no-write'] !== true,
    peers: peers as PeerName[],
    openblasCoretype: coretype,
    passes: values['no-passes'] !== true,
    modelSteps: values['no-model-steps'] !== true,
    threads,
  };
}

/** Runs one peer; a peer that fails becomes a note and "skipped" rows, not a failed benchmark. */
async function runPeer(name: string, run: () => Promise<PeerReport>, notes: string[]): Promise<PeerReport | null> {
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

/**
 * The PyTorch peer at its best: each candidate OPENBLAS_CORETYPE's MatMul rate and error against
 * float64; the fastest correct one wins. Returns the choice (null: unset) and a note per candidate.
 */
async function chooseCoretype(quick: boolean, notes: string[]): Promise<{ coretype: string | null; checks: BlasCheck[] }> {
  const checks: BlasCheck[] = [];
  for (const candidate of CORETYPE_CANDIDATES) {
    log(`PyTorch BLAS check, OPENBLAS_CORETYPE=${candidate ?? '(unset)'}`);
    try {
      checks.push(await runTorchBlasCheck(candidate, { quick, timeoutMs: 5 * 60_000 }));
    } catch (err) {
      notes.push(`BLAS check with OPENBLAS_CORETYPE=${candidate ?? '(unset)'} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const correct = checks.filter((c) => c.maxRelErr <= MAX_BLAS_REL_ERR);
  const best = correct.sort((a, b) => median(a.matmulMs) - median(b.matmulMs))[0];
  return { coretype: best?.coretype ?? null, checks };
}

function blasTable(checks: readonly BlasCheck[], chosen: string | null): string {
  const rows = checks.map(
    (c) =>
      `| ${c.coretype ?? '(unset)'} | ${c.corename ?? 'n/a'} | ${gflopsPerSecond(MATMUL_FLOPS, median(c.matmulMs)).toFixed(1)} | ${c.maxRelErr.toExponential(1)} | ${c.maxRelErr <= MAX_BLAS_REL_ERR ? 'yes' : 'NO'} | ${c.coretype === chosen ? 'used' : ''} |`,
  );
  return [
    '| OPENBLAS_CORETYPE | OpenBLAS kernel | torch.mm 2048³ GFLOP/s | max rel. error vs float64 (512³) | correct | |',
    '| --- | --- | ---: | ---: | --- | --- |',
    ...rows,
  ].join('\n');
}

function peerMeasurements(name: string, report: PeerReport | null, failed: string): Measurement[] {
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
  const THREADS = flags.threads;
  const rounds = quick ? { warmup: 1, rounds: 3 } : { warmup: 3, rounds: 10 };
  const machine = machineInfo();
  const notes: string[] = [];

  // 1. ORT's side of the ceiling (PyTorch's comes with its peer).
  log(`ORT ${MATMUL_N}³ MatMul, ${rounds.warmup}+${rounds.rounds} rounds`);
  const ortMs = await timeOrtMatmul({ n: MATMUL_N, threads: THREADS, ...rounds });
  const ceiling: Ceiling = { ortGflops: gflopsPerSecond(MATMUL_FLOPS, median(ortMs)), torchGflops: null };

  // 2–4. The PyTorch peers (child processes) and gesso (this process) in alternating blocks, so a
  // change in the machine's load falls on both sides; each block has its own warm-up. tfjs runs once.
  const peerTimeoutMs = quick ? 5 * 60_000 : 30 * 60_000;
  const blocks = quick ? 1 : 3;
  const perBlock = { warmup: rounds.warmup, rounds: Math.ceil(rounds.rounds / blocks) };
  const reports: Partial<Record<string, PeerReport | null>> = {};
  let coretype: string | null = flags.openblasCoretype ?? null;
  let blasChecks: BlasCheck[] = [];
  const torch = flags.peers.includes('torch');
  if (torch && flags.openblasCoretype === undefined) ({ coretype, checks: blasChecks } = await chooseCoretype(quick, notes));
  const openblasCoretype = coretype ?? undefined;
  const gesso = new Map<WorkloadName, GessoTimes | { skipped: string }>();
  for (let b = 0; b < blocks; b++) {
    log(`block ${b + 1}/${blocks}: ${perBlock.warmup}+${perBlock.rounds} rounds each`);
    if (torch) {
      for (const [name, autocastBf16, keepFreedMemory] of [
        ['torch', false, false],
        ['torch-kept', false, true],
        ['torch-bf16', true, false],
      ] as const) {
        const r = await runPeer(
          name,
          () => runTorchPeer({ quick, timeoutMs: peerTimeoutMs, openblasCoretype, autocastBf16, keepFreedMemory, threads: THREADS, ...perBlock }),
          notes,
        );
        reports[name] = b === 0 ? r : mergeReports(reports[name] ?? null, r);
      }
    }
    for (const workload of WORKLOADS) {
      const previous = gesso.get(workload);
      if (previous !== undefined && 'skipped' in previous) continue;
      log(`gesso ${workload}`);
      const g = await gessoWorkload(workload, { ...perBlock, threads: THREADS, seed: 1 }).catch((err: unknown): { skipped: string } => {
        const message = err instanceof Error ? err.message : String(err);
        notes.push(`gesso ${workload} failed: ${message}`);
        log(`gesso ${workload} failed: ${message}`);
        return { skipped: 'failed (see notes)' };
      });
      gesso.set(workload, 'skipped' in g ? g : mergeGesso(previous, g));
      if (b === 0 && !('skipped' in g) && g.params !== undefined && g.params !== workloadParams(workload)) {
        notes.push(`gesso ${workload} has ${g.params} parameters; REFERENCE.md says ${workloadParams(workload)}`);
      }
    }
  }
  const mm = reports.torch?.matmul;
  if (mm !== undefined) ceiling.torchGflops = gflopsPerSecond(MATMUL_FLOPS, median(mm.ms));
  if (flags.peers.includes('tfjs')) {
    reports.tfjs = await runPeer('tfjs', () => runTfjsPeer({ quick, timeoutMs: peerTimeoutMs }), notes);
  }

  const measurements: Measurement[] = [];
  for (const workload of WORKLOADS) {
    const g = gesso.get(workload) ?? { skipped: 'not run' };
    if ('skipped' in g) {
      measurements.push({ workload, step: 'forward', peer: 'gesso', result: { skipped: g.skipped } });
      measurements.push({ workload, step: 'train', peer: 'gesso', result: { skipped: g.skipped } });
      continue;
    }
    measurements.push({ workload, step: 'forward', peer: 'gesso', result: { ms: g.forwardMs, cpuMs: g.forwardCpuMs, backend: 'ort' } });
    measurements.push({ workload, step: 'train', peer: 'gesso', result: { ms: g.trainMs, cpuMs: g.trainCpuMs, backend: 'ort' } });
  }
  const peerNames = flags.peers.flatMap((p) => (p === 'torch' ? ['torch', 'torch-kept', 'torch-bf16'] : [p]));
  for (const name of peerNames) {
    const report = reports[name] ?? null;
    measurements.push(...peerMeasurements(name, report, `${name} peer failed`));
    for (const n of report?.notes ?? []) notes.push(`${name}: ${n}`);
    for (const workload of WORKLOADS) {
      const p = report?.workloads[workload]?.params;
      if (p !== undefined && p !== workloadParams(workload))
        notes.push(`${name} ${workload} has ${p} parameters; REFERENCE.md says ${workloadParams(workload)}`);
    }
  }

  // 5. The per-pass table, per core.
  let passRows: PassRow[] = [];
  if (flags.passes) {
    const table = await runPassTable({ quick, coretype, log });
    passRows = table.rows;
    notes.push(...table.notes);
  }

  // 6. The training steps of gesso's own networks (they need the PyTorch peer).
  let stepRows: ModelStepRow[] = [];
  if (flags.modelSteps && torch) {
    const steps = await runModelSteps({ quick, threads: THREADS, coretype, log });
    stepRows = steps.rows;
    notes.push(...steps.notes);
  }

  // A peer whose MatMul runs far below ORT's is on a slow BLAS: its ratios would flatter gesso.
  const handicapped = ceiling.torchGflops !== null && ceiling.ortGflops !== null && ceiling.torchGflops < HANDICAP_FRACTION * ceiling.ortGflops;
  if (handicapped) {
    const warning = `WARNING: the PyTorch peer's MatMul runs at ${fmt(ceiling.torchGflops)} GFLOP/s, below ${HANDICAP_FRACTION * 100}% of ORT's ${fmt(ceiling.ortGflops)}: it is on a slow BLAS (python3-torch without libopenblas0-pthread uses the reference BLAS). Ratios against it are not reported; install libopenblas0-pthread.`;
    notes.unshift(warning);
    log(`\n${'!'.repeat(100)}\n${warning}\n${'!'.repeat(100)}`);
  }

  const loadAtEnd = currentLoad();
  const busy = busyWarning([machine.loadAverage, loadAtEnd], machine.nproc);
  if (busy !== null) notes.unshift(busy);

  const rows = buildRows(measurements, ceiling);
  const versions: Record<string, string> = { 'onnxruntime-node': packageVersion('onnxruntime-node') };
  for (const name of peerNames) Object.assign(versions, reports[name]?.versions ?? {});

  const mode = quick ? '--quick' : 'full';
  const gessoStatus = rows.find((r) => r.peer === 'gesso' && r.status !== 'ok')?.status;
  const ceilingLine = `ORT ${fmt(ceiling.ortGflops)} GFLOP/s, PyTorch ${fmt(ceiling.torchGflops)} GFLOP/s (${MATMUL_N}³ float32 MatMul, ${THREADS} threads, medians)`;
  console.log(`\nceiling: ${ceilingLine}`);
  console.log(textTable(rows));
  console.log('gesso speedup = peer median ms / gesso median ms (above 1: gesso is faster).');
  if (passRows.length > 0) console.log(`\nper pass, one thread each, CPU ms medians:\n${passText(passRows)}`);
  if (stepRows.length > 0) console.log(`\ntraining steps of gesso's own networks, medians:\n${stepsText(stepRows)}`);
  for (const n of notes) console.log(`note: ${n}`);

  if (flags.write) {
    const path = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
    writeSection(
      path,
      'engine',
      sectionBody({
        threads: THREADS,
        blocks,
        machine,
        loadAtEnd,
        versions,
        mode,
        rounds,
        ceilingLine,
        table: markdownTable(rows),
        notes,
        coretype,
        blasChecks,
        passRows,
        stepRows,
      }),
    );
    log(`wrote the engine section of ${path}`);
  }

  const head = headline(rows, ceiling, {});
  if (handicapped) for (const key of Object.keys(head)) if (key.includes('speedup_vs_torch')) head[key] = null;
  const bf16 = (workload: string, step: string): number | null => {
    const r = rows.find((x) => x.peer === 'torch-bf16' && x.workload === workload && x.step === step);
    return handicapped || r === undefined || r.gessoSpeedup === null ? null : Number(r.gessoSpeedup.toFixed(3));
  };
  const passSpeedups = Object.fromEntries(
    passRows
      .filter((r) => r.used)
      .map((r) => [
        `pass_${r.caseId.replace(/[^A-Za-z0-9]+/g, '_').replace(/_+$/, '')}_${r.pass}_speedup`.toLowerCase(),
        r.speedup === null ? null : Number(r.speedup.toFixed(3)),
      ]),
  );
  console.log(
    JSON.stringify({
      ...head,
      infer_speedup_vs_torch_bf16: bf16('convnet', 'forward'),
      train_speedup_vs_torch_bf16: bf16('convnet', 'train'),
      torch_openblas_coretype: coretype,
      torch_peer_handicapped: handicapped,
      ...stepsJson(stepRows, handicapped),
      ...passSpeedups,
      bench: 'engine',
      mode,
      gesso: gessoStatus === undefined ? 'ok' : `skipped: ${gessoStatus}`,
      threads: THREADS,
      load_avg_start: machine.loadAverage,
      load_avg_end: loadAtEnd,
    }),
  );
}

type GessoTimes = { forwardMs: number[]; forwardCpuMs: number[]; trainMs: number[]; trainCpuMs: number[] };

function mergeGesso(a: GessoTimes | undefined, b: GessoTimes): GessoTimes {
  if (a === undefined) return b;
  return {
    forwardMs: [...a.forwardMs, ...b.forwardMs],
    forwardCpuMs: [...a.forwardCpuMs, ...b.forwardCpuMs],
    trainMs: [...a.trainMs, ...b.trainMs],
    trainCpuMs: [...a.trainCpuMs, ...b.trainCpuMs],
  };
}

/** One peer's rounds from two blocks as one report (a failed block adds nothing). */
function mergeReports(a: PeerReport | null, b: PeerReport | null): PeerReport | null {
  if (a === null || b === null) return a ?? b;
  const step = (x: StepResult, y: StepResult): StepResult => {
    if (!isTimed(x) || !isTimed(y)) return isTimed(x) ? x : y;
    return { ...x, ms: [...x.ms, ...y.ms], ...(x.cpuMs && y.cpuMs ? { cpuMs: [...x.cpuMs, ...y.cpuMs] } : {}) };
  };
  const workloads: PeerReport['workloads'] = { ...a.workloads };
  for (const name of WORKLOADS) {
    const [wa, wb] = [a.workloads[name], b.workloads[name]];
    if (wa !== undefined && wb !== undefined) workloads[name] = { ...wa, forward: step(wa.forward, wb.forward), train: step(wa.train, wb.train) };
    else if (wb !== undefined) workloads[name] = wb;
  }
  const matmul = a.matmul && b.matmul ? { ms: [...a.matmul.ms, ...b.matmul.ms] } : (a.matmul ?? b.matmul);
  return { ...a, workloads, notes: [...new Set([...a.notes, ...b.notes])], ...(matmul ? { matmul } : {}) };
}

function fmt(v: number | null): string {
  return v === null ? 'n/a' : v.toFixed(1);
}

interface SectionInput {
  threads: number;
  blocks: number;
  machine: ReturnType<typeof machineInfo>;
  loadAtEnd: number;
  versions: Record<string, string>;
  mode: string;
  rounds: { warmup: number; rounds: number };
  ceilingLine: string;
  table: string;
  notes: string[];
  coretype: string | null;
  blasChecks: BlasCheck[];
  passRows: PassRow[];
  stepRows: ModelStepRow[];
}

function sectionBody(s: SectionInput): string {
  const m = s.machine;
  const versions = Object.entries(s.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const torchEnv = `${TORCH_UNSET_ENV.join(' and ')} removed from its environment${s.coretype === null ? '' : `, then OPENBLAS_CORETYPE=${s.coretype} set`}`;
  return [
    '## Engine: reference conv net and transformer block (`npm run bench:engine`)',
    '',
    `Workloads, FLOP counting and peers: [bench/REFERENCE.md](bench/REFERENCE.md). Run ${m.date} (${s.mode}) at commit ${m.gitCommit}.`,
    '',
    `- Machine: ${m.cpuModel}, nproc ${m.nproc}, ${m.simd}, ${m.memoryGiB} GiB; Node ${m.node}. 1-minute load average ${m.loadAverage} at the start, ${s.loadAtEnd} at the end.`,
    `- Versions: ${versions}.`,
    `- Rounds: PyTorch and gesso alternate in ${s.blocks} block(s) of ${s.rounds.warmup} warm-up + ${Math.ceil(s.rounds.rounds / s.blocks)} timed rounds each (PyTorch fp32 as installed, PyTorch fp32 with glibc keeping freed memory, PyTorch bf16, then gesso), medians over all timed rounds; ORT MatMul: median of ${s.rounds.rounds} after ${s.rounds.warmup} warm-up; tfjs: see the rounds column. ${s.threads} thread(s) for ORT and PyTorch (python: ${torchPython()}, ${torchEnv}).`,
    `- Ceiling: ${s.ceilingLine}; "% of ceiling" divides by the larger.`,
    '',
    s.table,
    '',
    `gesso speedup = peer median ms / gesso median ms (above 1: gesso is faster). Training GFLOP/s count 3 × forward FLOPs. "torch-kept" is PyTorch fp32 with \`GLIBC_TUNABLES=${GLIBC_KEEP_MEMORY}\` (glibc keeps freed memory, so PyTorch's per-call buffers stop page-faulting; docs/engine-dnnl.md); the speed-ups of the JSON line use the faster of "torch" and "torch-kept". "torch-bf16" is PyTorch with \`torch.autocast("cpu", torch.bfloat16)\` around the forward pass (its backward follows in bf16 where autocast cast).`,
    ...(s.blasChecks.length > 0
      ? [
          '',
          "### The PyTorch peer's BLAS",
          '',
          'Each OPENBLAS_CORETYPE candidate in its own child process; the fastest whose result is correct is used for every PyTorch run above and below.',
          '',
          blasTable(s.blasChecks, s.coretype),
        ]
      : []),
    ...(s.passRows.length > 0
      ? [
          '',
          '### Per pass, per core',
          '',
          'One thread each (`intraOpNumThreads` 1, `torch.set_num_threads(1)`), so the times are per core. CPU ms of the process, medians: on a shared machine other jobs stretch wall time far more than the work a run does. PyTorch and gesso alternate (round r: the PyTorch child, then gesso). The gesso models sum each result of over 64k elements to a scalar inside the graph (one extra read), so the time is the pass and not a copy of its result into JavaScript. Conv passes: PyTorch runs `F.conv2d` and `aten.convolution_backward` with one output mask (the kernels autograd calls); gesso runs each variant its rules can emit, "(used)" marking what the training step runs. Other rows: forward + backward of one layer given the output gradient (gesso: its autodiff; PyTorch: autograd). bf16: the same with bf16 operands / autocast.',
          '',
          passMarkdown(s.passRows),
        ]
      : []),
    ...(s.stepRows.length > 0
      ? [
          '',
          "### Training steps of gesso's own networks",
          '',
          `The GAN of \`gesso train gan\` and the style network of \`gesso train style\`, with the code of \`npm run bench:gan\` and \`npm run bench:style\` (bench/lib/gan-step.ts, bench/lib/style-step.ts), ${s.threads} thread(s) each; gesso runs before and after its PyTorch peer (bench/peers/torch_gan.py, bench/peers/torch_style.py), medians. CPU ms: every thread of the process (PyTorch's OpenMP threads spin while they wait, which counts).`,
          '',
          stepsMarkdown(s.stepRows),
        ]
      : []),
    ...(s.notes.length > 0 ? ['', ...s.notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
}

await main();
