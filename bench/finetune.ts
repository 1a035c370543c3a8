/**
 * `npm run bench:finetune`: seconds per LoRA training step of an SD 1.5-shaped UNet (860M frozen
 * parameters, rank-4 adapters on its 128 attention projections, AdamW; what `gesso train finetune
 * --method lora` runs) at 256×256 and 512×512 pictures (32² and 64² latents), batch 1, after a warm-up;
 * each size in a child process of its own (bench/finetune_sd15_step.ts) so its peak RSS is its own.
 * Also reports graph build, training-step build and ORT session creation time. Writes the `finetune`
 * section of BENCHMARKS.md; the last line of stdout is one JSON object.
 *
 *   npm run bench:finetune -- [--latents 32,64] [--rounds 2] [--no-write]
 *
 * No PyTorch peer: diffusers is not importable by /usr/bin/python3 here (see bench:diffusion).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../src/core/errors.ts';
import { writeSection } from './lib/benchmarks-md.ts';
import { busyWarning, currentLoad, machineInfo, packageVersion } from './lib/machine.ts';
import { numbersField, numberField, runPart } from './lib/part.ts';
import { median } from './lib/rounds.ts';

const REPO = new URL('..', import.meta.url).pathname;

interface SizeResult {
  latent: number;
  pixels: number;
  forwardGflop: number;
  buildS: number;
  stepBuildS: number;
  sessionS: number;
  sessionCpuS: number;
  warmupS: number;
  stepS: number;
  stepCpuS: number;
  steps: number[];
  loads: number[];
  peakRssMiB: number;
}

async function measure(latent: number, rounds: number): Promise<SizeResult> {
  const part = await runPart(
    join(REPO, 'bench', 'finetune_sd15_step.ts'),
    ['--latent', String(latent), '--warmup', '1', '--rounds', String(rounds)],
    `sd15 lora ${latent}`,
    {
      timeoutMs: 120 * 60_000,
    },
  );
  const f = part.fields;
  const src = `sd15 lora ${latent}`;
  const stepMs = numbersField(f, 'step_ms', src);
  const cpuMs = numbersField(f, 'step_cpu_ms', src);
  return {
    latent,
    pixels: latent * 8,
    forwardGflop: numberField(f, 'forward_flops', src) / 1e9,
    buildS: numberField(f, 'build_ms', src) / 1000,
    stepBuildS: numberField(f, 'step_build_ms', src) / 1000,
    sessionS: numberField(f, 'session_ms', src) / 1000,
    sessionCpuS: numberField(f, 'session_cpu_ms', src) / 1000,
    warmupS: (stepMs[0] as number) / 1000,
    stepS: median(stepMs.slice(1)) / 1000,
    stepCpuS: median(cpuMs.slice(1)) / 1000,
    steps: stepMs.map((v) => Math.round(v) / 1000),
    loads: numbersField(f, 'loads', src),
    peakRssMiB: part.maxRssBytes / 2 ** 20,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { latents: { type: 'string', default: '32,64' }, rounds: { type: 'string', default: '2' }, 'no-write': { type: 'boolean' } },
  });
  const latents = values.latents.split(',').map(Number);
  if (latents.some((l) => !Number.isInteger(l) || l < 8 || l % 8 !== 0))
    throw new InputError(`--latents ${values.latents}: expected multiples of 8, e.g. 32,64`);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new InputError(`--rounds ${values.rounds}: expected a whole number >= 1`);
  const machine = machineInfo();
  const results: SizeResult[] = [];
  for (const latent of latents) {
    console.error(`SD 1.5 LoRA step at a ${latent}×${latent} latent (${latent * 8}² pictures) ...`);
    results.push(await measure(latent, rounds));
    // Written after each size: a 512² run can take an hour on a busy machine; what was measured is kept.
    const body = section(machine, results, rounds, latents);
    if (values['no-write'] !== true) writeSection(join(REPO, 'BENCHMARKS.md'), 'finetune', body);
    console.error(body);
  }
  const allLoads = [machine.loadAverage, ...results.flatMap((r) => r.loads), currentLoad()];
  const json: Record<string, number | number[] | string> = { load_average: allLoads };
  for (const r of results) {
    json[`sd15_lora_step_s_${r.pixels}`] = Number(r.stepS.toFixed(2));
    json[`sd15_lora_step_cpu_s_${r.pixels}`] = Number(r.stepCpuS.toFixed(2));
    json[`sd15_lora_session_s_${r.pixels}`] = Number(r.sessionS.toFixed(1));
    json[`sd15_lora_peak_rss_mib_${r.pixels}`] = Math.round(r.peakRssMiB);
  }
  console.log(JSON.stringify(json));
}

function section(machine: ReturnType<typeof machineInfo>, results: readonly SizeResult[], rounds: number, asked: readonly number[]): string {
  const allLoads = [machine.loadAverage, ...results.flatMap((r) => r.loads), currentLoad()];
  const fmt = (x: number, d = 1): string => x.toFixed(d);
  const rows = results.map(
    (r) =>
      `| ${r.pixels}×${r.pixels} (latent ${r.latent}²) | ${fmt(r.stepS)} | ${fmt(r.stepCpuS)} | ${fmt(r.warmupS)} | ${fmt(r.forwardGflop)} | ${fmt(r.buildS)} | ${fmt(r.stepBuildS)} | ${fmt(r.sessionS)} (CPU ${fmt(r.sessionCpuS)}) | ${fmt(r.peakRssMiB, 0)} | ${r.loads.map((l) => fmt(l)).join(' → ')} |`,
  );
  const missing = asked.filter((l) => !results.some((r) => r.latent === l));
  const busy = busyWarning(allLoads, machine.nproc);
  return [
    '## Fine-tuning: LoRA training step of an SD 1.5-shaped UNet (`npm run bench:finetune`)',
    '',
    `Run ${machine.date} at commit ${machine.gitCommit}. Machine: ${machine.cpuModel}, nproc ${machine.nproc}, ${machine.simd}, ${machine.memoryGiB} GiB; Node ${machine.node}, onnxruntime-node ${packageVersion('onnxruntime-node')}; 2 ORT intra-op threads; nice as the caller ran it.`,
    '',
    "- What runs: gesso's UNet2DCondition at diffusers' SD 1.5 config (860M parameters, built with zeros and filled by `fastRandomWeights`), every weight frozen, rank-4 LoRA adapters on all 128 attention projections (797,184 trainable values), one training step = forward + backward to the adapters + gradient clipping + AdamW, as one ONNX graph in an in-process gesso `TrainSession`. Batch 1, a 77×768 random text context, timestep 500, random noise target.",
    `- Per size: ${rounds} timed steps after 1 warm-up step, each size in its own child process. "step" is the median wall time, "CPU" the median CPU time of the process (ORT's threads included) over the timed steps; "forward GFLOP" is the UNet forward alone (2 × multiply-accumulates of Conv/MatMul/Gemm), for scale.`,
    '- No PyTorch peer: diffusers is not importable by /usr/bin/python3 here, so there is no ratio.',
    '',
    '| pictures | step s (median) | step CPU s | warm-up step s | forward GFLOP | graph build s | train-step build s | ORT session creation s | peak RSS MiB | load average (start → after session → after each step) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    ...(missing.length > 0 ? [`- not measured in this run (still running or stopped): ${missing.map((l) => `${l * 8}²`).join(', ')}`] : []),
    ...(busy ? [`- ${busy}`] : []),
  ].join('\n');
}

await main();
