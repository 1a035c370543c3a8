/**
 * Child part of `npm run bench:finetune`: one LoRA training step of an SD 1.5-shaped UNet (SD15_UNET,
 * 860M frozen parameters, adapters of rank 4 on every attention projection as `gesso train finetune
 * --method lora` puts them) at one latent size, batch 1. Prints one JSON line: graph build, train-step
 * build and ORT session creation times, every step's wall and CPU time (warm-ups included; the session
 * runs in this process, so CPU time counts ORT's threads), loss, and this process's peak RSS.
 *
 *   node --import tsx bench/finetune_sd15_step.ts [--latent 32] [--warmup 1] [--rounds 2] [--threads 2]
 *
 * ORT options: fine-tuning's own (FINETUNE_SESSION_OPTIONS: no memory pattern); for comparisons
 * `--arena on|off` (ORT's CPU memory arena) and `--mem-pattern on|off` override them.
 *
 * Weights: built with init 'zeros', then `fastRandomWeights` (repeating random blocks at PyTorch's
 * scale): the arithmetic of a step does not depend on the values.
 */
import { parseArgs } from 'node:util';
import { buildTrainStep } from '../src/autodiff/train-step.ts';
import { InputError } from '../src/core/errors.ts';
import { Rng } from '../src/core/rng.ts';
import { countFlops } from '../src/graph/flops.ts';
import { Graph } from '../src/graph/graph.ts';
import { mul, reduceMean, sub } from '../src/graph/ops/index.ts';
import { fastRandomWeights, SD15_UNET } from '../src/models/fixtures/sd15-shapes.ts';
import { UNet2DCondition } from '../src/models/unet2d-condition.ts';
import type { SessionOptions } from '../src/runtime/runner.ts';
import type { HostTensor } from '../src/runtime/tensor.ts';
import { attachLora, findLinears, freezeAll, UNET_ATTENTION_TARGETS } from '../src/train/finetune/lora-attach.ts';
import { FINETUNE_SESSION_OPTIONS } from '../src/train/finetune/finetune-common.ts';
import { TrainSession } from '../src/train/train-session.ts';
import { currentLoad } from './lib/machine.ts';
import { peakRssBytes, printPartResult } from './lib/part.ts';

/** Resident memory now and at its peak so far, in MiB, after a named phase (also logged to stderr as it happens). */
function memoryAfter(phase: string, log: Record<string, { rss_mib: number; peak_mib: number }>): void {
  const entry = { rss_mib: Math.round(process.memoryUsage().rss / 2 ** 20), peak_mib: Math.round(peakRssBytes() / 2 ** 20) };
  log[phase] = entry;
  console.error(`  ${new Date().toISOString()} after ${phase}: RSS ${entry.rss_mib} MiB, peak ${entry.peak_mib} MiB`);
}

function intFlag(name: string, raw: string | undefined, fallback: number, min: number): number {
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < min) throw new InputError(`--${name} ${raw}: expected an integer >= ${min}`);
  return v;
}

