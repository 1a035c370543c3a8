/**
 * `npm run bench:gan [-- --quick] [-- --no-write]`: the GAN of `gesso train gan` on this machine.
 *   1. one training step (both networks, DiffAugment, spectral norm, minibatch std, Adam, EMA) at batch 64, 64×64,
 *      in gesso (one ONNX training-step graph, 2 threads) and in PyTorch CPU on the same architecture
 *      (bench/peers/torch_gan.py, same parameter counts, checked), rounds interleaved: gesso, PyTorch,
 *      gesso; medians of round medians;
 *   2. a walk's frames per second (slerp keyframes, mapping + synthesis per frame, no file writing)
 *      at 64×64 (the shipped model when present) and 128×128 (the same architecture, random weights).
 * Rewrites the `gan` section of BENCHMARKS.md; the LAST line of stdout is one JSON object with
 * gan_train_speedup_vs_torch (PyTorch wall ms / gesso wall ms), the same ratio of CPU time per step
 * (all threads; steadier on a shared machine, though PyTorch's OpenMP threads spin while they wait,
 * which counts as CPU time), the step times and the walk rates.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from '../src/core/rng.ts';
import { Graph } from '../src/graph/graph.ts';
import { ganConfig, Generator } from '../src/models/gan.ts';
import { GanModel } from '../src/pipelines/gan-model.ts';
import { LatentResolver, renderSpecs } from '../src/pipelines/gan-explore.ts';
import { seedSpec, walkSpecs } from '../src/pipelines/explore-specs.ts';
import { writeGeneratorFolder } from '../src/train/gan/gan-export-folder.ts';
import { writeSection } from './lib/benchmarks-md.ts';
import { GAN_BATCH, GAN_SIZE, GessoGanStep, torchGanStep } from './lib/gan-step.ts';
import { currentLoad, machineInfo } from './lib/machine.ts';
import { median } from './lib/rounds.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SHIPPED = join(REPO, 'models', 'gesso-gan-stars-fruit-64');
const BATCH = GAN_BATCH;
const SIZE = GAN_SIZE;
const THREADS = 2;

function log(message: string): void {
  process.stderr.write(`bench:gan: ${message}\n`);
}

async function walkFps(model: GanModel, frames: number): Promise<number> {
  const specs = walkSpecs([1, 2, 3, 4].map(seedSpec), { frames: frames / 4 + 1 });
  const resolver = new LatentResolver(model);
  await renderSpecs(resolver, specs.slice(0, 2)); // warm-up
  const t = performance.now();
  await renderSpecs(new LatentResolver(model), specs);
  return specs.length / ((performance.now() - t) / 1000);
}

async function randomGenerator(size: number, dir: string): Promise<GanModel> {
  const config = ganConfig(size);
  const g = new Graph();
  new Generator(g, new Rng(0), config);
  await writeGeneratorFolder(dir, config, new Map([...g.params].map(([n, p]) => [n, p.value])), { note: 'random weights (benchmark)' });
  return GanModel.load(dir, { threads: THREADS });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { quick: { type: 'boolean', default: false }, 'no-write': { type: 'boolean', default: false } },
  });
  const quick = values.quick ?? false;
  const rounds = quick ? 2 : 3;
  const steps = quick ? 2 : 3;
  const machine = machineInfo();
  const loads = [currentLoad()];
  log(`load average ${loads[0]} on ${machine.nproc} CPUs`);

  // 1. Training step (bench/lib/gan-step.ts, shared with bench:engine): gesso, PyTorch, gesso.
  const gan = await GessoGanStep.create(THREADS);
  const { paramsG, paramsD } = gan;
  log(`gesso: ${rounds} rounds of ${steps} steps`);
  const gessoA = await gan.time(rounds, steps);
  loads.push(currentLoad());
  log('torch: same rounds in a child process');
  const torchRun = await torchGanStep({ rounds, steps, threads: THREADS, paramsG, paramsD });
  const torch = { ms_per_step: torchRun.wall, cpu_ms_per_step: torchRun.cpu, torch: torchRun.torch };
  loads.push(currentLoad());
  const gessoB = await gan.time(rounds, steps);
  await gan.release();
  loads.push(currentLoad());
  const gessoMs = median([...gessoA.wall, ...gessoB.wall]);
  const torchMs = median(torch.ms_per_step);
  const speedup = torchMs / gessoMs;
  const gessoCpu = median([...gessoA.cpu, ...gessoB.cpu]);
  const torchCpu = median(torch.cpu_ms_per_step);
  const cpuSpeedup = torchCpu / gessoCpu;
  log(
    `train step: gesso ${gessoMs.toFixed(0)} ms (CPU ${gessoCpu.toFixed(0)} ms), PyTorch ${torchMs.toFixed(0)} ms (CPU ${torchCpu.toFixed(0)} ms) -> ${speedup.toFixed(2)}x wall, ${cpuSpeedup.toFixed(2)}x CPU`,
  );

  // 2. Walk frames per second.
  const tmp = mkdtempSync(join(tmpdir(), 'gesso-bench-gan-'));
  const fps: Record<number, number> = {};
  try {
    for (const size of [64, 128]) {
      const model =
        size === 64 && existsSync(join(SHIPPED, 'gan.json'))
          ? await GanModel.load(SHIPPED, { threads: THREADS })
          : await randomGenerator(size, join(tmp, String(size)));
      const rates: number[] = [];
      for (let r = 0; r < rounds; r++) rates.push(await walkFps(model, quick ? 16 : 48));
      fps[size] = median(rates);
      await model.release();
      log(`walk at ${size}x${size}: ${fps[size]!.toFixed(1)} frames/s`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  loads.push(currentLoad());

  const maxLoad = Math.max(...loads);
  const section = [
    '## GAN (`npm run bench:gan`)',
    '',
    `${machine.date}, ${machine.cpuModel} (${machine.simd}), ${machine.nproc} CPUs, ${THREADS} threads each, load average ${loads.map((l) => l.toFixed(1)).join(' → ')}${maxLoad > machine.nproc ? ' (**busy machine: other work competed for the CPUs; ratios are the meaningful numbers**)' : ''}.`,
    '',
    `Training step of \`gesso train gan\` at batch ${BATCH}, ${SIZE}×${SIZE} (G ${paramsG.toLocaleString('en')} + D ${paramsD.toLocaleString('en')} parameters; both networks, DiffAugment, spectral norm, minibatch std, TTUR learning rates, Adam, EMA), medians of ${rounds * 2} gesso rounds (before and after the peer) and ${rounds} PyTorch rounds of ${steps} steps:`,
    '',
    '| engine | wall ms per step | speed vs PyTorch (wall) | CPU ms per step (all threads) | speed vs PyTorch (CPU) |',
    '| --- | --- | --- | --- | --- |',
    `| gesso (one ONNX training-step graph, onnxruntime-node) | ${gessoMs.toFixed(0)} | ${speedup.toFixed(2)}× | ${gessoCpu.toFixed(0)} | ${cpuSpeedup.toFixed(2)}× |`,
    `| PyTorch ${torch.torch} CPU (same architecture, bench/peers/torch_gan.py) | ${torchMs.toFixed(0)} | 1.00× | ${torchCpu.toFixed(0)} | 1.00× |`,
    '',
    `gesso rounds: ${[...gessoA.wall, ...gessoB.wall].map((t) => t.toFixed(0)).join(', ')} ms; PyTorch rounds: ${torch.ms_per_step.map((t) => t.toFixed(0)).join(', ')} ms. On a machine busier than its CPU count, wall time also measures how each engine's threads cope with being preempted (PyTorch's OpenMP threads wait for each other at every op); CPU time per step is the steadier comparison, though it still flatters gesso somewhat: OpenMP threads spin while they wait, and spinning counts as CPU time (onnxruntime's spinning is off in gesso).`,
    '',
    `Walk rendering (slerp through 4 keyframes, mapping + synthesis per frame, one frame per run so a frame never depends on its batch; no file writing): **${fps[64]!.toFixed(1)} frames/s at 64×64**${existsSync(SHIPPED) ? ' (shipped model)' : ' (random weights)'}, **${fps[128]!.toFixed(1)} frames/s at 128×128** (random weights, same architecture).`,
  ].join('\n');
  if (!values['no-write']) writeSection(join(REPO, 'BENCHMARKS.md'), 'gan', section);
  process.stderr.write(`${section}\n`);
  console.log(
    JSON.stringify({
      gan_train_speedup_vs_torch: Number(speedup.toFixed(3)),
      gan_train_cpu_speedup_vs_torch: Number(cpuSpeedup.toFixed(3)),
      gesso_step_ms: Number(gessoMs.toFixed(1)),
      torch_step_ms: Number(torchMs.toFixed(1)),
      gesso_step_cpu_ms: Number(gessoCpu.toFixed(1)),
      torch_step_cpu_ms: Number(torchCpu.toFixed(1)),
      walk_fps_64: Number(fps[64]!.toFixed(2)),
      walk_fps_128: Number(fps[128]!.toFixed(2)),
      load_average_max: maxLoad,
    }),
  );
}

await main();
