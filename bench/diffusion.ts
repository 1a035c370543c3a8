/**
 * `npm run bench:diffusion [-- --quick]`: text-to-image cost on this machine, one part after another,
 * each part in a child process of its own so that its peak resident memory is its own:
 *   1. the ceiling: 2048³ float32 MatMul in onnxruntime-node (here, before and after the parts) and in
 *      PyTorch (its peer, child process); the largest median rate is the ceiling (DESIGN.md §6);
 *   2. the shipped default model (models/gesso-clipart-v1): `generate()` with 20 steps, CFG, its
 *      scheduler and native size, upscaled: per-step UNet time, whole-image time, UNet FLOPs → % of ceiling;
 *   3. an SD 1.5-shaped UNet with random weights at 512×512 (64×64 latent, batch 2 = one CFG step):
 *      built and saved with external data to a temp folder (~3.5 GB, removed at the end), loaded in
 *      a gesso Session, timed per step.
 * Prints a table, rewrites the `diffusion` section of BENCHMARKS.md, and prints as its LAST line one
 * JSON object (sd15_unet_pct_of_peak, sd15_step_seconds, default_step_ms, default_image_seconds, peaks).
 *
 * Flags: --quick (fewer rounds), --no-write (leave BENCHMARKS.md), --model DIR (instead of the
 * default model), --only default,sd15 (which parts), --sd15-latent N (development only: a smaller
 * latent; BENCHMARKS.md is then not written).
 */
import { existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { InputError } from '../src/core/errors.ts';
import { writeSection } from './lib/benchmarks-md.ts';
import { diffusionSection } from './lib/diffusion-section.ts';
import { runChild } from './lib/child.ts';
import {
  diffusionHeadline,
  diffusionMarkdownTable,
  diffusionRows,
  diffusionTextTable,
  parseDefaultModel,
  parseSd15,
  type DefaultModelResult,
  type Outcome,
  type Sd15Result,
} from './lib/diffusion-report.ts';
import { busyWarning, currentLoad, machineInfo, packageVersion } from './lib/machine.ts';
import { timeOrtMatmul } from './lib/ort-matmul.ts';
import { runPart } from './lib/part.ts';
import { runTorchPeer, torchPython } from './lib/peers.ts';
import { gflopsPerSecond, median, type RoundsOptions } from './lib/rounds.ts';
import { MATMUL_FLOPS, MATMUL_N } from './lib/workloads.ts';

const THREADS = 2;
const PARTS = ['default', 'sd15'] as const;
type PartName = (typeof PARTS)[number];
const REPO = fileURLToPath(new URL('../', import.meta.url));
const DEFAULT_MODEL = join(REPO, 'models', 'gesso-clipart-v1');
const SD15_LATENT = 64;
/** Free space the SD 1.5 UNet needs in the temp folder: 3.44 GB of weights plus margin. */
const SD15_DISK_BYTES = 4 * 2 ** 30;

function log(message: string): void {
  process.stderr.write(`bench:diffusion: ${message}\n`);
}

interface Flags {
  quick: boolean;
  write: boolean;
  model: string;
  parts: PartName[];
  sd15Latent: number;
}

function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      model: { type: 'string' },
      only: { type: 'string', default: PARTS.join(',') },
      'sd15-latent': { type: 'string' },
    },
  });
  const parts = (values.only ?? '').split(',').filter((p) => p !== '');
  for (const p of parts) {
    if (!(PARTS as readonly string[]).includes(p)) throw new InputError(`--only: unknown part "${p}"; expected a comma-separated subset of ${PARTS.join(',')}`);
  }
  const latent = values['sd15-latent'] === undefined ? SD15_LATENT : Number(values['sd15-latent']);
  if (!Number.isInteger(latent) || latent < 8 || latent % 8 !== 0)
    throw new InputError(`--sd15-latent ${values['sd15-latent']}: expected a multiple of 8 (64 is 512×512)`);
  return {
    quick: values.quick === true,
    write: values['no-write'] !== true && latent === SD15_LATENT,
    model: values.model ?? DEFAULT_MODEL,
    parts: parts as PartName[],
    sd15Latent: latent,
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** ORT's MatMul rate in GFLOP/s (median of the rounds). */
async function ortCeiling(rounds: RoundsOptions): Promise<number> {
  log(`ORT ${MATMUL_N}³ MatMul, ${rounds.warmup}+${rounds.rounds} rounds`);
  return gflopsPerSecond(MATMUL_FLOPS, median(await timeOrtMatmul({ n: MATMUL_N, threads: THREADS, ...rounds })));
}

async function torchCeiling(quick: boolean, notes: string[]): Promise<{ gflops: number | null; version: string | null }> {
  log('PyTorch 2048³ MatMul (child process)');
  try {
    const report = await runTorchPeer({ quick, matmulOnly: true, timeoutMs: 5 * 60_000 });
    const mm = report.matmul;
    if (mm === undefined) throw new Error('it reported no matmul');
    return { gflops: gflopsPerSecond(MATMUL_FLOPS, median(mm.ms)), version: report.versions.torch ?? null };
  } catch (err) {
    notes.push(`PyTorch MatMul failed (ceiling is ORT's alone): ${errorMessage(err)}`);
    return { gflops: null, version: null };
  }
}

async function defaultPart(flags: Flags, label: string, rounds: RoundsOptions, notes: string[]): Promise<Outcome<DefaultModelResult>> {
  if (!existsSync(join(flags.model, 'model_index.json'))) {
    if (existsSync(flags.model)) notes.push(`${label} exists but has no model_index.json yet (the model is still being trained or written)`);
    return { skipped: `${label} not present` };
  }
  log(`default model ${label}: ${rounds.warmup}+${rounds.rounds} images (child process)`);
  try {
    const args = ['--model', flags.model, '--steps', '20', '--warmup', String(rounds.warmup), '--rounds', String(rounds.rounds), '--threads', String(THREADS)];
    const part = await runPart(join(REPO, 'bench', 'diffusion_default.ts'), args, 'default model', { timeoutMs: 30 * 60_000 });
    return { ok: parseDefaultModel(part, 'default model') };
  } catch (err) {
    notes.push(`default model failed: ${errorMessage(err)}`);
    return { skipped: 'failed (see notes)' };
  }
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

async function sd15Part(flags: Flags, rounds: RoundsOptions, notes: string[], loads: number[]): Promise<Outcome<Sd15Result>> {
  const free = freeBytes(tmpdir());
  if (free < SD15_DISK_BYTES)
    return { skipped: `${tmpdir()} has ${(free / 2 ** 30).toFixed(1)} GiB free; the SD 1.5 UNet needs ${SD15_DISK_BYTES / 2 ** 30} GiB` };
  const dir = mkdtempSync(join(tmpdir(), 'gesso-bench-sd15-'));
  // An interrupted run still removes the 3.4 GB folder (the children get the same signal).
  const onSignal = (signal: NodeJS.Signals): void => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    loads.push(currentLoad());
    log(`SD 1.5 UNet: build with random weights and save to ${dir} (child process)`);
    const latentArgs = ['--latent', String(flags.sd15Latent), '--batch', '2'];
    const build = await runPart(join(REPO, 'bench', 'diffusion_sd15_build.ts'), ['--out', dir, ...latentArgs], 'sd15 build', { timeoutMs: 15 * 60_000 });
    log(`SD 1.5 UNet: load and time ${rounds.warmup}+${rounds.rounds} steps (child process)`);
    const runArgs = [
      '--model',
      join(dir, 'model.onnx'),
      ...latentArgs,
      '--sequence',
      '77',
      '--warmup',
      String(rounds.warmup),
      '--rounds',
      String(rounds.rounds),
      '--threads',
      String(THREADS),
    ];
    const run = await runPart(join(REPO, 'bench', 'diffusion_unet_run.ts'), runArgs, 'sd15 run', { timeoutMs: 90 * 60_000 });
    loads.push(currentLoad());
    const result = parseSd15(build, run);
    if (result.warmupMs.length > 0)
      notes.push(
        `SD 1.5 UNet warm-up step${result.warmupMs.length > 1 ? 's' : ''} (not in the median): ${result.warmupMs.map((v) => `${(v / 1000).toFixed(1)} s`).join(', ')}; timed steps: ${result.ms.map((v) => `${(v / 1000).toFixed(1)} s`).join(', ')}`,
      );
    return { ok: result };
  } catch (err) {
    notes.push(`SD 1.5 UNet failed: ${errorMessage(err)}`);
    return { skipped: 'failed (see notes)' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

/** Whether Debian's PyTorch python can import diffusers (needed for a PyTorch SD 1.5 UNet peer). */
async function diffusersImportable(): Promise<boolean> {
  try {
    const r = await runChild(torchPython(), ['-c', 'import diffusers'], { timeoutMs: 60_000, echoStderr: false });
    return r.code === 0;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const { quick } = flags;
  const ceilingRounds = quick ? { warmup: 1, rounds: 3 } : { warmup: 3, rounds: 10 };
  // A default-model image takes about a second: more rounds cost little and steady the median on a busy machine.
  const defaultRounds = quick ? { warmup: 1, rounds: 5 } : { warmup: 2, rounds: 10 };
  const sd15Rounds = quick ? { warmup: 1, rounds: 2 } : { warmup: 1, rounds: 3 };
  const machine = machineInfo();
  const notes: string[] = [];
  const label = flags.model === DEFAULT_MODEL ? 'models/gesso-clipart-v1' : flags.model;

  // 1. Ceiling, first half.
  const ortStart = await ortCeiling(ceilingRounds);
  const torch = await torchCeiling(quick, notes);

  // 2. Default model.
  const def: Outcome<DefaultModelResult> = flags.parts.includes('default')
    ? await defaultPart(flags, label, defaultRounds, notes)
    : { skipped: 'not asked for (--only)' };

  // 3. SD 1.5-shaped UNet, and whether a PyTorch peer for it could run.
  const sd15Loads: number[] = [];
  let sd15: Outcome<Sd15Result> = { skipped: 'not asked for (--only)' };
  if (flags.parts.includes('sd15')) {
    sd15 = await sd15Part(flags, sd15Rounds, notes, sd15Loads);
    notes.push(
      (await diffusersImportable())
        ? 'PyTorch peer for the SD 1.5 UNet not written yet, though diffusers is importable'
        : `no PyTorch peer for the SD 1.5 UNet: diffusers is not importable by ${torchPython()}`,
    );
  }

  // 1. Ceiling, second half: the machine is shared, so the ceiling is measured on both sides of the parts.
  const ortEnd = await ortCeiling(ceilingRounds);
  const rates = [ortStart, ortEnd, torch.gflops].filter((r): r is number => r !== null);
  const ceiling = Math.max(...rates);

  const loadAtEnd = currentLoad();
  const busy = busyWarning([machine.loadAverage, ...sd15Loads, loadAtEnd], machine.nproc);
  if (busy !== null) notes.unshift(busy);
  if (flags.sd15Latent !== SD15_LATENT) notes.push(`--sd15-latent ${flags.sd15Latent}: development run, not SD 1.5 at 512×512; BENCHMARKS.md not written`);

  const rows = diffusionRows(def, sd15, ceiling);
  const ceilingLine = `ORT ${ortStart.toFixed(1)} GFLOP/s before the parts and ${ortEnd.toFixed(1)} after, PyTorch ${torch.gflops === null ? 'n/a' : torch.gflops.toFixed(1)} GFLOP/s (${MATMUL_N}³ float32 MatMul, ${THREADS} threads, medians); ceiling = the largest, ${ceiling.toFixed(1)} GFLOP/s`;
  console.log(`\nceiling: ${ceilingLine}`);
  console.log(diffusionTextTable(rows));
  for (const n of notes) console.log(`note: ${n}`);

  const mode = quick ? '--quick' : 'full';
  if (flags.write) {
    const path = join(REPO, 'BENCHMARKS.md');
    const versions = `onnxruntime-node ${packageVersion('onnxruntime-node')}${torch.version === null ? '' : `, torch ${torch.version}`}`;
    writeSection(
      path,
      'diffusion',
      diffusionSection({
        threads: THREADS,
        machine,
        loadAtEnd,
        sd15Loads,
        mode,
        versions,
        ceilingLine,
        def,
        sd15,
        rounds: { defaultRounds, sd15Rounds },
        table: diffusionMarkdownTable(rows),
        notes,
        label,
      }),
    );
    log(`wrote the diffusion section of ${relative(process.cwd(), path) || path}`);
  }

  console.log(
    JSON.stringify(
      diffusionHeadline(def, sd15, ceiling, {
        bench: 'diffusion',
        mode,
        ort_matmul_gflops: Number(Math.max(ortStart, ortEnd).toFixed(1)),
        torch_matmul_gflops: torch.gflops === null ? null : Number(torch.gflops.toFixed(1)),
        threads: THREADS,
        load_avg_start: machine.loadAverage,
        load_avg_sd15: sd15Loads,
        load_avg_end: loadAtEnd,
      }),
    ),
  );
}

await main();