/** `--NAME on|off` as one SessionOptions field, or nothing when the flag is absent (ORT's default). */
function onOff<K extends 'enableCpuMemArena' | 'enableMemPattern'>(name: string, raw: string | undefined, key: K): Partial<Record<K, boolean>> {
  if (raw === undefined) return {};
  if (raw !== 'on' && raw !== 'off') throw new InputError(`--${name} ${raw}: expected on or off`);
  return { [key]: raw === 'on' } as Partial<Record<K, boolean>>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      latent: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      threads: { type: 'string' },
      arena: { type: 'string' },
      'mem-pattern': { type: 'string' },
    },
  });
  const latent = intFlag('latent', values.latent, 32, 8);
  if (latent % 8 !== 0) throw new InputError(`--latent ${latent}: SD 1.5's UNet needs a multiple of 8`);
  const warmup = intFlag('warmup', values.warmup, 1, 0);
  const rounds = intFlag('rounds', values.rounds, 2, 1);
  const threads = intFlag('threads', values.threads, 2, 1);
  const session: SessionOptions = {
    ...FINETUNE_SESSION_OPTIONS,
    ...onOff('arena', values.arena, 'enableCpuMemArena'),
    ...onOff('mem-pattern', values['mem-pattern'], 'enableMemPattern'),
  };
  const loads: number[] = [currentLoad()];
  const memory: Record<string, { rss_mib: number; peak_mib: number }> = {};

  // 1. The UNet, frozen, with rank-4 adapters on its attention projections.
  let t = performance.now();
  const g = new Graph();
  const c = SD15_UNET;
  const unet = new UNet2DCondition(g, c, new Rng(0), 'zeros');
  fastRandomWeights(g, 0);
  freezeAll(g);
  const attached = attachLora(
    g,
    'unet',
    findLinears(unet).filter((l) => UNET_ATTENTION_TARGETS.test(l.name)),
    { rank: 4, alpha: 4, seed: 1 },
  );
  const noisy = g.input('noisy', [1, c.in_channels, latent, latent]); // (1, 4, h, w)
  const ts = g.input('t', [1], 'int64');
  const context = g.input('context', [1, 77, c.cross_attention_dim]); // (1, 77, 768)
  const target = g.input('target', [1, c.out_channels, latent, latent]);
  const predicted = unet.forward(noisy, ts, context);
  const forwardFlops = countFlops(g, [predicted]);
  const d = sub(predicted, target);
  const loss = reduceMean(mul(d, d));
  const buildMs = performance.now() - t;
  memoryAfter('graph build', memory);

  // 2. The training-step graph (forward, backward to the adapters, AdamW) and its ORT session.
  t = performance.now();
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adamw', weightDecay: 0 }, clipGradNorm: 1 });
  const stepBuildMs = performance.now() - t;
  memoryAfter('train-step build', memory);
  t = performance.now();
  const sessionCpu = process.cpuUsage();
  const trainSession = await TrainSession.create(g, spec, { inProcess: true, threads, session });
  const sessionMs = performance.now() - t;
  const sessionUsed = process.cpuUsage(sessionCpu);
  loads.push(currentLoad());
  memoryAfter('session creation', memory);

  // 3. Steps on seeded random batches; every step timed, warm-ups included.
  const rng = new Rng(2);
  const dims = [1, c.in_channels, latent, latent];
  const size = dims.reduce((a, b) => a * b, 1);
  const batch = (): Record<string, HostTensor> => ({
    noisy: { dtype: 'float32', dims, data: rng.normal(size) },
    t: { dtype: 'int64', dims: [1], data: BigInt64Array.of(500n) },
    context: { dtype: 'float32', dims: [1, 77, c.cross_attention_dim], data: rng.normal(77 * c.cross_attention_dim) },
    target: { dtype: 'float32', dims, data: rng.normal(size) },
  });
  const stepMs: number[] = [];
  const stepCpuMs: number[] = [];
  const stepSystemMs: number[] = []; // kernel time: page faults of freshly allocated buffers, mostly
  const losses: number[] = [];
  try {
    for (let i = 0; i < warmup + rounds; i++) {
      const feeds = batch();
      const start = performance.now();
      const cpu = process.cpuUsage(); // the session runs in this process: ORT's threads count here
      const r = await trainSession.step(feeds, 1e-4);
      stepMs.push(performance.now() - start);
      const used = process.cpuUsage(cpu);
      stepCpuMs.push((used.user + used.system) / 1000);
      stepSystemMs.push(used.system / 1000);
      losses.push(r.loss);
      loads.push(currentLoad());
      memoryAfter(`step ${i + 1}`, memory);
    }
  } finally {
    await trainSession.release();
  }
  printPartResult({
    part: 'sd15-lora-step',
    latent,
    threads,
    session_options: session,
    params: [...g.params.values()].reduce((a, p) => a + p.value.length, 0),
    trainable_params: g.paramCount(),
    adapted_modules: attached.length,
    forward_flops: forwardFlops,
    train_step_bytes: spec.model.bytes.length,
    build_ms: buildMs,
    step_build_ms: stepBuildMs,
    session_ms: sessionMs,
    session_cpu_ms: (sessionUsed.user + sessionUsed.system) / 1000,
    warmup,
    step_ms: stepMs,
    step_cpu_ms: stepCpuMs,
    step_system_ms: stepSystemMs,
    losses,
    loads,
    memory,
  });
}

await main();
