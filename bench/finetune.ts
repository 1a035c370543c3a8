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
import { GessoError, InputError } from '../src/core/errors.ts';
import { writeSection } from './lib/benchmarks-md.ts';
import { currentLoad, machineInfo } from './lib/machine.ts';
import { section, type SizeResult } from './lib/finetune-report.ts';
import { numbersField, numberField, runPart } from './lib/part.ts';
import { median } from './lib/rounds.ts';

const REPO = new URL('..', import.meta.url).pathname;

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
  const systemMs = numbersField(f, 'step_system_ms', src);
  const memory = f.memory as Record<string, { rss_mib: number }> | undefined;
  const sessionRss = memory?.['session creation']?.rss_mib;
  if (typeof sessionRss !== 'number') throw new GessoError(`${src}: field "memory" has no RSS after session creation`);
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
    stepSystemS: median(systemMs.slice(1)) / 1000,
    steps: stepMs.map((v) => Math.round(v) / 1000),
    loads: numbersField(f, 'loads', src),
    sessionRssMiB: sessionRss,
    peakRssMiB: part.maxRssBytes / 2 ** 20,
    sessionOptions: JSON.stringify(f.session_options ?? {}),
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
    json[`sd15_lora_session_rss_mib_${r.pixels}`] = Math.round(r.sessionRssMiB);
    json[`sd15_lora_peak_rss_mib_${r.pixels}`] = Math.round(r.peakRssMiB);
  }
  console.log(JSON.stringify(json));
}

await main();
